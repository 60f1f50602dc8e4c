"""The Adam update of one parameter array in a single pass (NumPy takes about ten, each a trip through memory).

Every operation is done in the parameter's dtype, in the same order as the NumPy twin
(:func:`bnn.kernels.reference.adam_update`, PyTorch's formula), so both give the same bits.
"""
import numpy as np
from numba import njit, prange

# Below this many elements a parallel loop costs more to start (~40 us to wake a sleeping thread) than it saves; a
# model has many small bias and BatchNorm arrays. (The serial loop runs ~3 ns per element, the parallel one ~1 ns
# even on one thread: only the parallel version gets vectorized.)
PARALLEL_MIN_SIZE = 1 << 14


@njit(inline="always")
def _update(i, p, g, m, v, settings):
    step_size, beta1, beta2, one_minus_beta1, one_minus_beta2, sqrt_correction2, eps, weight_decay = settings
    grad = g[i] + weight_decay * p[i]
    m[i] = m[i] * beta1 + one_minus_beta1 * grad
    v[i] = v[i] * beta2 + one_minus_beta2 * grad * grad
    p[i] -= step_size * m[i] / (np.sqrt(v[i]) / sqrt_correction2 + eps)


@njit(parallel=True, cache=True)
def _adam_parallel(p, g, m, v, settings):
    for i in prange(p.size):
        _update(i, p, g, m, v, settings)


@njit(cache=True)
def _adam_serial(p, g, m, v, settings):
    for i in range(p.size):
        _update(i, p, g, m, v, settings)


def adam_update(p, g, m, v, step_size, beta1, beta2, sqrt_correction2, eps, weight_decay):
    """In place on the contiguous arrays p (parameter), m, v (moments), given the gradient g (all one shape):
    g' = g + weight_decay * p; m = beta1 m + (1 - beta1) g'; v = beta2 v + (1 - beta2) g'^2;
    p -= step_size * m / (sqrt(v) / sqrt_correction2 + eps)."""
    real = p.dtype.type
    kernel = _adam_parallel if p.size >= PARALLEL_MIN_SIZE else _adam_serial
    settings = tuple(real(value) for value in (step_size, beta1, beta2, 1 - beta1, 1 - beta2, sqrt_correction2, eps,
                                                weight_decay))
    kernel(p.reshape(-1), np.ascontiguousarray(g).reshape(-1), m.reshape(-1), v.reshape(-1), settings)
