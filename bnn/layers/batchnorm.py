"""Batch normalization over the channel axis of (N, C) or (N, C, H, W) tensors, affine or not.

Training normalizes with the batch statistics (biased variance) and updates running statistics as PyTorch does:
running = (1 - momentum) * running + momentum * batch, with the *unbiased* batch variance. Evaluation uses the
running statistics.
"""
import numpy as np

from .base import Layer, check_input


def _axes(x):
    """Reduction axes and the broadcast shape of per-channel vectors for x of shape (N, C) or (N, C, H, W)."""
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    return axes, (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    """x: (N, C) or (N, C, H, W); gamma, beta: (C,) or None (no affine); running_*: (C,), updated in place
    when training. Returns (out, cache)."""
    axes, shape = _axes(x)
    if training:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        m = x.size // x.shape[1]
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (m / max(m - 1, 1))
    else:
        mean, var = running_mean, running_var
    inv_std = (1 / np.sqrt(var + eps)).astype(x.dtype)
    xhat = (x - mean.reshape(shape).astype(x.dtype)) * inv_std.reshape(shape)
    out = xhat if gamma is None else xhat * gamma.reshape(shape) + beta.reshape(shape)
    return out, (xhat, inv_std, gamma)


def batchnorm_backward(dout, cache):
    """Gradient of training-mode batchnorm. Returns (dx, dgamma or None, dbeta or None).

    With xhat = (x - mean) / std over m = N*H*W values per channel:
    dx = inv_std / m * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)), dxhat = dout * gamma.
    """
    xhat, inv_std, gamma = cache
    axes, shape = _axes(dout)
    m = dout.size // dout.shape[1]
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * xhat).sum(axis=axes)
    if gamma is None:
        dxhat, sum_dxhat, sum_dxhat_xhat = dout, dbeta, dgamma
    else:
        dxhat = dout * gamma.reshape(shape)
        sum_dxhat, sum_dxhat_xhat = dbeta * gamma, dgamma * gamma
    dx = (inv_std / m).reshape(shape) * (m * dxhat - sum_dxhat.reshape(shape) - xhat * sum_dxhat_xhat.reshape(shape))
    if gamma is None:
        return dx, None, None
    return dx, dgamma, dbeta


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
