"""Max and average pooling layers over square windows (kernel k, stride, padding; or one global window).

The work is done by the kernels of bnn.kernels.pool. Average pooling counts zero padding in the mean (PyTorch's
count_include_pad=True, which the reference NiN uses).

Max pooling sends each window's gradient to exactly one input, the first maximum in row-major window order (ties
must not multiply the gradient). Ties are common here: a binary layer's outputs are exact, alpha * k + bias with k an
integer, so after its ReLU many windows hold equal maxima (NiN's pool3: 16 % of the windows with a positive maximum
at initialization, 18 % after one CIFAR-10 epoch; LeNet-4's pool1, after the float conv1 on MNIST's flat
backgrounds: 36 %). PyTorch's CPU kernel also keeps the first of exactly equal values (a strict `>`), but in a float
implementation of these networks the binary convolution's sums carry rounding noise, so ties are rare and the noise
picks the winner. Any convex split of the gradient among the tied maxima is a valid subgradient. "First" sends more
of it to the window's top-left cell (NiN pool3 after one epoch: 15.8 % instead of the 13.2 % of an equal split), yet
it barely turns the parameter gradients: against an equal split or a random tied maximum, the cosine between a
training step's gradients is >= 0.996 for every layer below the pool after one epoch (>= 0.92 at initialization) and
1 above it, while two successive batches' gradients have cosines of 0.37-0.63 (about 0 at initialization); summed over
8 batches the rules agree at least as well, so no bias builds up. So the layer keeps "first": exact, cheap, and what
PyTorch does with exact ties. Measured by benchmarks/pool_ties.py (benchmarks/results/pool_ties_*.json, and
docs/results_cifar10.md for the LeNet-4 runs trained with each rule).
"""
from ..kernels.im2col import conv_output_size
from ..kernels.pool import avgpool2d, avgpool2d_backward, maxpool2d, maxpool2d_backward
from .base import Layer, check_input, pair


def maxpool_forward(x, k, stride, padding):
    """x: (N, C, H, W) -> out (N, C, OH, OW), cache (the winning offset of each window)."""
    out, winner = maxpool2d(x, k, stride, padding)
    return out, (winner, x.shape, k, stride, padding)


def maxpool_backward(dout, cache):
    """dout: (N, C, OH, OW) -> dx (N, C, H, W): each window's gradient goes to its (first) maximum."""
    winner, input_shape, k, stride, padding = cache
    return maxpool2d_backward(dout, winner, input_shape, k, stride, padding)


def avgpool_forward(x, k, stride, padding):
    """x: (N, C, H, W) -> out (N, C, OH, OW), cache. Zero padding counted in the mean."""
    return avgpool2d(x, k, stride, padding), (x.shape, k, stride, padding)


def avgpool_backward(dout, cache):
    """dout: (N, C, OH, OW) -> dx (N, C, H, W): each window spreads its gradient evenly over its k*k cells."""
    return avgpool2d_backward(dout, *cache)


class _Pool2d(Layer):
    forward_fn = backward_fn = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = None if kernel_size is None else pair(kernel_size, "kernel_size")[0]
        self.stride = None if stride is None else pair(stride, "stride")[0]
        self.padding = pair(padding, "padding")[0]

    def _geometry(self, input_shape):
        """(kernel, stride, padding) for this input; kernel None means one window over the whole map."""
        check_input(self, input_shape, (None, None, None, None))
        if self.kernel_size is None:
            h, w = input_shape[2:]
            if h != w:
                raise ValueError(f"{self.name}: global pooling needs a square map, got {tuple(input_shape)}")
            return h, h, 0
        if 2 * self.padding > self.kernel_size:
            raise ValueError(f"{self.name}: padding must be at most half the kernel ({self.kernel_size}), "
                             f"got {self.padding}")
        return self.kernel_size, self.stride or self.kernel_size, self.padding

    def describe(self):
        if self.kernel_size is None:
            return "global"
        return f"{self.kernel_size}x{self.kernel_size} stride {self.stride or self.kernel_size}" + (
            f" pad {self.padding}" if self.padding else "")

    def output_shape(self, input_shape):
        k, s, p = self._geometry(input_shape)
        n, c, h, w = input_shape
        return (n, c, conv_output_size(h, k, s, p), conv_output_size(w, k, s, p))

    def forward(self, x, training):
        out, self.cache = type(self).forward_fn(x, *self._geometry(x.shape))
        return out

    def backward(self, dout):
        return type(self).backward_fn(dout, self.cache)


class MaxPool2d(_Pool2d):
    """Max pooling, kernel k, stride (default k), padding; kernel_size=None pools the whole map."""
    forward_fn, backward_fn = staticmethod(maxpool_forward), staticmethod(maxpool_backward)


class AvgPool2d(_Pool2d):
    """Average pooling, kernel k, stride (default k), padding; kernel_size=None is global average pooling."""
    forward_fn, backward_fn = staticmethod(avgpool_forward), staticmethod(avgpool_backward)
