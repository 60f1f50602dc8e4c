"""XNOR-popcount matrix product of packed ±1 matrices, and the binary dense layer built on it.

For ±1 vectors a, b of length k stored as bits (bit 1 = +1), a·b = (#equal) − (#different) = k − 2·popcount(a ^ b).
Tail bits are 0 in both operands, so they are equal and add nothing to popcount(a ^ b).

The kernel transposes B to (W, N) so the innermost loop runs over N contiguous output columns: one A word is XOR-ed
against a row of B words, popcounted and accumulated — a loop LLVM vectorizes (VPOPCNTQ on AVX-512).  Columns are
tiled so a tile of B^T stays in L1 while a block of A rows streams past it; row blocks run in parallel (prange).
"""
import numpy as np
from numba import njit, prange

from .bitpack import check_packed, pack_signs
from .popcount import popcount64

ROW_BLOCK = 32   # A rows per parallel task
COL_TILE = 64    # B columns per tile: W * 64 * 8 bytes of B^T, L1-sized for W up to ~80 words


@njit(parallel=True, cache=True)
def _xnor_gemm_kernel(a, bt, k, out):
    m, n_words = a.shape
    n = bt.shape[1]
    n_blocks = (m + ROW_BLOCK - 1) // ROW_BLOCK
    for blk in prange(n_blocks):
        acc = np.empty(COL_TILE, np.int64)
        row_stop = min(m, (blk + 1) * ROW_BLOCK)
        for j0 in range(0, n, COL_TILE):
            width = min(COL_TILE, n - j0)
            for i in range(blk * ROW_BLOCK, row_stop):
                acc[:width] = 0
                for wd in range(n_words):
                    word = a[i, wd]
                    for j in range(width):
                        acc[j] += popcount64(word ^ bt[wd, j0 + j])
                for j in range(width):
                    out[i, j0 + j] = k - 2 * acc[j]


def xnor_gemm(a_packed, b_packed, k):
    """Dot products of packed ±1 rows: a (M, W) and b (N, W) uint64, k bits per row → int32 (M, N).

    Equal exactly to ``unpack(a) @ unpack(b).T``.  W must be ceil(k / 64) and tail bits must be 0.
    """
    check_packed(a_packed, k, axis=-1, name="a_packed")
    check_packed(b_packed, k, axis=-1, name="b_packed")
    if a_packed.ndim != 2 or b_packed.ndim != 2:
        raise ValueError(f"a_packed and b_packed must be 2-D (rows, words), got {a_packed.shape} and {b_packed.shape}")
    out = np.empty((a_packed.shape[0], b_packed.shape[0]), np.int32)
    _xnor_gemm_kernel(np.ascontiguousarray(a_packed), np.ascontiguousarray(b_packed.T), int(k), out)
    return out


def binary_dense(x, w):
    """sign(x) @ sign(w).T for x (N, K) and w (O, K) real arrays → float32 (N, O), sign(0) = +1."""
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(f"binary_dense needs x (N, K) and w (O, K) with equal K, got {x.shape} and {w.shape}")
    xp, k = pack_signs(x, axis=-1)
    wp, _ = pack_signs(w, axis=-1)
    return xnor_gemm(xp, wp, k).astype(np.float32)
