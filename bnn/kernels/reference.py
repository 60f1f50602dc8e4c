"""Plain-NumPy twins of the Numba kernels: slow, obviously correct, and compared with them bit for bit in tests
(batch normalization within float32 rounding: its kernel sums in float64 in its own order).

They share no code with the kernels beyond the bit convention of :mod:`bnn.kernels.bitpack`.
"""
import numpy as np

from .bitpack import n_words


def sign(x):
    """±1 with sign(0) = +1, as float64."""
    return np.where(np.asarray(x) >= 0, 1.0, -1.0)


def pack_signs(x, axis=-1):
    """Twin of bitpack.pack_signs via np.packbits (little bit order, little-endian words)."""
    bits = np.moveaxis(np.asarray(x) >= 0, axis, -1)
    nbits = bits.shape[-1]
    padded = np.zeros(bits.shape[:-1] + (64 * n_words(nbits),), np.uint8)
    padded[..., :nbits] = bits
    words = np.packbits(padded, axis=-1, bitorder="little").view("<u8").astype(np.uint64)
    return np.ascontiguousarray(np.moveaxis(words, -1, axis)), nbits


def unpack_signs(packed, nbits, axis=-1, dtype=np.float32):
    """Twin of bitpack.unpack_signs via np.unpackbits."""
    words_last = np.ascontiguousarray(np.moveaxis(packed, axis, -1)).astype("<u8")
    bits = np.unpackbits(words_last.view(np.uint8), axis=-1, count=nbits, bitorder="little")
    return np.moveaxis((2 * bits.astype(np.int8) - 1).astype(dtype), -1, axis)


def popcount(words):
    """Twin of popcount.popcount: set bits per uint64, counted one bit at a time."""
    words = np.asarray(words, np.uint64)
    return sum(((words >> np.uint64(b)) & np.uint64(1)).astype(np.uint8) for b in range(64)).astype(np.uint8)


def unpack_rows(packed, nbits):
    """(R, W) words → (R, nbits) ±1 int64, bit by bit."""
    bit = np.arange(nbits)
    return np.where((packed[:, bit // 64] >> (bit % 64).astype(np.uint64)) & np.uint64(1), 1, -1).astype(np.int64)


def xnor_gemm(a_packed, b_packed, k):
    """Twin of gemm.xnor_gemm: integer matmul of the unpacked ±1 rows."""
    return (unpack_rows(a_packed, k) @ unpack_rows(b_packed, k).T).astype(np.int32)


def binary_dense(x, w):
    """Twin of gemm.binary_dense: float64 matmul of signs."""
    return (sign(x) @ sign(w).T).astype(np.float32)


def im2col(x, kh, kw, stride=1, padding=0):
    """Twin of im2col.im2col, cs231n style: one strided slice per kernel tap."""
    n, c, h, w = x.shape
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    xpad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((n, c, kh, kw, oh, ow), x.dtype)
    for ky in range(kh):
        for kx in range(kw):
            cols[:, :, ky, kx] = xpad[:, :, ky:ky + stride * oh:stride, kx:kx + stride * ow:stride]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c * kh * kw)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """Twin of im2col.col2im: the transpose of the slicing above, summing overlaps."""
    n, c, h, w = x_shape
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    cols6 = cols.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    xpad = np.zeros((n, c, h + 2 * padding, w + 2 * padding), cols.dtype)
    for ky in range(kh):
        for kx in range(kw):
            xpad[:, :, ky:ky + stride * oh:stride, kx:kx + stride * ow:stride] += cols6[:, :, ky, kx]
    return xpad[:, :, padding:padding + h, padding:padding + w]


def binary_conv2d(x, w, stride=1, padding=0):
    """Twin of conv.binary_conv2d: float64 convolution of zero-padded sign(x) with sign(w)."""
    n = x.shape[0]
    o, _, kh, kw = w.shape
    cols = im2col(sign(x), kh, kw, stride, padding)   # padding is applied after sign: padded entries are 0
    out = cols @ sign(w).reshape(o, -1).T
    oh, ow = (x.shape[2] + 2 * padding - kh) // stride + 1, (x.shape[3] + 2 * padding - kw) // stride + 1
    return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2).astype(np.float32)


def _window_cells(x_padded, k, stride, oh, ow):
    """Yield (offset dy*k + dx, view (N, C, OH, OW)) for the k*k cells of every pooling window."""
    for dy in range(k):
        for dx in range(k):
            yield dy * k + dx, x_padded[:, :, dy:dy + stride * (oh - 1) + 1:stride, dx:dx + stride * (ow - 1) + 1:stride]


def maxpool2d(x, k, stride, padding):
    """Twin of pool.maxpool2d: k*k whole-array passes over the -inf-padded input, strict > so ties keep the
    earlier cell."""
    oh, ow = (x.shape[2] + 2 * padding - k) // stride + 1, (x.shape[3] + 2 * padding - k) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    out = np.full(x.shape[:2] + (oh, ow), -np.inf, x.dtype)
    winner = np.zeros(out.shape, np.uint8 if k * k <= 256 else np.int32)
    for i, view in _window_cells(xp, k, stride, oh, ow):
        better = (view > out) | (np.isnan(view) & ~np.isnan(out))
        out[better], winner[better] = view[better], i
    return out, winner


def maxpool2d_backward(dout, winner, input_shape, k, stride, padding):
    """Twin of pool.maxpool2d_backward: scatter into the padded input one window cell at a time, then crop."""
    n, c, h, w = input_shape
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dout.dtype)
    planes = np.ix_(range(n), range(c))
    for oy in range(dout.shape[2]):   # windows in the kernel's order, so overlapping windows sum alike
        for ox in range(dout.shape[3]):
            cell = winner[:, :, oy, ox].astype(np.int64)
            dxp[planes + (oy * stride + cell // k, ox * stride + cell % k)] += dout[:, :, oy, ox]
    return dxp[:, :, padding:padding + h, padding:padding + w]


def avgpool2d(x, k, stride, padding):
    """Twin of pool.avgpool2d: sum the k*k zero-padded window cells as whole arrays, divide by k*k."""
    oh, ow = (x.shape[2] + 2 * padding - k) // stride + 1, (x.shape[3] + 2 * padding - k) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros(x.shape[:2] + (oh, ow), x.dtype)
    for _, view in _window_cells(xp, k, stride, oh, ow):
        out += view
    return out / x.dtype.type(k * k)


def avgpool2d_backward(dout, input_shape, k, stride, padding):
    """Twin of pool.avgpool2d_backward: add dout / k*k into every window cell, one cell offset at a time."""
    n, c, h, w = input_shape
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dout.dtype)
    for _, view in _window_cells(dxp, k, stride, *dout.shape[2:]):
        view += dout / dout.dtype.type(k * k)
    return dxp[:, :, padding:padding + h, padding:padding + w]


def batchnorm_train(x3, gamma, beta, eps):
    """Twin of batchnorm.batchnorm_train in float64 NumPy: (out, xhat, mean, var, inv_std)."""
    x = np.asarray(x3, np.float64)
    mean, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    inv_std = 1 / np.sqrt(var + eps)
    xhat = (x - mean[:, None]) * inv_std[:, None]
    out = xhat if gamma is None else xhat * gamma[:, None] + beta[:, None]
    return out, xhat, mean, var, inv_std


def batchnorm_train_backward(dout3, xhat, scale):
    """Twin of batchnorm.batchnorm_train_backward in float64 NumPy: (dx, dgamma, dbeta)."""
    d, xhat = np.asarray(dout3, np.float64), np.asarray(xhat, np.float64)
    m = d.shape[0] * d.shape[2]
    dbeta, dgamma = d.sum(axis=(0, 2)), (d * xhat).sum(axis=(0, 2))
    dx = scale[:, None] * (d - dbeta[:, None] / m - xhat * dgamma[:, None] / m)
    return dx, dgamma, dbeta


def xnor_binarize(w):
    """Twin of weights.xnor_binarize: (signs, alpha = mean |W| per output unit)."""
    return np.where(w >= 0, 1, -1).astype(w.dtype), np.abs(w).reshape(w.shape[0], -1).mean(axis=1)


def xnor_latent_grad(w, dwb, signs, alpha, full, scale):
    """Twin of weights.xnor_latent_grad, written as the formulas read."""
    n = w[0].size
    per_unit = (-1,) + (1,) * (w.ndim - 1)
    inside = np.abs(w) <= 1
    if full:
        mean_term = (signs * dwb).reshape(w.shape[0], -1).sum(axis=1) / n
        dw = alpha.reshape(per_unit) * inside * dwb + signs * mean_term.reshape(per_unit)
    else:
        dw = dwb * (1 / n + alpha.reshape(per_unit) * inside)
    return (scale * dw).astype(w.dtype)


def adam_update(p, g, m, v, step_size, beta1, beta2, sqrt_correction2, eps, weight_decay):
    """Twin of adam.adam_update: PyTorch's Adam step as whole-array NumPy operations, in place."""
    g = g + weight_decay * p
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    p -= step_size * m / (np.sqrt(v) / sqrt_correction2 + eps)


def hardtanh_grad(dout, x):
    """Twin of activation.hardtanh_grad."""
    return dout * (np.abs(x) < 1)


def relu(x):
    """Twin of activation.relu: the product with the mask keeps NaN."""
    return x * ~(x <= 0)


def relu_grad(dout, out):
    """Twin of activation.relu_grad."""
    return dout * (out > 0)


def set_bits(positions, rows, nbits, mask):
    """Twin of flips.set_bits: OR single bits into mask (rows, words) in place."""
    positions = np.asarray(positions, np.int64)
    row, bit = positions // nbits, positions % nbits
    np.bitwise_or.at(mask, (row, bit // 64), np.left_shift(np.uint64(1), (bit % 64).astype(np.uint64)))


def compare_digits(digits, pool, words, start):
    """Twin of flips.compare_digits, one lane at a time: bit j of word w is 1 iff the uniform whose binary digits
    are bit j of successive pool words is below 0.d1 d2 d3...  Consumes the pool exactly like the kernel."""
    used = 0
    for w in range(start, words.size):
        needed, bits = 0, 0
        for lane in range(64):
            lane_digits = 0
            for digit in digits:
                lane_digits += 1
                r = (int(pool[used + lane_digits - 1]) >> lane) & 1 if used + lane_digits - 1 < pool.size else None
                if r is None:
                    return w
                if r != digit:
                    bits |= int(r < digit) << lane
                    break
            needed = max(needed, lane_digits)
        words[w] = np.uint64(bits)
        used += needed
    return words.size
