"""Batch normalization over the channel axis of (N, C) or (N, C, H, W) tensors, affine or not.

Training normalizes with the batch statistics (biased variance) and updates running statistics as PyTorch does:
running = (1 - momentum) * running + momentum * batch, with the *unbiased* batch variance. Evaluation uses the
running statistics.
"""
import numpy as np

from ..kernels.batchnorm import batchnorm_train, batchnorm_train_backward
from .base import Layer, check_input


def _per_channel(x):
    """x (N, C) or (N, C, H, W) as a (N, C, L) view, L = H*W (or 1)."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    """x: (N, C) or (N, C, H, W); gamma, beta: (C,) or None (no affine); running_*: (C,), updated in place
    when training. Returns (out, cache); the cache is None in evaluation mode (nothing to differentiate)."""
    if not training:
        inv_std = 1 / np.sqrt(running_var.astype(np.float64) + eps)
        scale = inv_std if gamma is None else gamma * inv_std
        shift = -running_mean * scale if beta is None else beta - running_mean * scale
        out = _per_channel(x) * scale.astype(x.dtype)[:, None] + shift.astype(x.dtype)[:, None]
        return out.reshape(x.shape), None
    out, xhat, mean, var, inv_std = batchnorm_train(_per_channel(x), gamma, beta, eps)
    m = xhat.shape[0] * xhat.shape[2]
    running_mean *= 1 - momentum
    running_mean += momentum * mean
    running_var *= 1 - momentum
    running_var += momentum * var * (m / max(m - 1, 1))
    return out.reshape(x.shape), (xhat, inv_std, gamma)


def batchnorm_backward(dout, cache):
    """Gradient of training-mode batchnorm. Returns (dx, dgamma or None, dbeta or None).

    With xhat = (x - mean) / std over m = N*H*W values per channel and g = gamma (1 without affine):
    dx = g * inv_std * (dout - sum(dout) / m - xhat * sum(dout * xhat) / m).
    """
    if cache is None:
        raise RuntimeError("BatchNorm backward needs a training-mode forward pass first (evaluation keeps no cache)")
    xhat, inv_std, gamma = cache
    scale = inv_std if gamma is None else gamma * inv_std
    dx, dgamma, dbeta = batchnorm_train_backward(_per_channel(dout), xhat, scale)
    if gamma is None:
        return dx.reshape(dout.shape), None, None
    return dx.reshape(dout.shape), dgamma.astype(gamma.dtype), dbeta.astype(gamma.dtype)


class BatchNorm(Layer):
    """BatchNorm1d for (N, C) inputs or BatchNorm2d for (N, C, H, W) inputs (set by `spatial`).

    affine: learn gamma (init 1) and beta (init 0). min_weight: if given, gamma is clamped to >= min_weight in
    `constrain` (the LeNet-4 recipe clamps binary-block BN weights at 0.01 so no channel's scale collapses to 0 or
    flips the sign that the following binarization reads).
    """

    def __init__(self, num_features, spatial, affine=True, eps=1e-5, momentum=0.1, min_weight=None):
        super().__init__()
        self.num_features, self.spatial, self.affine = int(num_features), bool(spatial), bool(affine)
        self.eps, self.momentum, self.min_weight = float(eps), float(momentum), min_weight
        if affine:
            self.params["weight"] = np.ones(self.num_features, np.float32)
            self.params["bias"] = np.zeros(self.num_features, np.float32)
        self.buffers["running_mean"] = np.zeros(self.num_features, np.float32)
        self.buffers["running_var"] = np.ones(self.num_features, np.float32)

    def describe(self):
        kind = "2d" if self.spatial else "1d"
        return f"{kind} {self.num_features}" + ("" if self.affine else " (no affine)")

    def _expected(self):
        return (None, self.num_features, None, None) if self.spatial else (None, self.num_features)

    def output_shape(self, input_shape):
        check_input(self, input_shape, self._expected())
        return tuple(input_shape)

    def constrain(self):
        if self.affine and self.min_weight is not None:
            np.maximum(self.params["weight"], self.min_weight, out=self.params["weight"])

    def forward(self, x, training):
        check_input(self, x.shape, self._expected())
        out, self.cache = batchnorm_forward(x, self.params.get("weight"), self.params.get("bias"),
                                            self.buffers["running_mean"], self.buffers["running_var"],
                                            self.momentum, self.eps, training)
        return out

    def backward(self, dout):
        dx, dgamma, dbeta = batchnorm_backward(dout, self.cache)
        if self.affine:
            self.grads["weight"], self.grads["bias"] = dgamma, dbeta
        return dx
