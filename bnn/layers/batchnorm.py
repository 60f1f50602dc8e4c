"""Batch normalization over the channel axis of (N, C) or (N, C, H, W) tensors, affine or not.

Training normalizes with the batch statistics (biased variance) and updates running statistics as PyTorch does:
running = (1 - momentum) * running + momentum * batch, with the *unbiased* batch variance. Evaluation uses the
running statistics.
"""
import numpy as np

from .base import Layer, check_input


def _per_channel(x):
    """x (N, C) or (N, C, H, W) as a (N, C, L) view, L = H*W (or 1): per-channel sums become einsum reductions,
    which run in one pass over memory (the layer is bandwidth-bound)."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    """x: (N, C) or (N, C, H, W); gamma, beta: (C,) or None (no affine); running_*: (C,), updated in place
    when training. Returns (out, cache)."""
    x3 = _per_channel(x)
    m = x3.shape[0] * x3.shape[2]
    if training:
        mean = np.einsum("ncl->c", x3) / m
        xhat = x3 - mean[:, None]
        var = np.einsum("ncl,ncl->c", xhat, xhat) / m
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (m / max(m - 1, 1))
    else:
        mean, var = running_mean, running_var
        xhat = x3 - mean.astype(x.dtype)[:, None]
    inv_std = (1 / np.sqrt(var + eps)).astype(x.dtype)
    xhat *= inv_std[:, None]
    if gamma is None:
        out = xhat
    else:
        out = xhat * gamma[:, None]
        out += beta[:, None]
    return out.reshape(x.shape), (xhat, inv_std, gamma)


def batchnorm_backward(dout, cache):
    """Gradient of training-mode batchnorm. Returns (dx, dgamma or None, dbeta or None).

    With xhat = (x - mean) / std over m = N*H*W values per channel and g = gamma (1 without affine):
    dx = g * inv_std * (dout - sum(dout) / m - xhat * sum(dout * xhat) / m).
    """
    xhat, inv_std, gamma = cache
    d3 = _per_channel(dout)
    m = d3.shape[0] * d3.shape[2]
    dbeta = np.einsum("ncl->c", d3)
    dgamma = np.einsum("ncl,ncl->c", d3, xhat)
    scale = inv_std if gamma is None else gamma * inv_std
    dx = d3 * scale[:, None]
    dx -= xhat * (scale * dgamma / m)[:, None]
    dx -= (scale * dbeta / m)[:, None]
    if gamma is None:
        return dx.reshape(dout.shape), None, None
    return dx.reshape(dout.shape), dgamma, dbeta


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
