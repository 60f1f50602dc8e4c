"""Max and average pooling over square windows, written as a loop over the k*k window offsets.

For offset (dy, dx) the view x[:, :, dy::stride, dx::stride] (cut to OH x OW) holds that cell of every window at
once, so pooling is k*k whole-array operations and never builds an im2col matrix.

Max pooling pads with -inf (a padded cell never wins) and routes each window's gradient to exactly one input,
the first maximum in row-major window order (ties, common after a ReLU, must not multiply the gradient).
Average pooling pads with zeros and divides by the full window size (PyTorch's count_include_pad=True, which the
reference NiN uses).
"""
import numpy as np

from ..kernels.im2col import conv_output_size
from .base import Layer, check_input, pair


def _pad(x, padding, fill):
    if not padding:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=fill)


def _offsets(x_padded, k, stride, oh, ow):
    """Yield (offset index, view (N, C, OH, OW)) for the k*k cells of every window."""
    for dy in range(k):
        for dx in range(k):
            yield dy * k + dx, x_padded[:, :, dy:dy + stride * (oh - 1) + 1:stride, dx:dx + stride * (ow - 1) + 1:stride]


def maxpool_forward(x, k, stride, padding):
    """x: (N, C, H, W) -> out (N, C, OH, OW), cache (the winning offset of each window)."""
    oh, ow = conv_output_size(x.shape[2], k, stride, padding), conv_output_size(x.shape[3], k, stride, padding)
    xp = _pad(x, padding, -np.inf)
    out = winner = None
    for i, view in _offsets(xp, k, stride, oh, ow):
        if out is None:
            out, winner = view.copy(), np.zeros(view.shape, np.uint8 if k * k <= 256 else np.int32)
        else:
            better = (view > out).view(np.uint8)   # strict: on ties the earlier offset keeps the window
            np.maximum(out, view, out=out)
            winner -= winner * better   # integer arithmetic: much faster than masked assignment
            winner += better * winner.dtype.type(i)
    return out, (winner, xp.shape, k, stride, padding)


def maxpool_backward(dout, cache):
    """dout: (N, C, OH, OW) -> dx (N, C, H, W): each window's gradient goes to its (first) maximum."""
    winner, padded_shape, k, stride, padding = cache
    dxp = np.zeros(padded_shape, dout.dtype)
    for i, view in _offsets(dxp, k, stride, *dout.shape[2:]):
        view += dout * (winner == i)   # views of one offset never overlap, so += is safe
    return _crop(dxp, padding)


def avgpool_forward(x, k, stride, padding):
    """x: (N, C, H, W) -> out (N, C, OH, OW), cache. Zero padding counted in the mean."""
    oh, ow = conv_output_size(x.shape[2], k, stride, padding), conv_output_size(x.shape[3], k, stride, padding)
    xp = _pad(x, padding, 0)
    out = np.zeros(x.shape[:2] + (oh, ow), x.dtype)
    for _, view in _offsets(xp, k, stride, oh, ow):
        out += view
    out /= k * k
    return out, (xp.shape, k, stride, padding)


def avgpool_backward(dout, cache):
    """dout: (N, C, OH, OW) -> dx (N, C, H, W): each window spreads its gradient evenly over its k*k cells."""
    padded_shape, k, stride, padding = cache
    dxp = np.zeros(padded_shape, dout.dtype)
    share = dout / (k * k)
    for _, view in _offsets(dxp, k, stride, *dout.shape[2:]):
        view += share
    return _crop(dxp, padding)


def _crop(xp, padding):
    return np.ascontiguousarray(xp[:, :, padding:-padding, padding:-padding]) if padding else xp


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
