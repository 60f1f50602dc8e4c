"""The layer protocol every layer follows, and the shape check that names the layer when an input is wrong.

A layer holds three dicts of arrays:
  params   trainable tensors (the optimizer updates them),
  grads    their gradients, same keys and shapes, filled by `backward`,
  buffers  state that is not trained but saved with the model (BatchNorm running statistics).
`forward(x, training)` keeps what `backward(dout)` needs in `self.cache`; `backward` returns dL/dx.
The math itself sits in module-level `*_forward` / `*_backward` functions beside each layer class.
"""
import numpy as np


class Layer:
    """Base class: bookkeeping only. Subclasses implement forward, backward and output_shape."""

    def __init__(self):
        self.name = type(self).__name__
        self.params = {}
        self.grads = {}
        self.buffers = {}
        self.cache = None
        # The model switches this off for its first layer: nobody needs dL/d(image), and skipping it saves a GEMM.
        self.needs_input_grad = True

    def forward(self, x, training):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def output_shape(self, input_shape):
        """Shape of the output for an input of `input_shape` (batch axis included); checks the input like forward."""
        return tuple(input_shape)

    def macs(self, input_shape):
        """(float multiply-accumulates, binary XNOR-popcount MACs) per forward pass of `input_shape`."""
        return 0, 0

    def constrain(self):
        """Project parameters back onto their allowed set; called once at start and after every optimizer step."""

    def describe(self):
        """One-line description of the configuration for the summary table (the type name is shown beside it)."""
        return ""

    def __repr__(self):
        return f"{self.name}: {type(self).__name__} {self.describe()}".rstrip()


def check_input(layer, shape, expected):
    """Raise a ValueError naming `layer` unless `shape` matches `expected`.

    expected: tuple whose entries are ints (must match) or None (any size), e.g. (None, 20, None, None) for NCHW
    with 20 channels. The message spells the expected shape with N/H/W for the free axes.
    """
    shape = tuple(shape)
    if len(shape) != len(expected) or any(e is not None and s != e for s, e in zip(shape, expected)):
        names = "NCHW" if len(expected) == 4 else "ND"
        spelled = ", ".join(names[i] if e is None else str(e) for i, e in enumerate(expected))
        raise ValueError(f"{layer.name} ({layer.describe()}): expected input of shape ({spelled}), got {shape}")


def pair(value, what):
    """An int or a 2-tuple of non-negative ints as a 2-tuple; `what` names the argument in the error."""
    out = (value, value) if np.isscalar(value) else tuple(value)
    if len(out) != 2 or any(int(v) != v or v < 0 for v in out):
        raise ValueError(f"{what} must be a non-negative int or a pair of them, got {value!r}")
    return int(out[0]), int(out[1])

