"""2-D convolution in float precision via im2col + one matrix product (the first layer of every model, and the
algebra that the binary convolution's backward pass reuses)."""
import numpy as np

from ..kernels.im2col import col2im, conv_output_size, im2col
from .base import Layer, check_input, pair
from .dense import init_normal


def conv2d_forward(x, w, b, stride, padding):
    """x: (N, C, H, W), w: (O, C, KH, KW), b: (O,) or None; square stride/padding (ints).
    Returns out (N, O, OH, OW) and cache. Zero padding.

    Per image, out_n = W (O x K) @ cols_n^T (K x L) with L = OH*OW output pixels and K = C*KH*KW: one stacked
    matrix product that writes NCHW directly (no transpose pass over the output)."""
    o, _, kh, kw = w.shape
    n, _, h, wd = x.shape
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(wd, kw, stride, padding)
    cols = im2col(x, kh, kw, stride, padding)
    out = np.matmul(w.reshape(o, -1), cols.reshape(n, oh * ow, -1).transpose(0, 2, 1))
    if b is not None:
        out += b[:, None]
    return out.reshape(n, o, oh, ow), (cols, x.shape, w, stride, padding)


def conv2d_backward(dout, cache, need_dx=True):
    """dout: (N, O, OH, OW). Returns (dx (N, C, H, W) or None, dw (O, C, KH, KW), db (O,)).

    dW = sum_n dout_n (O x L) @ cols_n (L x K); dcols_n = dout_n^T @ W; dx = col2im(dcols) (the adjoint of im2col
    sums the overlapping windows)."""
    cols, x_shape, w, stride, padding = cache
    o, _, kh, kw = w.shape
    n = dout.shape[0]
    d3 = dout.reshape(n, o, -1)
    cols3 = cols.reshape(n, d3.shape[2], -1)
    dw = np.matmul(d3, cols3).sum(axis=0).reshape(w.shape)
    db = np.einsum("nol->o", d3)
    dx = None
    if need_dx:
        dcols = np.matmul(d3.transpose(0, 2, 1), w.reshape(o, -1)).reshape(cols.shape)
        dx = col2im(dcols, x_shape, kh, kw, stride, padding)
    return dx, dw, db


def conv2d_backward_chunked(dout, x, w, stride, padding, need_dx=True, images_per_chunk=32):
    """The same gradients as conv2d_backward, from the input x instead of cached columns: im2col, the two matrix
    products and col2im run on a few images at a time, so the columns stay in cache instead of making a round trip
    through memory (the binary layers use this: they never build float columns in the forward pass).
    dout: (N, O, OH, OW), x: (N, C, H, W), w: (O, C, KH, KW). Returns (dx or None, dw, db)."""
    o, _, kh, kw = w.shape
    w_mat = w.reshape(o, -1)
    dw = np.zeros(w_mat.shape, np.result_type(dout, x))
    dx = np.empty(x.shape, np.result_type(dout, w)) if need_dx else None
    for start in range(0, x.shape[0], images_per_chunk):
        part = slice(start, start + images_per_chunk)
        cols = im2col(x[part], kh, kw, stride, padding)
        d = dout[part].transpose(0, 2, 3, 1).reshape(-1, o)
        dw += d.T @ cols
        if need_dx:
            dx[part] = col2im(d @ w_mat, x[part].shape, kh, kw, stride, padding)
    return dx, dw.reshape(w.shape), np.einsum("nohw->o", dout)


class ConvGeometry:
    """Channel counts, kernel, stride and padding shared by Conv2d and BinaryConv2d, with the shape check."""

    def _set_geometry(self, in_channels, out_channels, kernel_size, stride, padding):
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")[0]
        self.padding = pair(padding, "padding")[0]

    def describe(self):
        kh, kw = self.kernel_size
        extra = (f" stride {self.stride}" if self.stride != 1 else "") + (f" pad {self.padding}" if self.padding else "")
        return f"{self.in_channels} -> {self.out_channels} {kh}x{kw}{extra}"

    def output_shape(self, input_shape):
        check_input(self, input_shape, (None, self.in_channels, None, None))
        n, _, h, w = input_shape
        kh, kw = self.kernel_size
        return (n, self.out_channels, conv_output_size(h, kh, self.stride, self.padding),
                conv_output_size(w, kw, self.stride, self.padding))

    def _mac_count(self, input_shape):
        n, _, oh, ow = self.output_shape(input_shape)
        return n * oh * ow * self.out_channels * self.in_channels * self.kernel_size[0] * self.kernel_size[1]


class Conv2d(ConvGeometry, Layer):
    """Float convolution; weights N(0, weight_std^2), bias 0 (the reference models' initialization)."""

    def __init__(self, in_channels, out_channels, kernel_size, rng, stride=1, padding=0, weight_std=0.05, bias=True):
        Layer.__init__(self)
        self._set_geometry(in_channels, out_channels, kernel_size, stride, padding)
        self.params["weight"] = init_normal(rng, (self.out_channels, self.in_channels) + self.kernel_size, weight_std)
        if bias:
            self.params["bias"] = np.zeros(self.out_channels, np.float32)

    def macs(self, input_shape):
        return self._mac_count(input_shape), 0

    def forward(self, x, training):
        self.output_shape(x.shape)
        out, self.cache = conv2d_forward(x, self.params["weight"], self.params.get("bias"), self.stride, self.padding)
        return out

    def backward(self, dout):
        dx, self.grads["weight"], db = conv2d_backward(dout, self.cache, self.needs_input_grad)
        if "bias" in self.params:
            self.grads["bias"] = db
        return dx
