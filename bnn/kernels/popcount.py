"""Population count of a uint64 word, usable inside ``@njit`` code.

Numba has no CPU popcount builtin, so :func:`popcount64` is an intrinsic that emits LLVM's ``llvm.ctpop.i64``.
On x86-64 with POPCNT this is one instruction; inside a loop over contiguous words LLVM vectorizes it (AVX-512
VPOPCNTQ where the CPU has it), which is where the XNOR kernels get their speed.  It cannot be called from plain
Python; :func:`popcount` is the array version for Python callers and tests.
"""
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic


@intrinsic
def popcount64(typingctx, word):
    """Number of set bits of a uint64 (returns uint64). Only inside ``@njit`` code."""
    if word != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        ctpop = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(ctpop, args)

    return types.uint64(types.uint64), codegen


@njit(parallel=True, cache=True)
def _popcount_flat(words, out):
    for i in prange(words.size):
        out[i] = popcount64(words[i])


def popcount(words):
    """Set bits per element: uint64 array of any shape → uint8 array of the same shape."""
    if not isinstance(words, np.ndarray) or words.dtype != np.uint64:
        raise TypeError(f"words must be a numpy uint64 array, got {getattr(words, 'dtype', type(words))}")
    flat = np.ascontiguousarray(words).reshape(-1)
    out = np.empty(flat.size, np.uint8)
    _popcount_flat(flat, out)
    return out.reshape(words.shape)
