"""Batch normalization over (N, C, L) views: per-channel statistics, normalization and the backward pass, each in
one parallel task per channel.

NumPy needs about ten passes over the tensor for a training forward and backward (a reduction, a subtraction, a
second reduction, a scaling, ...); these kernels read it twice and write it once. A channel's N*L values fit in L2
cache for the models here, so the second read of a pass is cheap. Sums are accumulated in float64 with
reassociation allowed (so the compiler can vectorize them): they are more accurate than the float32 sums of the
NumPy twin in :mod:`bnn.kernels.reference`, and equal to it within float32 rounding, not bit for bit.
"""
import numpy as np
from numba import njit, prange

_FAST = {"reassoc"}   # only reassociation: NaN and inf still propagate


@njit(parallel=True, cache=True, fastmath=_FAST)
def _forward_kernel(x, gamma, beta, eps, affine, xhat, out, mean, var, inv_std):
    n, channels, length = x.shape
    m = n * length
    for c in prange(channels):
        total = 0.0
        for i in range(n):
            for j in range(length):
                total += x[i, c, j]
        mu = total / m
        squares = 0.0
        for i in range(n):
            for j in range(length):
                d = x[i, c, j] - mu
                squares += d * d
        v = squares / m
        inv = 1.0 / np.sqrt(v + eps)
        mean[c], var[c], inv_std[c] = mu, v, inv
        for i in range(n):
            for j in range(length):
                xhat[i, c, j] = (x[i, c, j] - mu) * inv
        if affine:
            g, b = gamma[c], beta[c]
            for i in range(n):
                for j in range(length):
                    out[i, c, j] = xhat[i, c, j] * g + b


@njit(parallel=True, cache=True, fastmath=_FAST)
def _backward_kernel(dout, xhat, scale, dx, dgamma, dbeta):
    n, channels, length = dout.shape
    m = n * length
    for c in prange(channels):
        sum_d, sum_dx = 0.0, 0.0
        for i in range(n):
            for j in range(length):
                sum_d += dout[i, c, j]
                sum_dx += dout[i, c, j] * xhat[i, c, j]
        dbeta[c], dgamma[c] = sum_d, sum_dx
        a = scale[c]
        shift, slope = a * sum_d / m, a * sum_dx / m
        for i in range(n):
            for j in range(length):
                dx[i, c, j] = a * dout[i, c, j] - slope * xhat[i, c, j] - shift


def batchnorm_train(x3, gamma, beta, eps):
    """Training-mode batch normalization of x3 (N, C, L) with the batch statistics (biased variance).
    gamma, beta: (C,) or None (no affine). Returns (out, xhat, mean, var, inv_std): out and xhat (N, C, L) in x3's
    dtype (the same array without affine), the statistics (C,) float64."""
    x3 = np.ascontiguousarray(x3)
    channels = x3.shape[1]
    affine = gamma is not None
    xhat = np.empty_like(x3)
    out = np.empty_like(x3) if affine else xhat
    stats = [np.empty(channels) for _ in range(3)]
    none = np.zeros(0, x3.dtype)
    _forward_kernel(x3, gamma if affine else none, beta if affine else none, float(eps), affine, xhat, out, *stats)
    return (out, xhat, *stats)


def batchnorm_train_backward(dout3, xhat, scale):
    """Gradient of training-mode batch normalization. dout3, xhat: (N, C, L); scale: (C,) = gamma * inv_std
    (inv_std without affine). Returns (dx (N, C, L) in dout's dtype, dgamma (C,), dbeta (C,)) with
    dx = scale * (dout - sum(dout) / m - xhat * sum(dout * xhat) / m) over the m = N*L values of a channel."""
    dout3 = np.ascontiguousarray(dout3)
    dx = np.empty_like(dout3)
    dgamma, dbeta = np.empty(dout3.shape[1]), np.empty(dout3.shape[1])
    _backward_kernel(dout3, xhat, np.asarray(scale, np.float64), dx, dgamma, dbeta)
    return dx, dgamma, dbeta
