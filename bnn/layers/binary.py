"""BinaryConv2d and BinaryDense: ±1 activations times binary weights through the XNOR-popcount kernels.

Forward: the input must be the ±1 output of a Sign layer, or that after inverted dropout (entries -c, 0, +c with
  c = 1/(1-p), as in the reference code, which drops after the sign: see `_BinaryLayer.forward` for the exact
  product). It is packed into uint64 words (bit 1 = +1), then
  [optional] `activation_errors.apply_to_activations(packed, x, rng, training) -> x` flips bits of the packed words
  in place and negates the same entries of x: this is where a bit-error model (an unreliable memory holding the
  activations) acts, between writing and the XNOR read. x is edited in place when it is a writeable C-contiguous
  array (a Sign or Dropout layer's output is): the input array *is* the corrupted memory, and the layer's caller
  gets it back corrupted (a dropped entry stays 0 whatever its bit, as if the flip had come before the dropout).
  The XNOR-popcount product with the packed sign(W) gives integers, scaled by alpha per output unit (XNOR-Net
  weights) and shifted by the float bias.
Backward: float matrix products of the tensors that the forward actually used (the input after any flips)
  and W_b = alpha * sign(W). The gradient w.r.t. the input is therefore the straight-through
  estimator of the clean sign: it passes through the flip, as in the paper's code. dL/dW_b becomes dL/dW (the
  latent weights) by the weight scheme (see binary_weights.py).
Weight errors: `weight_errors.apply(packed, nbits, rng, training) -> packed` (a new array; applied to the packed
  sign(W), nbits = C or D) corrupts the weights the forward pass reads; the backward pass uses the clean W_b (the
  latent weights are what the optimizer owns).
"""
import numpy as np

from ..kernels.activation import signs_scale
from ..kernels.bitpack import pack_conv_input, pack_conv_weights, pack_signs
from ..kernels.conv import binary_conv2d_packed
from ..kernels.gemm import xnor_gemm
from .base import Layer
from .conv import ConvGeometry, conv2d_backward_chunked
from .dense import DenseGeometry, dense_backward, init_normal


class _BinaryLayer(Layer):
    """Shared forward/backward of the two binary layers; subclasses say how to pack, multiply and differentiate."""

    def _init_binary(self, weight_shape, rng, weights, weight_std, bias):
        self.weights = weights
        self.rng = rng
        self.activation_errors = None
        self.weight_errors = None
        self.params["weight"] = init_normal(rng, weight_shape, weight_std)
        if bias:
            self.params["bias"] = np.zeros(weight_shape[0], np.float32)

    def constrain(self):
        self.weights.constrain(self.params["weight"])

    def binary_weight(self):
        """(signs in {-1, +1} shaped like the weight, alpha (O,) or None): what the forward pass multiplies by."""
        return self.weights.binarize(self.params["weight"])

    def _pack_weights(self, signs, training):
        packed, nbits = self._pack_signs_of_weights(signs)
        if self.weight_errors is not None:
            packed = self.weight_errors.apply(packed, nbits, self.rng, training)
        return packed

    def forward(self, x, training):
        self.output_shape(x.shape)
        scale = signs_scale(x)
        if scale is None:
            raise ValueError(f"{self.name} ({self.describe()}): input must be ±1 (the output of a Sign layer), or "
                             "that after dropout (every entry -c, 0 or +c for one c > 0)")
        scale, dropped = scale
        signs, alpha = self.binary_weight()
        packed = self._pack_input(x)[0]
        if self.activation_errors is not None:   # flips packed in place; x becomes what was multiplied
            x = self.activation_errors.apply_to_activations(packed, x, self.rng, training)
        packed_weights = self._pack_weights(signs, training)
        if dropped:
            # x = c * t with t in {-1, 0, +1}, and t = (a + b) / 2 for the ±1 tensors a (0 read as +1) and b (0 read
            # as -1): two exact XNOR products. a is x packed again, not `packed`: a bit error may have flipped the bit
            # of a dropped entry in `packed`, while x keeps it 0.
            out = self._xnor(self._pack_input(x)[0], packed_weights)
            out += self._xnor(self._pack_input(np.where(x == 0, x.dtype.type(-1), x))[0], packed_weights)
            scale /= 2
        else:
            out = self._xnor(packed, packed_weights)
        if scale != 1:
            out *= np.float32(scale)
        shape = (1, -1) + (1,) * (out.ndim - 2)
        if alpha is not None:
            out *= alpha.reshape(shape)
        if "bias" in self.params:
            out += self.params["bias"].reshape(shape)
        self.cache = (x, signs, alpha)
        return out

    def backward(self, dout):
        x, signs, alpha = self.cache
        wb = signs if alpha is None else signs * alpha.reshape((-1,) + (1,) * (signs.ndim - 1))
        dx, dwb, db = self._float_backward(dout, x, wb)
        self.grads["weight"] = self.weights.latent_grad(self.params["weight"], dwb, signs, alpha)
        if "bias" in self.params:
            self.grads["bias"] = db
        return dx


class BinaryConv2d(ConvGeometry, _BinaryLayer):
    """Binary convolution: (N, C, H, W) ±1 -> (N, O, OH, OW) float. Zero padding means padded taps contribute 0
    (not -1), exactly as the float convolution of zero-padded ±1 input; the kernel skips them.

    weights: an XnorWeights or BinaryNetWeights scheme. rng: the run's Generator (initialization, and handed to
    `activation_errors`). activation_errors: None, or an object with apply_to_activations(packed (N, H, W, CW)
    uint64, x (N, C, H, W), rng, training) -> x as read back, flipping packed in place (tail bits kept 0).
    """

    def __init__(self, in_channels, out_channels, kernel_size, rng, weights, stride=1, padding=0, weight_std=0.05,
                 bias=True):
        Layer.__init__(self)
        self._set_geometry(in_channels, out_channels, kernel_size, stride, padding)
        self._init_binary((self.out_channels, self.in_channels) + self.kernel_size, rng, weights, weight_std, bias)

    def macs(self, input_shape):
        return 0, self._mac_count(input_shape)

    def _pack_input(self, x):
        return pack_conv_input(x), self.in_channels

    def _pack_signs_of_weights(self, signs):
        return pack_conv_weights(signs), self.in_channels

    def _xnor(self, packed, packed_weights):
        return binary_conv2d_packed(packed, packed_weights, self.in_channels, self.stride, self.padding)

    def _float_backward(self, dout, x, wb):
        return conv2d_backward_chunked(dout, x, wb, self.stride, self.padding, self.needs_input_grad)


class BinaryDense(DenseGeometry, _BinaryLayer):
    """Binary dense layer: (N, D) ±1 -> (N, M) float. activation_errors.apply_to_activations gets packed
    (N, ceil(D/64)) uint64 and x (N, D). Other arguments as BinaryConv2d."""

    def __init__(self, in_features, out_features, rng, weights, weight_std=0.05, bias=True):
        Layer.__init__(self)
        self._set_geometry(in_features, out_features)
        self._init_binary((self.out_features, self.in_features), rng, weights, weight_std, bias)

    def macs(self, input_shape):
        return 0, self._mac_count(input_shape)

    def _pack_input(self, x):
        return pack_signs(x, axis=1)

    def _pack_signs_of_weights(self, signs):
        return pack_signs(signs, axis=1)

    def _xnor(self, packed, packed_weights):
        return xnor_gemm(packed, packed_weights, self.in_features).astype(np.float32)

    def _float_backward(self, dout, x, wb):
        return dense_backward(dout, (x, wb), self.needs_input_grad)
