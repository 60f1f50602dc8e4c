"""Export a trained model's inference weights to HDF5, and run inference from that file alone.

What is stored is what the hardware would hold: for binary layers the packed sign bits of the weights (bit 1 = +1,
layout of bnn.kernels.pack_conv_weights / pack_signs), alpha per output unit (XNOR-Net weights) and the float bias;
for float layers their weights; for BatchNorm its affine parameters and running statistics. The latent float weights
of binary layers are not stored. `ExportedModel(path).predict(x)` evaluates the layers with the same forward
functions the training model uses in eval mode, so the predictions are identical.

File layout: a sealed HDF5 file (datasets.sealed: a header with the label FORMAT and the SHA-256 of the rest, checked
before h5py reads the file); attrs input_shape (JSON); one group per layer in order, "<index>_<name>", with attrs
type and config (JSON) and the arrays as datasets. Files of format 1 (plain HDF5) are refused: export them again.
"""
import json

import numpy as np

from datasets import BrokenSeal, create_sealed, open_sealed

from .checkpoint import write_atomic
from .kernels.bitpack import pack_conv_input, pack_conv_weights, pack_signs
from .kernels.conv import binary_conv2d_packed
from .kernels.gemm import xnor_gemm
from .layers import (AvgPool2d, BatchNorm, BinaryConv2d, BinaryDense, Conv2d, Dense, Dropout, Flatten, MaxPool2d,
                     ReLU, Sign)
from .layers.activation import relu_forward, sign_forward
from .layers.batchnorm import batchnorm_forward
from .layers.conv import conv2d_forward
from .layers.dense import dense_forward
from .layers.pool import avgpool_forward, maxpool_forward

FORMAT = "xnor-mram inference model, format 2"


def _layer_record(layer, input_shape):
    """(type, config dict, arrays dict) of one layer for inference."""
    kind = type(layer).__name__
    if isinstance(layer, (BinaryConv2d, BinaryDense)):
        signs, alpha = layer.binary_weight()
        arrays = {"alpha": alpha} if alpha is not None else {}
        if isinstance(layer, BinaryConv2d):
            arrays["weight_bits"] = pack_conv_weights(signs)
            config = dict(channels=layer.in_channels, stride=layer.stride, padding=layer.padding)
        else:
            arrays["weight_bits"] = pack_signs(signs, axis=1)[0]
            config = dict(features=layer.in_features)
        if "bias" in layer.params:
            arrays["bias"] = layer.params["bias"]
        return kind, config, arrays
    if isinstance(layer, (Conv2d, Dense)):
        config = dict(stride=layer.stride, padding=layer.padding) if isinstance(layer, Conv2d) else {}
        return kind, config, dict(layer.params)
    if isinstance(layer, BatchNorm):
        return kind, dict(eps=layer.eps), {**layer.params, **layer.buffers}
    if isinstance(layer, (MaxPool2d, AvgPool2d)):
        k, s, p = layer._geometry(input_shape)
        return kind, dict(kernel=k, stride=s, padding=p), {}
    if isinstance(layer, (ReLU, Sign, Flatten, Dropout)):
        return kind, {}, {}
    raise TypeError(f"cannot export layer {layer.name} of type {kind}")


def export_model(model, path):
    """Write `model` (its eval-mode computation) to `path` atomically."""
    def write(tmp):
        shape = (1,) + model.input_shape
        with create_sealed(tmp, FORMAT) as f:
            f.attrs["input_shape"] = json.dumps(model.input_shape)
            for i, layer in enumerate(model.layers):
                kind, config, arrays = _layer_record(layer, shape)
                group = f.create_group(f"{i:03d}_{layer.name}")
                group.attrs["type"], group.attrs["config"] = kind, json.dumps(config)
                for key, array in arrays.items():
                    group.create_dataset(key, data=array)
                shape = layer.output_shape(shape)
    write_atomic(path, write)


def _forward(kind, config, a, x):
    """One layer's eval-mode forward from its exported record."""
    if kind == "BinaryConv2d":
        out = binary_conv2d_packed(pack_conv_input(x), a["weight_bits"], config["channels"], config["stride"],
                                   config["padding"])
    elif kind == "BinaryDense":
        out = xnor_gemm(pack_signs(x, axis=1)[0], a["weight_bits"], config["features"]).astype(np.float32)
    if kind in ("BinaryConv2d", "BinaryDense"):
        shape = (1, -1) + (1,) * (out.ndim - 2)
        if "alpha" in a:
            out *= a["alpha"].reshape(shape)
        if "bias" in a:
            out += a["bias"].reshape(shape)
        return out
    if kind == "Conv2d":
        return conv2d_forward(x, a["weight"], a.get("bias"), config["stride"], config["padding"])[0]
    if kind == "Dense":
        return dense_forward(x, a["weight"], a.get("bias"))[0]
    if kind == "BatchNorm":
        return batchnorm_forward(x, a.get("weight"), a.get("bias"), a["running_mean"], a["running_var"], 0.0,
                                 config["eps"], training=False)[0]
    if kind == "MaxPool2d":
        return maxpool_forward(x, config["kernel"], config["stride"], config["padding"])[0]
    if kind == "AvgPool2d":
        return avgpool_forward(x, config["kernel"], config["stride"], config["padding"])[0]
    if kind == "ReLU":
        return relu_forward(x)[0]
    if kind == "Sign":
        return sign_forward(x)[0]
    if kind == "Flatten":
        return x.reshape(x.shape[0], -1)
    if kind == "Dropout":
        return x
    raise ValueError(f"unknown layer type {kind!r} in exported model")


class ExportedModel:
    """Inference from an exported file: `predict(x)` gives the logits (N, classes) for x (N,) + input_shape."""

    def __init__(self, path):
        """Read the exported model at `path`; ValueError naming the file if it is not one of this format, or is
        damaged."""
        try:
            f = open_sealed(path, FORMAT)
        except BrokenSeal as err:
            if err.unsealed:
                raise ValueError(f"{path} has no SHA-256 header: an exported model of format 1 or another HDF5 file, "
                                 f"which this version does not open unverified; export it again from its "
                                 f"checkpoint (python -m bnn export CHECKPOINT OUTPUT)") from err
            raise ValueError(f"{path} is not a readable exported model: {err.reason}") from err
        try:
            with f:
                self.input_shape = tuple(json.loads(f.attrs["input_shape"]))
                self.layers = [(name.split("_", 1)[1], g.attrs["type"], json.loads(g.attrs["config"]),
                                {k: np.asarray(d) for k, d in g.items()}) for name, g in sorted(f.items())]
        except Exception as err:    # a verified file can still lack a part (written by something else with our label)
            raise ValueError(f"{path} is not a readable exported model ({type(err).__name__}: {err})") from err

    def predict(self, x, batch_size=1000):
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"expected input of shape (N, {', '.join(map(str, self.input_shape))}), got {x.shape}")
        outs = []
        for start in range(0, len(x), batch_size):
            h = x[start:start + batch_size]
            for _, kind, config, arrays in self.layers:
                h = _forward(kind, config, arrays, h)
            outs.append(h)
        return np.concatenate(outs)
