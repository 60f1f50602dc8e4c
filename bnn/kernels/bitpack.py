"""Packing ±1 tensors into uint64 words, and back.

The one bit convention of the project
-------------------------------------
A binary value is stored as one bit: **bit 1 means +1, bit 0 means −1**, and packing takes the sign of a real
number with ``sign(0) = +1`` (bit = ``x >= 0``; NaN compares false and packs as −1).  Element ``i`` of the packed
axis lands in word ``i // 64`` at bit ``i % 64`` (least significant bit first).  A packed axis of ``nbits``
elements becomes a word axis of ``ceil(nbits / 64)`` words; the unused high bits of the last word (the *tail*)
are always 0.  Tail bits are 0 in both operands of every XNOR product, so ``a ^ b`` is 0 there and they never
count; any code that edits packed words (bit flips) must keep them 0, and the kernels check that they are.

Layouts (all C-contiguous ``uint64``)
-------------------------------------
- ``pack_signs(x, axis)``: the shape of ``x`` with ``axis`` replaced by its word count.
- ``pack_conv_input(x)``: NCHW activations → ``(N, H, W, CW)``, the C channels of each pixel packed into
  ``CW = ceil(C / 64)`` words.  A convolution then gathers whole words per kernel tap instead of bits.
- ``pack_conv_weights(w)``: OIHW weights → ``(O, KH, KW, CW)``, the same per-tap channel words.
``unpack_signs`` and ``unpack_conv_input`` invert these (e.g. to read back activations after bit flips).
"""
import numpy as np
from numba import njit, prange

WORD_BITS = 64


def n_words(nbits):
    """Number of uint64 words holding ``nbits`` bits."""
    return (nbits + WORD_BITS - 1) // WORD_BITS


def tail_mask(nbits):
    """The valid bits of the last word of an ``nbits``-bit axis, as a uint64 (all ones when nbits % 64 == 0)."""
    rem = nbits % WORD_BITS
    return np.uint64(0xFFFFFFFFFFFFFFFF) if rem == 0 else np.uint64((1 << rem) - 1)


def as_real_array(x, name="x"):
    """``x`` as a float32/float64 array; other real dtypes are cast to float32 (signs are preserved)."""
    x = np.asarray(x)
    if x.dtype in (np.float32, np.float64):
        return x
    if x.dtype == np.bool_ or not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise TypeError(f"{name} must be a real (float or integer) array, got dtype {x.dtype}")
    return x.astype(np.float32)


def output_array(out, shape, dtype):
    """A new C-contiguous array of ``shape``/``dtype``, or ``out`` after checking that it is one."""
    if out is None:
        return np.empty(shape, dtype)
    if (not isinstance(out, np.ndarray) or out.dtype != dtype or out.shape != tuple(shape)
            or not out.flags.c_contiguous):
        raise ValueError(f"out must be a C-contiguous {np.dtype(dtype)} array of shape {tuple(shape)}, got "
                         f"{getattr(out, 'dtype', type(out))} {getattr(out, 'shape', '')}")
    return out


def check_packed(packed, nbits, axis=-1, name="packed"):
    """Validate a packed array: uint64, ``ceil(nbits/64)`` words along ``axis``, tail bits 0. Returns the array."""
    if not isinstance(packed, np.ndarray) or packed.dtype != np.uint64:
        raise TypeError(f"{name} must be a numpy uint64 array, got {getattr(packed, 'dtype', type(packed))}")
    if int(nbits) != nbits or nbits < 1:
        raise ValueError(f"nbits must be a positive integer, got {nbits}")
    if packed.ndim == 0:
        raise ValueError(f"{name} must have at least one axis (the word axis)")
    words = packed.shape[axis]
    if words != n_words(nbits):
        raise ValueError(f"{name} has {words} words along axis {axis}, expected ceil({nbits}/64) = {n_words(nbits)}")
    last = np.take(packed, words - 1, axis=axis)
    if np.any(last & ~tail_mask(nbits)):
        raise ValueError(f"{name} has tail bits set beyond bit {nbits} of its last word; they must be 0")
    return packed


@njit(parallel=True, cache=True)
def _pack_rows(x, out):
    """x: (R, nbits) float → out: (R, words) uint64, signs packed along the contiguous last axis."""
    rows, nbits = x.shape
    for r in prange(rows):
        for wd in range(out.shape[1]):
            start = wd * 64
            stop = min(start + 64, nbits)
            word = np.uint64(0)
            for b in range(stop - start):
                if x[r, start + b] >= 0:
                    word |= np.uint64(1) << np.uint64(b)
            out[r, wd] = word


@njit(parallel=True, cache=True)
def _pack_middle(x, out):
    """x: (A, nbits, B) float → out: (A, B, words) uint64, signs packed along the middle axis.

    The loop over the contiguous axis B is innermost, so it vectorizes; each bit plane is OR-ed in at once.
    """
    outer, nbits, inner = x.shape
    words = out.shape[2]
    for t in prange(outer * words):
        a = t // words
        wd = t % words
        acc = np.zeros(inner, np.uint64)
        start = wd * 64
        stop = min(start + 64, nbits)
        for b in range(stop - start):
            shift = np.uint64(b)
            for i in range(inner):
                acc[i] |= np.uint64(x[a, start + b, i] >= 0) << shift
        for i in range(inner):
            out[a, i, wd] = acc[i]


def _pack_axis_to_last(x, axis):
    """Pack ``x`` along ``axis``; the words go to a new last axis: shape = x.shape without axis, + (words,)."""
    x = as_real_array(x)
    if x.ndim == 0:
        raise ValueError("x must have at least one axis to pack along")
    x = np.ascontiguousarray(x)
    axis = _normalize_axis(axis, x.ndim)
    nbits = x.shape[axis]
    if nbits < 1:
        raise ValueError(f"cannot pack an empty axis {axis} of shape {x.shape}")
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    rest = x.shape[:axis] + x.shape[axis + 1:]
    if inner == 1:
        out = np.empty((outer, n_words(nbits)), np.uint64)
        _pack_rows(x.reshape(outer, nbits), out)
    else:
        out = np.empty((outer, inner, n_words(nbits)), np.uint64)
        _pack_middle(x.reshape(outer, nbits, inner), out)
    return out.reshape(rest + (n_words(nbits),)), nbits


def _normalize_axis(axis, ndim):
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for an array with {ndim} dimensions")
    return axis % ndim


def pack_signs(x, axis=-1):
    """Pack the signs of ``x`` along ``axis`` into uint64 words (bit 1 = x >= 0 = +1).

    x: real array of any shape.  Returns ``(packed, nbits)``: ``packed`` has ``x``'s shape with ``axis`` replaced by
    ``ceil(nbits / 64)`` words (C-contiguous), and ``nbits = x.shape[axis]``.
    """
    words_last, nbits = _pack_axis_to_last(x, axis)
    axis = _normalize_axis(axis, words_last.ndim)
    if axis == words_last.ndim - 1:
        return words_last, nbits
    return np.ascontiguousarray(np.moveaxis(words_last, -1, axis)), nbits


@njit(parallel=True, cache=True)
def _unpack_rows(words, nbits, out):
    """words: (R, W) uint64 → out: (R, nbits) ±1, bits along the last axis."""
    for r in prange(words.shape[0]):
        for j in range(nbits):
            out[r, j] = 2 * np.int64((words[r, j // 64] >> np.uint64(j % 64)) & np.uint64(1)) - 1


@njit(parallel=True, cache=True)
def _unpack_middle(words, nbits, out):
    """words: (A, B, W) uint64 → out: (A, nbits, B) ±1; the inverse of _pack_middle, contiguous writes over B."""
    outer, inner, n_w = words.shape
    for t in prange(outer * n_w):
        a = t // n_w
        wd = t % n_w
        column = words[a, :, wd].copy()   # contiguous, so the bit loop below vectorizes
        for b in range(min(64, nbits - wd * 64)):
            shift = np.uint64(b)
            for i in range(inner):
                out[a, wd * 64 + b, i] = 2 * np.int64((column[i] >> shift) & np.uint64(1)) - 1


def unpack_signs(packed, nbits, axis=-1, dtype=np.float32):
    """Inverse of :func:`pack_signs`: uint64 words along ``axis`` → ±1 array (of ``dtype``) with ``nbits``
    elements there."""
    check_packed(packed, nbits, axis)
    dtype = _signed_dtype(dtype)
    axis = _normalize_axis(axis, packed.ndim)
    shape = packed.shape[:axis] + (nbits,) + packed.shape[axis + 1:]
    n_w = packed.shape[axis]
    outer = int(np.prod(packed.shape[:axis], dtype=np.int64))
    inner = int(np.prod(packed.shape[axis + 1:], dtype=np.int64))
    out = np.empty((outer, nbits, inner), dtype)
    if inner == 1:
        _unpack_rows(np.ascontiguousarray(packed).reshape(outer, n_w), nbits, out.reshape(outer, nbits))
    else:
        words_last = np.ascontiguousarray(np.moveaxis(packed, axis, -1)).reshape(outer, inner, n_w)
        _unpack_middle(words_last, nbits, out)
    return out.reshape(shape)


def _signed_dtype(dtype):
    dtype = np.dtype(dtype)
    if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.signedinteger)):
        raise TypeError(f"dtype must be a float or signed integer type to hold ±1, got {dtype}")
    return dtype


def pack_conv_input(x):
    """Pack NCHW activations per pixel: (N, C, H, W) real → (N, H, W, ceil(C/64)) uint64 (channel c at bit c%64)."""
    x = as_real_array(x)
    if x.ndim != 4:
        raise ValueError(f"x must be NCHW with 4 dimensions, got shape {x.shape}")
    words_last, _ = _pack_axis_to_last(x, 1)
    return words_last


def pack_conv_weights(w):
    """Pack OIHW weights per tap: (O, C, KH, KW) real → (O, KH, KW, ceil(C/64)) uint64."""
    w = as_real_array(w, "w")
    if w.ndim != 4:
        raise ValueError(f"w must be OIHW with 4 dimensions, got shape {w.shape}")
    words_last, _ = _pack_axis_to_last(w, 1)
    return words_last


def unpack_conv_input(xp, channels, dtype=np.float32):
    """Inverse of :func:`pack_conv_input`: (N, H, W, CW) uint64 → (N, channels, H, W) ±1 array of ``dtype``."""
    if not isinstance(xp, np.ndarray) or xp.ndim != 4:
        raise ValueError(f"xp must be a packed (N, H, W, words) array, got {getattr(xp, 'shape', type(xp))}")
    check_packed(xp, channels, axis=-1, name="xp")
    n, h, w, cw = xp.shape
    out = np.empty((n, channels, h * w), _signed_dtype(dtype))
    _unpack_middle(np.ascontiguousarray(xp).reshape(n, h * w, cw), channels, out)
    return out.reshape(n, channels, h, w)
