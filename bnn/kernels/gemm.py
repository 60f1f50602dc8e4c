"""XNOR-popcount matrix product of packed ±1 matrices, and the binary dense layer built on it.

For ±1 vectors a, b of length k stored as bits (bit 1 = +1), a·b = (#equal) − (#different) = k − 2·popcount(a ^ b).
Tail bits are 0 in both operands, so they are equal and add nothing to popcount(a ^ b).

The kernel transposes B to (W, N) so the innermost loop runs over N contiguous output columns: a word of each of 4
A rows is XOR-ed against one row of B words, popcounted and accumulated — a loop LLVM vectorizes (VPOPCNTQ on
AVX-512), with each B load shared by the 4 rows and two words summed per accumulator update.  Blocks of 4 rows run
in parallel (prange).
"""
import numpy as np
from numba import njit, prange

from .bitpack import check_packed, output_array, pack_signs
from .popcount import popcount64

ROW_BLOCK = 4   # A rows that share each load of B^T (their accumulators stay in L1)


@njit(parallel=True, cache=True)
def _xnor_gemm_kernel(a, bt, k, out):
    """a: (M, W) words; bt: (W rounded up to even, N) words of B^T, its padding row 0; out: (M, N) int32."""
    m, n_words = a.shape
    n = bt.shape[1]
    zero = np.uint64(0)
    for blk in prange((m + ROW_BLOCK - 1) // ROW_BLOCK):
        i = blk * ROW_BLOCK
        # a short last block repeats row m-1 instead of branching into a second loop; only real rows are stored
        i1, i2, i3 = min(i + 1, m - 1), min(i + 2, m - 1), min(i + 3, m - 1)
        acc = np.zeros((ROW_BLOCK, n), np.int64)
        for wd in range(0, n_words, 2):   # two words per accumulator update halves the load/store traffic
            a0, a1, a2, a3 = a[i, wd], a[i1, wd], a[i2, wd], a[i3, wd]
            if wd + 1 < n_words:
                c0, c1, c2, c3 = a[i, wd + 1], a[i1, wd + 1], a[i2, wd + 1], a[i3, wd + 1]
            else:                         # odd W: a zero word against bt's zero padding row adds nothing
                c0, c1, c2, c3 = zero, zero, zero, zero
            for j in range(n):
                b, d = bt[wd, j], bt[wd + 1, j]
                acc[0, j] += popcount64(a0 ^ b) + popcount64(c0 ^ d)
                acc[1, j] += popcount64(a1 ^ b) + popcount64(c1 ^ d)
                acc[2, j] += popcount64(a2 ^ b) + popcount64(c2 ^ d)
                acc[3, j] += popcount64(a3 ^ b) + popcount64(c3 ^ d)
        for r in range(min(ROW_BLOCK, m - i)):
            for j in range(n):
                out[i + r, j] = k - 2 * acc[r, j]


def xnor_gemm(a_packed, b_packed, k, out=None):
    """Dot products of packed ±1 rows: a (M, W) and b (N, W) uint64, k bits per row → int32 (M, N).

    Equal exactly to ``unpack(a) @ unpack(b).T``.  W must be ceil(k / 64) and tail bits must be 0.
    ``out``: optional C-contiguous int32 (M, N) array to write into (saves allocating a large result per call).
    """
    check_packed(a_packed, k, axis=-1, name="a_packed")
    check_packed(b_packed, k, axis=-1, name="b_packed")
    if a_packed.ndim != 2 or b_packed.ndim != 2:
        raise ValueError(f"a_packed and b_packed must be 2-D (rows, words), got {a_packed.shape} and {b_packed.shape}")
    out = output_array(out, (a_packed.shape[0], b_packed.shape[0]), np.int32)
    n_words = a_packed.shape[1]
    bt = np.zeros((n_words + n_words % 2, b_packed.shape[0]), np.uint64)
    bt[:n_words] = b_packed.T
    _xnor_gemm_kernel(np.ascontiguousarray(a_packed), bt, int(k), out)
    return out


def binary_dense(x, w):
    """sign(x) @ sign(w).T for x (N, K) and w (O, K) real arrays → float32 (N, O), sign(0) = +1."""
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(f"binary_dense needs x (N, K) and w (O, K) with equal K, got {x.shape} and {w.shape}")
    xp, k = pack_signs(x, axis=-1)
    wp, _ = pack_signs(w, axis=-1)
    return xnor_gemm(xp, wp, k).astype(np.float32)
