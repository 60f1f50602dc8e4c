"""im2col / col2im for float convolutions (the full-precision first layer, and binary-layer backward passes).

Layout: ``cols[(n*OH + oh)*OW + ow, (c*KH + kh)*KW + kw] = xpad[n, c, oh*stride + kh, ow*stride + kw]`` where
``xpad`` is ``x`` zero-padded by ``padding`` on each spatial side.  The column order matches ``w.reshape(O, -1)``
for OIHW weights, so a convolution is ``cols @ w.reshape(O, -1).T`` reshaped to (N, OH, OW, O).
:func:`col2im` is the adjoint (transpose) of :func:`im2col`: it scatters columns back and sums overlaps, which is
exactly the input gradient of the convolution.

A 1×1 kernel with stride 1 and no padding makes both a pure NCHW ↔ (N·H·W, C) transposition.  The generic gather
reads one element per channel plane for each pixel; planes are H·W·4 bytes apart, often a multiple of 4 KiB, so they
collide in the same L1 sets.  That case goes through a cache-blocked transpose instead (about 3× faster).

The kernels release the GIL (``nogil``): the convolution layers call them from several threads of the batch pool
(:mod:`bnn.parallel`) at once, between matrix products.
"""
import numpy as np
from numba import njit, prange


def conv_output_size(size, k, stride, padding):
    """Output length of one spatial axis: floor((size + 2*padding - k) / stride) + 1 (validated to be >= 1)."""
    for name, value, low in (("kernel size", k, 1), ("stride", stride, 1), ("padding", padding, 0)):
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    out = (size + 2 * padding - k) // stride + 1
    if out < 1:
        raise ValueError(f"kernel {k} with padding {padding} does not fit an input of size {size}")
    return int(out)


def _check_float(x, name):
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be a float32 or float64 numpy array, got {getattr(x, 'dtype', type(x))}")


@njit(parallel=True, nogil=True, cache=True)
def _transpose_last_two(src, dst):
    """dst[n, j, i] = src[n, i, j] for src (N, I, J), in blocks of 64 j by 16 i so both sides stay in L1."""
    n_img, ni, nj = src.shape
    n_blocks = (nj + 63) // 64
    for task in prange(n_img * n_blocks):
        n = task // n_blocks
        j0 = (task % n_blocks) * 64
        j1 = min(nj, j0 + 64)
        for i0 in range(0, ni, 16):
            i1 = min(ni, i0 + 16)
            for j in range(j0, j1):
                for i in range(i0, i1):
                    dst[n, j, i] = src[n, i, j]


def _is_pointwise(kh, kw, stride, padding):
    return kh == 1 and kw == 1 and stride == 1 and padding == 0


@njit(parallel=True, nogil=True, cache=True)
def _im2col_kernel(x, kh, kw, stride, padding, cols):
    n_img, channels, height, width = x.shape
    oh_n = (height + 2 * padding - kh) // stride + 1
    ow_n = (width + 2 * padding - kw) // stride + 1
    for n in prange(n_img):
        for oh in range(oh_n):
            for ow in range(ow_n):
                row = (n * oh_n + oh) * ow_n + ow
                for c in range(channels):
                    for ky in range(kh):
                        iy = oh * stride - padding + ky
                        for kx in range(kw):
                            ix = ow * stride - padding + kx
                            col = (c * kh + ky) * kw + kx
                            if 0 <= iy < height and 0 <= ix < width:
                                cols[row, col] = x[n, c, iy, ix]
                            else:
                                cols[row, col] = 0


@njit(parallel=True, nogil=True, cache=True)
def _col2im_kernel(cols, kh, kw, stride, padding, x):
    n_img, channels, height, width = x.shape
    oh_n = (height + 2 * padding - kh) // stride + 1
    ow_n = (width + 2 * padding - kw) // stride + 1
    for n in prange(n_img):  # one image per thread: the scatter-add never races
        for oh in range(oh_n):
            for ow in range(ow_n):
                row = (n * oh_n + oh) * ow_n + ow
                for c in range(channels):
                    for ky in range(kh):
                        iy = oh * stride - padding + ky
                        if iy < 0 or iy >= height:
                            continue
                        for kx in range(kw):
                            ix = ow * stride - padding + kx
                            if 0 <= ix < width:
                                x[n, c, iy, ix] += cols[row, (c * kh + ky) * kw + kx]


def im2col(x, kh, kw, stride=1, padding=0):
    """x: (N, C, H, W) float32/float64 → cols: (N*OH*OW, C*KH*KW) of the same dtype (layout in module doc)."""
    _check_float(x, "x")
    if x.ndim != 4:
        raise ValueError(f"x must be NCHW with 4 dimensions, got shape {x.shape}")
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    kh, kw, stride, padding = int(kh), int(kw), int(stride), int(padding)   # one compiled signature
    cols = np.empty((n * oh * ow, c * kh * kw), x.dtype)
    if _is_pointwise(kh, kw, stride, padding):
        _transpose_last_two(np.ascontiguousarray(x).reshape(n, c, h * w), cols.reshape(n, h * w, c))
    else:
        _im2col_kernel(np.ascontiguousarray(x), kh, kw, stride, padding, cols)
    return cols


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """Adjoint of :func:`im2col`: cols (N*OH*OW, C*KH*KW) → (N, C, H, W) = x_shape, overlaps summed."""
    _check_float(cols, "cols")
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape}")
    n, c, h, w = (int(s) for s in x_shape)
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    kh, kw, stride, padding = int(kh), int(kw), int(stride), int(padding)   # one compiled signature
    if cols.shape != (n * oh * ow, c * kh * kw):
        raise ValueError(f"cols has shape {cols.shape}, expected {(n * oh * ow, c * kh * kw)} for x_shape {x_shape}")
    if _is_pointwise(kh, kw, stride, padding):
        x = np.empty((n, c, h, w), cols.dtype)
        _transpose_last_two(np.ascontiguousarray(cols).reshape(n, h * w, c), x.reshape(n, c, h * w))
    else:
        x = np.zeros((n, c, h, w), cols.dtype)
        _col2im_kernel(np.ascontiguousarray(cols), kh, kw, stride, padding, x)
    return x
