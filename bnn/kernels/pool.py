"""Max and average pooling over square windows (kernel k, stride, zero or -inf padding), forward and backward.

One (image, channel) plane per parallel task, and one pass over it, where NumPy would take k*k whole-array passes
(the twins in :mod:`bnn.kernels.reference`).

Max pooling: padded cells count as -inf, so a padded cell never wins against a real one. The forward pass records
which cell of each window won; the backward pass sends the window's gradient there. Ties go to the first maximum in
row-major window order, so ties (common after a ReLU) do not multiply the gradient. A NaN wins its window and stays:
it must reach the loss, not vanish.

Average pooling: padded cells count as 0 and the divisor is always k*k (PyTorch's count_include_pad=True, which the
reference NiN uses). Its backward pass adds in the same order as its twin (window offset outermost), so overlapping
windows sum to the same bits.
"""
import functools

import numpy as np
from numba import njit, prange

from .im2col import conv_output_size


@functools.lru_cache(maxsize=None)
def _maxpool_forward_kernel(k, stride):
    """The forward kernel compiled for one window size and stride. As compile-time constants they let the compiler
    unroll the window loop: with k and stride as run-time arguments the same loop was 3-10x slower (LeNet-4's 2x2
    pooling 3.4 ms instead of 0.9; branch-free selects alone did not help)."""

    @njit(parallel=True, cache=True)
    def kernel(x, padding, out, winner):
        n_img, channels, height, width = x.shape
        oh_n, ow_n = out.shape[2], out.shape[3]
        for plane in prange(n_img * channels):
            n, c = plane // channels, plane % channels
            for oy in range(oh_n):
                for ox in range(ow_n):
                    if padding == 0:   # every cell is inside: start from the first
                        best = x[n, c, oy * stride, ox * stride]
                        arg = 0
                        for cell in range(1, k * k):
                            v = x[n, c, oy * stride + cell // k, ox * stride + cell % k]
                            better = (v > best) | ((v != v) & (best == best))   # a NaN wins and then stays
                            best = v if better else best
                            arg = cell if better else arg
                    else:
                        best = -np.inf
                        arg = 0
                        for cell in range(k * k):
                            iy, ix = oy * stride - padding + cell // k, ox * stride - padding + cell % k
                            if 0 <= iy < height and 0 <= ix < width:
                                v = x[n, c, iy, ix]
                                better = (v > best) | ((v != v) & (best == best))
                                best = v if better else best
                                arg = cell if better else arg
                    out[n, c, oy, ox] = best
                    winner[n, c, oy, ox] = arg

    return kernel


@njit(parallel=True, cache=True)
def _maxpool_backward_kernel(dout, winner, k, stride, padding, dx):
    n_img, channels, height, width = dx.shape
    oh_n, ow_n = dout.shape[2], dout.shape[3]
    for plane in prange(n_img * channels):   # one plane per task: overlapping windows never race
        n, c = plane // channels, plane % channels
        dx[n, c] = 0   # zeroed here, in parallel and while in cache, not by np.zeros beforehand
        for oy in range(oh_n):
            for ox in range(ow_n):
                arg = winner[n, c, oy, ox]
                iy = oy * stride - padding + arg // k
                ix = ox * stride - padding + arg % k
                if 0 <= iy < height and 0 <= ix < width:
                    dx[n, c, iy, ix] += dout[n, c, oy, ox]


@njit(parallel=True, cache=True)
def _avgpool_forward_kernel(x, k, stride, padding, out):
    n_img, channels, height, width = x.shape
    oh_n, ow_n = out.shape[2], out.shape[3]
    for plane in prange(n_img * channels):
        n, c = plane // channels, plane % channels
        for oy in range(oh_n):
            for ox in range(ow_n):
                out[n, c, oy, ox] = 0   # the sum stays in x's dtype, as in the twin
                for dy in range(k):
                    iy = oy * stride - padding + dy
                    if 0 <= iy < height:
                        for dx in range(k):
                            ix = ox * stride - padding + dx
                            if 0 <= ix < width:
                                out[n, c, oy, ox] += x[n, c, iy, ix]
                out[n, c, oy, ox] /= k * k


@njit(parallel=True, cache=True)
def _avgpool_backward_kernel(share, k, stride, padding, dx):
    n_img, channels, height, width = dx.shape
    oh_n, ow_n = share.shape[2], share.shape[3]
    for plane in prange(n_img * channels):
        n, c = plane // channels, plane % channels
        dx[n, c] = 0
        for dy in range(k):
            for dxo in range(k):
                for oy in range(oh_n):
                    iy = oy * stride - padding + dy
                    if 0 <= iy < height:
                        for ox in range(ow_n):
                            ix = ox * stride - padding + dxo
                            if 0 <= ix < width:
                                dx[n, c, iy, ix] += share[n, c, oy, ox]


def _geometry(input_shape, k, stride, padding):
    """Plain ints (one compiled signature) and the output shape (N, C, OH, OW)."""
    k, stride, padding = int(k), int(stride), int(padding)
    oh = conv_output_size(input_shape[2], k, stride, padding)
    return k, stride, padding, tuple(input_shape[:2]) + (oh, conv_output_size(input_shape[3], k, stride, padding))


def maxpool2d(x, k, stride, padding):
    """x: (N, C, H, W) float -> (out (N, C, OH, OW), winner (N, C, OH, OW): the offset dy*k + dx of each window's
    maximum, uint8 for k*k <= 256 else int32)."""
    x = np.ascontiguousarray(x)
    k, stride, padding, out_shape = _geometry(x.shape, k, stride, padding)
    out = np.empty(out_shape, x.dtype)
    winner = np.empty(out.shape, np.uint8 if k * k <= 256 else np.int32)
    _maxpool_forward_kernel(k, stride)(x, padding, out, winner)
    return out, winner


def maxpool2d_backward(dout, winner, input_shape, k, stride, padding):
    """dout, winner: (N, C, OH, OW) -> dx of input_shape (N, C, H, W): each window's gradient at its winner."""
    dx = np.empty(input_shape, dout.dtype)
    _maxpool_backward_kernel(np.ascontiguousarray(dout), winner, int(k), int(stride), int(padding), dx)
    return dx


def avgpool2d(x, k, stride, padding):
    """x: (N, C, H, W) float -> (N, C, OH, OW) window means, zero padding counted."""
    x = np.ascontiguousarray(x)
    k, stride, padding, out_shape = _geometry(x.shape, k, stride, padding)
    out = np.empty(out_shape, x.dtype)
    _avgpool_forward_kernel(x, k, stride, padding, out)
    return out


def avgpool2d_backward(dout, input_shape, k, stride, padding):
    """dout: (N, C, OH, OW) -> dx of input_shape: each window's gradient spread evenly over its k*k cells."""
    dx = np.empty(input_shape, dout.dtype)
    share = dout / dout.dtype.type(k * k)   # divided in dout's dtype, as the twin does
    _avgpool_backward_kernel(share, int(k), int(stride), int(padding), dx)
    return dx
