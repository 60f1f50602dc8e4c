"""How binary layers turn their latent float weights W into binary weights, and gradients back into dW.

Latent vs binary weights: the optimizer updates float latent weights W; the forward pass only ever sees their
binarized form W_b. Two schemes, chosen per model:

XnorWeights (XNOR-Net): W_b = alpha * sign(W), alpha = mean |W| over the n weights of each output unit.
  Before each step W is mean-centred over the input axis (axis 1) and clipped to [-1, 1] (`constrain`).
  Gradient, `gradient="full"` (default, as the reference PyTorch code): differentiate alpha too,
      dW_i = alpha * 1{|W_i| <= 1} * dW_b,i + sign(W_i) * (1/n) * sum_j sign(W_j) * dW_b,j
  `gradient="paper"`: the XNOR-Net paper's form dW_i = dW_b,i * (1/n + alpha * 1{|W_i| <= 1}).
  `scale_by_fan_in=True` multiplies dW by n * (1 - 1/C_in) (C_in = W.shape[1]) as the reference code does. With
  Adam the scale only changes how strong weight decay is relative to the gradient; with plain SGD at lr 0.1 it
  diverges. The LeNet-4 recipe uses gradient="full", scale_by_fan_in=True, i.e. the reference code exactly.

BinaryNetWeights (BinaryNet): W_b = sign(W), no alpha; dW = dW_b * 1{|W| <= 1} (straight-through estimator);
  `constrain` clips W to [-1, 1].

sign(0) = +1 everywhere, matching the bit packing. The XNOR-Net passes run as Numba kernels (bnn.kernels.weights).
"""
import numpy as np

from ..kernels.weights import xnor_binarize, xnor_latent_grad


def _signs(w):
    return (w >= 0).astype(w.dtype) * 2 - 1   # 3x faster than np.where with scalars


class XnorWeights:
    def __init__(self, gradient="full", scale_by_fan_in=False):
        if gradient not in ("full", "paper"):
            raise ValueError(f"gradient must be 'full' or 'paper', got {gradient!r}")
        self.gradient, self.scale_by_fan_in = gradient, bool(scale_by_fan_in)

    def __repr__(self):
        return f"XnorWeights(gradient={self.gradient!r}, scale_by_fan_in={self.scale_by_fan_in})"

    def binarize(self, w):
        """w: (O, ...) latent. Returns (signs (O, ...) in {-1, +1}, alpha (O,))."""
        return xnor_binarize(w)

    def latent_grad(self, w, dwb, signs, alpha):
        """dL/dW from dL/dW_b, both (O, ...); signs, alpha as returned by `binarize(w)`."""
        scale = w[0].size * (1 - 1 / w.shape[1]) if self.scale_by_fan_in else 1.0
        return xnor_latent_grad(w, dwb, signs, alpha, self.gradient == "full", scale)

    def constrain(self, w):
        """In place: mean-centre over the input axis, then clip to [-1, 1]."""
        w -= w.mean(axis=1, keepdims=True)
        np.clip(w, -1, 1, out=w)


class BinaryNetWeights:
    def __repr__(self):
        return "BinaryNetWeights()"

    def binarize(self, w):
        """w: (O, ...) latent. Returns (signs in {-1, +1}, None): no scaling factor."""
        return _signs(w), None

    def latent_grad(self, w, dwb, signs, alpha):
        return dwb * (np.abs(w) <= 1)

    def constrain(self, w):
        np.clip(w, -1, 1, out=w)


def weight_scheme(name, **options):
    """'xnor' -> XnorWeights(**options), 'binarynet' -> BinaryNetWeights()."""
    if name == "xnor":
        return XnorWeights(**options)
    if name == "binarynet":
        return BinaryNetWeights(**options)
    raise ValueError(f"binary weight scheme must be 'xnor' or 'binarynet', got {name!r}")
