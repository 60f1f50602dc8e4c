"""A model is a sequence of layers: forward runs them in order, backward in reverse.

Parameters are addressed by "<layer name>.<param>" (e.g. "conv2.weight"); the optimizer and the checkpoint use
these names. Layer names are given by the model builder and must be unique.
"""
import time
import numpy as np

from .layers.base import Layer
from .layers.binary_weights import XnorWeights


class Model:
    """layers: list of (name, Layer) pairs. input_shape: one example's shape, e.g. (1, 28, 28)."""

    def __init__(self, layers, input_shape):
        names = [name for name, _ in layers]
        if len(set(names)) != len(names):
            raise ValueError(f"layer names must be unique, got {names}")
        self.layers = []
        for name, layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {name!r} is not a Layer: {layer!r}")
            layer.name = name
            self.layers.append(layer)
        self.layers[0].needs_input_grad = False
        self.input_shape = tuple(input_shape)
        self.training = True
        self.timings = None   # set to a defaultdict(float) to accumulate seconds per (layer, "forward"/"backward")
        self.output_shapes()  # validates the chain of shapes now, not at the first batch

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def forward(self, x):
        """x: (N,) + input_shape float32. Returns logits (N, classes). In evaluation mode each layer's cache is
        dropped right after it runs (nothing will be differentiated), so a large test batch needs memory for about
        two activations at a time, not for the whole network's."""
        for layer in self.layers:
            start = time.perf_counter() if self.timings is not None else 0
            x = layer.forward(x, self.training)
            if not self.training:
                layer.cache = None
            if self.timings is not None:
                self.timings[layer.name, "forward"] += time.perf_counter() - start
        return x

    def backward(self, dout):
        """dout: dL/dlogits. Fills every layer's grads."""
        for layer in reversed(self.layers):
            start = time.perf_counter() if self.timings is not None else 0
            dout = layer.backward(dout)
            if self.timings is not None:
                self.timings[layer.name, "backward"] += time.perf_counter() - start

    def predict(self, x, batch_size=1000):
        """Logits for x in eval mode, batch by batch (restores the previous mode)."""
        training, self.training = self.training, False
        try:
            return np.concatenate([self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
        finally:
            self.training = training

    def constrain(self):
        for layer in self.layers:
            layer.constrain()

    def _named(self, attr):
        return {f"{layer.name}.{key}": value for layer in self.layers for key, value in getattr(layer, attr).items()}

    def params(self):
        """{name: array} of trainable parameters (the arrays themselves: optimizers update them in place)."""
        return self._named("params")

    def grads(self):
        return self._named("grads")

    def buffers(self):
        return self._named("buffers")

    def state(self):
        """Copies of all parameters and buffers, for checkpoints."""
        return {k: v.copy() for k, v in {**self.params(), **self.buffers()}.items()}

    def load_state(self, state):
        """Copy arrays of `state` (as from `state()`) into the model; names and shapes must match exactly."""
        own = {**self.params(), **self.buffers()}
        if set(own) != set(state):
            raise ValueError(f"state does not fit the model: missing {sorted(set(own) - set(state))}, "
                             f"unexpected {sorted(set(state) - set(own))}")
        for name, array in own.items():
            if array.shape != state[name].shape:
                raise ValueError(f"state[{name!r}] has shape {state[name].shape}, the model expects {array.shape}")
            array[...] = state[name]

    def binary_layers(self):
        """The layers that multiply through XNOR-popcount (the ones with an `activation_errors` hook)."""
        return [layer for layer in self.layers if hasattr(layer, "activation_errors")]

    def output_shapes(self, batch=1):
        shapes, shape = [], (batch,) + self.input_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
            shapes.append(shape)
        return shapes

    def summary(self):
        """A table: per layer its output shape, float and binary parameter counts, weight memory as float32 vs with
        binary weights packed to bits (+ float32 alpha per unit), float and binary MACs per image; then totals."""
        head = ("layer", "type", "output", "float params", "binary params", "float32 B", "packed B", "float MACs",
                "binary MACs")
        rows, totals, shape = [], np.zeros(6), (1,) + self.input_shape
        for layer in self.layers:
            binary = hasattr(layer, "activation_errors")
            n_binary = layer.params["weight"].size if binary else 0
            n_float = sum(v.size for v in layer.params.values()) - n_binary
            n_alpha = layer.params["weight"].shape[0] if binary and isinstance(layer.weights, XnorWeights) else 0
            numbers = (n_float, n_binary, 4 * (n_float + n_binary), 4 * (n_float + n_alpha) + n_binary / 8,
                       *layer.macs(shape))
            shape = layer.output_shape(shape)
            totals += numbers
            rows.append((layer.name, f"{type(layer).__name__} {layer.describe()}", "x".join(map(str, shape[1:])),
                         *(f"{v:,.0f}" for v in numbers)))
        rows.append(("total", "", "", *(f"{v:,.0f}" for v in totals)))
        widths = [max(len(row[i]) for row in [head] + rows) for i in range(len(head))]
        text = "\n".join("  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in
                                   enumerate(zip(row, widths))) for row in [head] + rows)
        return text + f"\nweight memory compression (float32 -> packed binary): {totals[2] / totals[3]:.1f}x"
