"""Fully connected layer in float precision: out = x @ W.T + b (weights stored out x in, as PyTorch)."""
import numpy as np

from ..parallel import parallel_map
from .base import Layer, check_input


def dense_forward(x, w, b):
    """x: (N, D), w: (M, D), b: (M,) or None. Returns out (N, M) and cache."""
    out = x @ w.T
    if b is not None:
        out += b
    return out, (x, w)


def dense_backward(dout, cache, need_dx=True):
    """dout: (N, M). Returns (dx (N, D) or None, dw (M, D), db (M,)). The two matrix products are independent and
    run concurrently (bnn.parallel)."""
    x, w = cache
    products = [lambda: dout.T @ x] + ([lambda: dout @ w] if need_dx else [])
    dw, *dx = parallel_map(lambda product: product(), products)
    return (dx[0] if need_dx else None), dw, dout.sum(axis=0)


def init_normal(rng, shape, std, dtype=np.float32):
    """Weights drawn from N(0, std^2), the initialization of the reference XNOR-Net models."""
    return (rng.standard_normal(shape) * std).astype(dtype)


class DenseGeometry:
    """Feature counts shared by Dense and BinaryDense, with the shape check: (N, in_features) -> (N, out_features)."""

    def _set_geometry(self, in_features, out_features):
        self.in_features, self.out_features = int(in_features), int(out_features)

    def describe(self):
        return f"{self.in_features} -> {self.out_features}"

    def output_shape(self, input_shape):
        check_input(self, input_shape, (None, self.in_features))
        return (input_shape[0], self.out_features)

    def _mac_count(self, input_shape):
        return input_shape[0] * self.in_features * self.out_features


class Dense(DenseGeometry, Layer):
    """Float dense layer. in_features -> out_features; weights N(0, weight_std^2), bias 0."""

    def __init__(self, in_features, out_features, rng, weight_std=0.05, bias=True):
        Layer.__init__(self)
        self._set_geometry(in_features, out_features)
        self.params["weight"] = init_normal(rng, (self.out_features, self.in_features), weight_std)
        if bias:
            self.params["bias"] = np.zeros(self.out_features, np.float32)

    def macs(self, input_shape):
        return self._mac_count(input_shape), 0

    def forward(self, x, training):
        check_input(self, x.shape, (None, self.in_features))
        out, self.cache = dense_forward(x, self.params["weight"], self.params.get("bias"))
        return out

    def backward(self, dout):
        dx, self.grads["weight"], db = dense_backward(dout, self.cache, self.needs_input_grad)
        if "bias" in self.params:
            self.grads["bias"] = db
        return dx
