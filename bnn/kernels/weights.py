"""XNOR-Net weight binarization and its latent-weight gradient, one parallel task per output unit.

Per step, a binary layer turns its latent float weights W (O, K) into signs and a scale alpha per output unit, and
turns dL/dW_b back into dL/dW (formulas in :mod:`bnn.layers.binary_weights`). In NumPy these are 5-10 passes over
W (`np.where` with scalars alone took 1.6 ms for LeNet-4's 500 x 800 dense layer); here each is one pass per row.
The row sums are accumulated in float64, so they match the float32 NumPy twins in :mod:`bnn.kernels.reference`
within float32 rounding, not bit for bit; the signs match exactly.
"""
import numpy as np
from numba import njit, prange

_FAST = {"reassoc"}   # vectorized sums; NaN and inf still propagate


@njit(parallel=True, cache=True, fastmath=_FAST)
def _binarize_kernel(w, signs, alpha):
    units, fan_in = w.shape
    for o in prange(units):
        total = 0.0
        for k in range(fan_in):
            v = w[o, k]
            signs[o, k] = 1 if v >= 0 else -1
            total += abs(v)
        alpha[o] = total / fan_in


@njit(parallel=True, cache=True, fastmath=_FAST)
def _latent_grad_kernel(w, dwb, signs, alpha, full, scale, dw):
    units, fan_in = w.shape
    for o in prange(units):
        mean_term = 0.0
        if full:
            for k in range(fan_in):
                mean_term += signs[o, k] * dwb[o, k]
            mean_term /= fan_in
        for k in range(fan_in):
            inside = 1.0 if abs(w[o, k]) <= 1 else 0.0
            if full:
                dw[o, k] = scale * (alpha[o] * inside * dwb[o, k] + signs[o, k] * mean_term)
            else:
                dw[o, k] = scale * dwb[o, k] * (1.0 / fan_in + alpha[o] * inside)


def _rows(a):
    return np.ascontiguousarray(a).reshape(a.shape[0], -1)


def xnor_binarize(w):
    """w: (O, ...) latent weights -> (signs in {-1, +1} shaped like w, same dtype; alpha (O,) = mean |W| per unit).
    sign(0) = +1."""
    signs = np.empty(w.shape, w.dtype)
    alpha = np.empty(w.shape[0], w.dtype)
    _binarize_kernel(_rows(w), signs.reshape(w.shape[0], -1), alpha)
    return signs, alpha


def xnor_latent_grad(w, dwb, signs, alpha, full, scale):
    """dL/dW (shaped and typed like w) from dL/dW_b for XNOR-Net weights W_b = alpha * sign(W):
    full=True:  dW_i = scale * (alpha * 1{|W_i| <= 1} * dW_b,i + sign(W_i) / n * sum_j sign(W_j) dW_b,j)
    full=False: dW_i = scale * dW_b,i * (1/n + alpha * 1{|W_i| <= 1})   (the XNOR-Net paper's form)
    over the n weights of each output unit."""
    dw = np.empty(w.shape, w.dtype)
    _latent_grad_kernel(_rows(w), _rows(dwb), _rows(signs), alpha, bool(full), float(scale),
                        dw.reshape(w.shape[0], -1))
    return dw
