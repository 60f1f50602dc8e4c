"""2-D convolution in float precision via im2col + one matrix product (the first layer of every model, and the
algebra that the binary convolution's backward pass reuses)."""
import numpy as np

from ..kernels.im2col import col2im, conv_output_size, im2col
from ..parallel import chunks, parallel_map
from .base import Layer, check_input, pair
from .dense import init_normal


# Images per piece of parallel work. The chunks' weight gradients are summed in chunk order, so the result does not
# depend on the thread count.
IMAGES_PER_CHUNK = 32
COLUMN_BYTES = 2 << 20   # about one core's L2 cache


def conv2d_forward(x, w, b, stride, padding):
    """x: (N, C, H, W), w: (O, C, KH, KW), b: (O,) or None; square stride/padding (ints).
    Returns out (N, O, OH, OW) and cache. Zero padding.

    Per image, out_n = W (O x K) @ cols_n^T (K x L) with L = OH*OW output pixels and K = C*KH*KW: one stacked
    matrix product that writes NCHW directly (no transpose pass over the output). Chunks of images run in parallel
    (bnn.parallel); the cache keeps each chunk's columns for the backward pass."""
    o, _, kh, kw = w.shape
    n, _, h, wd = x.shape
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(wd, kw, stride, padding)
    w_mat = w.reshape(o, -1)
    out = np.empty((n, o, oh * ow), np.result_type(x, w))
    parts = chunks(n, IMAGES_PER_CHUNK)

    def forward_chunk(part):
        cols = im2col(x[part], kh, kw, stride, padding)
        np.matmul(w_mat, cols.reshape(-1, oh * ow, w_mat.shape[1]).transpose(0, 2, 1), out=out[part])
        return cols

    cols = parallel_map(forward_chunk, parts)
    if b is not None:
        out += b[:, None]
    return out.reshape(n, o, oh, ow), (parts, cols, x.shape, w, stride, padding)


def conv2d_backward(dout, cache, need_dx=True):
    """dout: (N, O, OH, OW). Returns (dx (N, C, H, W) or None, dw (O, C, KH, KW), db (O,)).

    dW = sum_n dout_n (O x L) @ cols_n (L x K); dcols_n = dout_n^T @ W; dx = col2im(dcols) (the adjoint of im2col
    sums the overlapping windows)."""
    parts, cols, x_shape, w, stride, padding = cache
    o, _, kh, kw = w.shape
    d3 = dout.reshape(dout.shape[0], o, -1)
    w_mat = w.reshape(o, -1)
    dx = np.empty(x_shape, np.result_type(dout, w)) if need_dx else None

    def backward_chunk(i):
        d = d3[parts[i]]
        c = cols[i].reshape(len(d), d3.shape[2], -1)
        if need_dx:
            dcols = np.matmul(d.transpose(0, 2, 1), w_mat)
            dx[parts[i]] = col2im(dcols.reshape(-1, w_mat.shape[1]), dx[parts[i]].shape, kh, kw, stride, padding)
        return np.matmul(d, c).sum(axis=0)

    dw = sum(parallel_map(backward_chunk, range(len(parts))))
    return dx, dw.reshape(w.shape), np.einsum("nol->o", d3)


def conv2d_backward_chunked(dout, x, w, stride, padding, need_dx=True, images_per_chunk=IMAGES_PER_CHUNK):
    """The same gradients as conv2d_backward, from the input x instead of cached columns (the binary layers use
    this: they never build float columns in the forward pass). Chunks of images run in parallel (bnn.parallel);
    within a chunk, im2col, the two matrix products and col2im run on as many images as keep the columns within
    COLUMN_BYTES, so they stay in cache instead of making a round trip through memory (for NiN's 5x5 layer one
    image's columns are 2.4 MB; whole chunks of 32 images made two threads slower than one).
    dout: (N, O, OH, OW), x: (N, C, H, W), w: (O, C, KH, KW). Returns (dx or None, dw, db)."""
    o, _, kh, kw = w.shape
    w_mat = w.reshape(o, -1)
    dx = np.empty(x.shape, np.result_type(dout, w)) if need_dx else None
    if (kh, kw, stride, padding) == (1, 1, 1, 0):
        return _pointwise_backward(dout, x, w_mat, dx, images_per_chunk) + (np.einsum("nohw->o", dout),)
    image_bytes = dout[0, 0].size * w_mat.shape[1] * x.itemsize
    step = max(1, COLUMN_BYTES // image_bytes)

    def backward_chunk(part):
        dw = np.zeros(w_mat.shape, np.result_type(dout, x))
        for start in range(part.start, part.stop, step):
            images = slice(start, min(start + step, part.stop))
            cols = im2col(x[images], kh, kw, stride, padding)
            d = dout[images].transpose(0, 2, 3, 1).reshape(-1, o)
            if need_dx:
                dx[images] = col2im(d @ w_mat, x[images].shape, kh, kw, stride, padding)
            dw += d.T @ cols
        return dw

    dw = sum(parallel_map(backward_chunk, chunks(x.shape[0], images_per_chunk)))
    return dx, dw.reshape(w.shape), np.einsum("nohw->o", dout)


def _pointwise_backward(dout, x, w_mat, dx, images_per_chunk):
    """(dx, dw) of a 1x1 convolution with stride 1 and no padding, in NCHW without columns: per image
    dx_n (C x HW) = W^T (C x O) @ dout_n (O x HW) and dW += dout_n (O x HW) @ x_n^T (HW x C); BLAS reads the
    transposed operands in place, so nothing is transposed in memory (im2col/col2im would be two full transposes)."""
    n, o = dout.shape[:2]
    d3, x3 = dout.reshape(n, o, -1), x.reshape(n, x.shape[1], -1)
    dx3 = None if dx is None else dx.reshape(x3.shape)

    def backward_chunk(part):
        dw = np.zeros(w_mat.shape, np.result_type(dout, x))
        for i in range(part.start, part.stop):
            dw += d3[i] @ x3[i].T
            if dx3 is not None:
                np.matmul(w_mat.T, d3[i], out=dx3[i])
        return dw

    dw = sum(parallel_map(backward_chunk, chunks(n, images_per_chunk)))
    return dx, dw.reshape(w_mat.shape + (1, 1))


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
