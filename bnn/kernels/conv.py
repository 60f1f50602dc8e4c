"""Binary 2-D convolution (NCHW input, OIHW weights) by XNOR-popcount over per-pixel channel words.

Zero padding: the result must equal the float convolution of *zero-padded* sign(x) with sign(w).  A padded
position is 0, which is neither +1 nor −1, so it cannot be stored as a bit.  For one output pixel let T be its taps
inside the image; with C channels per tap the exact result is

    out = sum over t in T of (C − 2·popcount(x_t ^ w_t)) = C·|T| − 2·sum over t in T of popcount(x_t ^ w_t).

The kernel gathers zero words for outside taps so that every pixel runs the same vectorized loop; a zero word adds
popcount(0 ^ w_t) = popcount(w_t) for each outside tap, which depends on the weights only, so it is subtracted
afterwards (the weight-only correction term), and |T| counts inside taps only.  Padded taps therefore contribute
exactly 0 — not the −sum(w_t) that treating them as −1 would give.  Channel tail bits are 0 in both words, so they
never count.

Loop order (the conv as a GEMM on packed words, output NCHW-native): a task is a tile of up to 1024 output pixels of
one image.  It gathers the per-pixel channel words of every tap into cols (taps·CW, pixels) — im2col on words, ~32×
smaller than the float32 im2col — then, for 4 output channels at a time, XOR-popcounts each weight word against a row
of cols.  The innermost loop runs over contiguous pixels and vectorizes (VPOPCNTQ); each cols load serves 4 output
channels; each finished output channel is a contiguous run of the NCHW output (no transposition).
"""
import numpy as np
from numba import njit, prange

from .bitpack import as_real_array, check_packed, output_array, pack_conv_input, pack_conv_weights
from .im2col import conv_output_size
from .popcount import popcount64

OUT_BLOCK = 4           # output channels that share each load of an input word
MAX_TILE_PIXELS = 1024  # output pixels per parallel task (fewer when the gathered words would exceed ~512 KB)


@njit(parallel=True, cache=True)
def _binary_conv_kernel(xp, w_rows, w_tap_counts, kh, kw, channels, stride, padding, out):
    """w_rows: (O, even n_cols >= KH*KW*CW) weight words per tap; w_tap_counts: (O, KH*KW) popcount per tap."""
    n_img, height, width, cw = xp.shape
    n_out, n_cols = w_rows.shape
    npix = out.shape[2] * out.shape[3]
    ow_n = out.shape[3]
    tile = max(64, min(MAX_TILE_PIXELS, 65536 // n_cols))
    n_tiles = (npix + tile - 1) // tile
    flat = out.reshape(n_img, n_out, npix)
    for task in prange(n_img * n_tiles):
        n = task // n_tiles
        p0 = (task % n_tiles) * tile
        m = min(tile, npix - p0)
        # gather: cols[tap*CW + c, p] = input word c of output pixel p at this tap, 0 outside the image
        cols = np.empty((n_cols, m), np.uint64)
        cols[kh * kw * cw:, :] = 0   # the zero word that pads n_cols to even (matching a zero weight word)
        inside = np.zeros(m, np.int64)
        outside_tap = np.empty(kh * kw * m, np.int64)
        outside_pixel = np.empty(kh * kw * m, np.int64)
        n_outside = 0
        for ky in range(kh):
            for kx in range(kw):
                tap = ky * kw + kx
                for p in range(m):
                    oh = (p0 + p) // ow_n
                    iy = oh * stride - padding + ky
                    ix = (p0 + p - oh * ow_n) * stride - padding + kx
                    if 0 <= iy < height and 0 <= ix < width:
                        inside[p] += channels
                        for c in range(cw):
                            cols[tap * cw + c, p] = xp[n, iy, ix, c]
                    else:
                        for c in range(cw):
                            cols[tap * cw + c, p] = 0
                        outside_tap[n_outside] = tap
                        outside_pixel[n_outside] = p
                        n_outside += 1
        acc = np.empty((OUT_BLOCK, m), np.int64)
        for o in range(0, n_out, OUT_BLOCK):
            # a short last block repeats channel n_out-1 rather than branching; only real channels are stored
            o1, o2, o3 = min(o + 1, n_out - 1), min(o + 2, n_out - 1), min(o + 3, n_out - 1)
            acc[:, :] = 0
            for col in range(0, n_cols, 2):   # two words per accumulator update halves the load/store traffic
                w0, w1, w2, w3 = w_rows[o, col], w_rows[o1, col], w_rows[o2, col], w_rows[o3, col]
                v0, v1, v2, v3 = w_rows[o, col + 1], w_rows[o1, col + 1], w_rows[o2, col + 1], w_rows[o3, col + 1]
                for p in range(m):
                    x, y = cols[col, p], cols[col + 1, p]
                    acc[0, p] += popcount64(w0 ^ x) + popcount64(v0 ^ y)
                    acc[1, p] += popcount64(w1 ^ x) + popcount64(v1 ^ y)
                    acc[2, p] += popcount64(w2 ^ x) + popcount64(v2 ^ y)
                    acc[3, p] += popcount64(w3 ^ x) + popcount64(v3 ^ y)
            for e in range(n_outside):   # the weight-only correction of the zero words of outside taps
                tap, p = outside_tap[e], outside_pixel[e]
                acc[0, p] -= w_tap_counts[o, tap]
                acc[1, p] -= w_tap_counts[o1, tap]
                acc[2, p] -= w_tap_counts[o2, tap]
                acc[3, p] -= w_tap_counts[o3, tap]
            for r in range(min(OUT_BLOCK, n_out - o)):
                for p in range(m):
                    flat[n, o + r, p0 + p] = inside[p] - 2 * acc[r, p]


def binary_conv2d_packed(xp, wp, channels, stride=1, padding=0, out=None):
    """Binary convolution of packed operands.

    xp: (N, H, W, CW) uint64 from :func:`pack_conv_input`; wp: (O, KH, KW, CW) uint64 from
    :func:`pack_conv_weights`; channels: C, with CW = ceil(C / 64).  Returns float32 (N, O, OH, OW), the
    convolution of zero-padded ±1 input with ±1 weights (integers, exact in float32 up to 2**24).
    ``out``: optional C-contiguous float32 (N, O, OH, OW) array to write into instead of allocating.
    """
    check_packed(xp, channels, axis=-1, name="xp")
    check_packed(wp, channels, axis=-1, name="wp")
    if xp.ndim != 4 or wp.ndim != 4:
        raise ValueError(f"xp must be (N, H, W, CW) and wp (O, KH, KW, CW), got {xp.shape} and {wp.shape}")
    n, h, w, _ = xp.shape
    o, kh, kw, _ = wp.shape
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    out = output_array(out, (n, o, oh, ow), np.float32)
    w_rows = np.ascontiguousarray(wp).reshape(o, -1)
    w_tap_counts = np.bitwise_count(w_rows).reshape(o, kh * kw, -1).sum(axis=2, dtype=np.int64)
    if w_rows.shape[1] % 2:   # the kernel takes words in pairs; a zero word pair adds popcount(0 ^ 0) = 0
        w_rows = np.concatenate([w_rows, np.zeros((o, 1), np.uint64)], axis=1)
    _binary_conv_kernel(np.ascontiguousarray(xp), w_rows, w_tap_counts, kh, kw, int(channels), int(stride),
                        int(padding), out)
    return out


def binary_conv2d(x, w, stride=1, padding=0):
    """Convolution of zero-padded sign(x) with sign(w): x (N, C, H, W), w (O, C, KH, KW) real → float32 (N, O, OH, OW)."""
    x, w = as_real_array(x), as_real_array(w, "w")
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(f"binary_conv2d needs x (N, C, H, W) and w (O, C, KH, KW) with equal C, "
                         f"got {x.shape} and {w.shape}")
    return binary_conv2d_packed(pack_conv_input(x), pack_conv_weights(w), x.shape[1], stride, padding)
