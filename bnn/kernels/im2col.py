"""im2col / col2im for float convolutions (the full-precision first layer, and binary-layer backward passes).

Layout: ``cols[(n*OH + oh)*OW + ow, (c*KH + kh)*KW + kw] = xpad[n, c, oh*stride + kh, ow*stride + kw]`` where
``xpad`` is ``x`` zero-padded by ``padding`` on each spatial side.  The column order matches ``w.reshape(O, -1)``
for OIHW weights, so a convolution is ``cols @ w.reshape(O, -1).T`` reshaped to (N, OH, OW, O).
:func:`col2im` is the adjoint (transpose) of :func:`im2col`: it scatters columns back and sums overlaps, which is
exactly the input gradient of the convolution.
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


@njit(parallel=True, cache=True)
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


@njit(parallel=True, cache=True)
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
    cols = np.empty((n * oh * ow, c * kh * kw), x.dtype)
    _im2col_kernel(np.ascontiguousarray(x), kh, kw, stride, padding, cols)
    return cols


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """Adjoint of :func:`im2col`: cols (N*OH*OW, C*KH*KW) → (N, C, H, W) = x_shape, overlaps summed."""
    _check_float(cols, "cols")
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape}")
    n, c, h, w = (int(s) for s in x_shape)
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    if cols.shape != (n * oh * ow, c * kh * kw):
        raise ValueError(f"cols has shape {cols.shape}, expected {(n * oh * ow, c * kh * kw)} for x_shape {x_shape}")
    x = np.zeros((n, c, h, w), cols.dtype)
    _col2im_kernel(np.ascontiguousarray(cols), kh, kw, stride, padding, x)
    return x
