"""Element-wise layers without parameters: ReLU, the sign activation with its straight-through estimator,
Dropout and Flatten."""
import numpy as np

from ..kernels.activation import hardtanh_grad, relu, relu_grad, sign
from .base import Layer, check_input


def relu_forward(x):
    """x: any shape. Returns max(x, 0) and the cache (that output: the gradient passes where it is > 0)."""
    out = relu(x)
    return out, out


def relu_backward(dout, out):
    return relu_grad(dout, out)


def sign_forward(x):
    """Binarize activations: x (any shape) -> xb in {-1, +1}, same dtype. sign(0) = +1 by convention
    (the bit packing stores x >= 0 as bit 1, so the float and packed paths agree on zeros)."""
    return sign(x), x


def sign_backward(dout, x):
    """Straight-through estimator: the derivative of hard-tanh(x) = clip(x, -1, 1). The gradient passes where
    |x| < 1 and is blocked where the input is saturated, so pre-activations far from 0 stop moving instead of
    drifting without bound (the sign's own derivative is zero almost everywhere)."""
    return hardtanh_grad(dout, x)


def dropout_forward(x, p, rng):
    """Inverted dropout: zero each element with probability p, scale survivors by 1/(1-p). Returns (out, mask)."""
    mask = (rng.random(x.shape, dtype=np.float32) >= p).astype(x.dtype) / x.dtype.type(1 - p)
    return x * mask, mask


def dropout_backward(dout, mask):
    return dout * mask


class ReLU(Layer):
    def forward(self, x, training):
        out, self.cache = relu_forward(x)
        return out

    def backward(self, dout):
        return relu_backward(dout, self.cache)


class Sign(Layer):
    """Sign activation, gradient through the hard-tanh straight-through estimator.

    rounding: None (deterministic sign), or a callable x -> ±1 array used instead during training (e.g. stochastic
    rounding, bnn.errors.stochastic_sign with the run's Generator bound); evaluation always uses the sign. The
    backward pass is the same straight-through estimator either way.
    """

    def __init__(self):
        super().__init__()
        self.rounding = None

    def forward(self, x, training):
        if training and self.rounding is not None:
            self.cache = x
            return self.rounding(x)
        out, self.cache = sign_forward(x)
        return out

    def backward(self, dout):
        return sign_backward(dout, self.cache)


class Dropout(Layer):
    """Dropout with rate p during training, identity at evaluation. Draws from the run's Generator `rng`."""

    def __init__(self, p, rng):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout rate p must be in [0, 1), got {p}")
        self.p, self.rng = float(p), rng

    def describe(self):
        return f"p={self.p}"

    def forward(self, x, training):
        if not training or self.p == 0:
            self.cache = None
            return x
        out, self.cache = dropout_forward(x, self.p, self.rng)
        return out

    def backward(self, dout):
        return dout if self.cache is None else dropout_backward(dout, self.cache)


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W), in C-major order (as PyTorch's view)."""

    def output_shape(self, input_shape):
        if len(input_shape) < 2:
            check_input(self, input_shape, (None, None, None, None))
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def forward(self, x, training):
        self.cache = x.shape
        return x.reshape(self.output_shape(x.shape))

    def backward(self, dout):
        return dout.reshape(self.cache)
