"""Binary 2-D convolution (NCHW input, OIHW weights) by XNOR-popcount over per-pixel channel words.

Zero padding: the result must equal the float convolution of *zero-padded* sign(x) with sign(w).  A padded
position is 0, which is neither +1 nor −1, so it cannot be stored as a bit: treating its word as all −1 would add
−sum(sign(w)) over the padded taps.  This kernel instead **skips** out-of-image taps.  For one output pixel let
T be the taps that fall inside the image; with C channels per tap,

    out = sum over t in T of (C − 2·popcount(x_t ^ w_t)) = C·|T| − 2·sum over t in T of popcount(x_t ^ w_t),

which is exactly the float result (padded taps contribute 0).  Channel tail bits are 0 in both words, so they never
count.  No im2col matrix is built: each output pixel reads its input words in place.

Loop order: a task is one output row (n, oh); for each output pixel and each inside tap, one input word is XOR-ed
against the O weight words of that tap (weights transposed to (KH, KW, CW, O)), so the innermost loop runs over
contiguous output channels and vectorizes.
"""
import numpy as np
from numba import njit, prange

from .bitpack import as_real_array, check_packed, pack_conv_input, pack_conv_weights
from .im2col import conv_output_size
from .popcount import popcount64


@njit(parallel=True, cache=True)
def _binary_conv_kernel(xp, wt, channels, stride, padding, out):
    n_img, height, width, cw = xp.shape
    kh, kw, _, n_out = wt.shape
    oh_n, ow_n = out.shape[2], out.shape[3]
    for task in prange(n_img * oh_n):
        n = task // oh_n
        oh = task % oh_n
        acc = np.zeros((ow_n, n_out), np.int64)
        inside = np.zeros(ow_n, np.int64)
        for ow in range(ow_n):
            for ky in range(kh):
                iy = oh * stride - padding + ky
                if iy < 0 or iy >= height:
                    continue
                for kx in range(kw):
                    ix = ow * stride - padding + kx
                    if ix < 0 or ix >= width:
                        continue
                    inside[ow] += 1
                    for c in range(cw):
                        word = xp[n, iy, ix, c]
                        for o in range(n_out):
                            acc[ow, o] += popcount64(word ^ wt[ky, kx, c, o])
        for o in range(n_out):
            for ow in range(ow_n):
                out[n, o, oh, ow] = channels * inside[ow] - 2 * acc[ow, o]


def binary_conv2d_packed(xp, wp, channels, stride=1, padding=0):
    """Binary convolution of packed operands.

    xp: (N, H, W, CW) uint64 from :func:`pack_conv_input`; wp: (O, KH, KW, CW) uint64 from
    :func:`pack_conv_weights`; channels: C, with CW = ceil(C / 64).  Returns float32 (N, O, OH, OW), the
    convolution of zero-padded ±1 input with ±1 weights (integers, exact in float32 up to 2**24).
    """
    check_packed(xp, channels, axis=-1, name="xp")
    check_packed(wp, channels, axis=-1, name="wp")
    if xp.ndim != 4 or wp.ndim != 4:
        raise ValueError(f"xp must be (N, H, W, CW) and wp (O, KH, KW, CW), got {xp.shape} and {wp.shape}")
    n, h, w, _ = xp.shape
    o, kh, kw, _ = wp.shape
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    out = np.empty((n, o, oh, ow), np.float32)
    wt = np.ascontiguousarray(wp.transpose(1, 2, 3, 0))
    _binary_conv_kernel(np.ascontiguousarray(xp), wt, int(channels), int(stride), int(padding), out)
    return out


def binary_conv2d(x, w, stride=1, padding=0):
    """Convolution of zero-padded sign(x) with sign(w): x (N, C, H, W), w (O, C, KH, KW) real → float32 (N, O, OH, OW)."""
    x, w = as_real_array(x), as_real_array(w, "w")
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(f"binary_conv2d needs x (N, C, H, W) and w (O, C, KH, KW) with equal C, "
                         f"got {x.shape} and {w.shape}")
    return binary_conv2d_packed(pack_conv_input(x), pack_conv_weights(w), x.shape[1], stride, padding)
