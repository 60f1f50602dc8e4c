"""The Adam update of one parameter array in a single pass (NumPy takes about ten, each a trip through memory).

Every operation is done in the parameter's dtype, in the same order as the NumPy twin
(:func:`bnn.kernels.reference.adam_update`, PyTorch's formula), so both give the same bits.
"""
import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def _adam_kernel(p, g, m, v, step_size, beta1, beta2, one_minus_beta1, one_minus_beta2, sqrt_correction2, eps,
                 weight_decay):
    for i in prange(p.size):
        grad = g[i] + weight_decay * p[i]
        m[i] = m[i] * beta1 + one_minus_beta1 * grad
        v[i] = v[i] * beta2 + one_minus_beta2 * grad * grad
        p[i] -= step_size * m[i] / (np.sqrt(v[i]) / sqrt_correction2 + eps)


def adam_update(p, g, m, v, step_size, beta1, beta2, sqrt_correction2, eps, weight_decay):
    """In place on the contiguous arrays p (parameter), m, v (moments), given the gradient g (all one shape):
    g' = g + weight_decay * p; m = beta1 m + (1 - beta1) g'; v = beta2 v + (1 - beta2) g'^2;
    p -= step_size * m / (sqrt(v) / sqrt_correction2 + eps)."""
    real = p.dtype.type
    _adam_kernel(p.reshape(-1), np.ascontiguousarray(g).reshape(-1), m.reshape(-1), v.reshape(-1), real(step_size),
                 real(beta1), real(beta2), real(1 - beta1), real(1 - beta2), real(sqrt_correction2), real(eps),
                 real(weight_decay))
