"""Random bit flips on packed ±1 tensors: the write errors of an MRAM cell, applied before the XNOR product.

:func:`flip_mask` draws a packed mask in which every valid bit is set independently with probability p, exactly.
The valid bits are numbered 0..T−1 in row order (T = rows · nbits; tail bits are not numbered, so they are never
set).  The gaps between successive set positions of i.i.d. Bernoulli(q) trials are i.i.d. Geometric(q), so drawing
gaps costs O(q·T) random numbers instead of T — cheap at the small error rates that matter.  For p > 1/2 the
complement (bits *not* flipped, probability 1 − p) is drawn and inverted, so the cost is O(min(p, 1 − p)·T).

:func:`flip_bits` applies asymmetric write errors: a stored 1 (+1) becomes 0 with probability p_pos_to_neg, a
stored 0 (−1) becomes 1 with probability p_neg_to_pos, each bit independently.
"""
import numpy as np
from numba import njit

from .bitpack import check_packed, n_words, tail_mask


def check_probability(name, p):
    """``p`` as a float, or a ValueError naming it when it is not a probability in [0, 1]."""
    try:
        value = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}") from None
    if not 0.0 <= value <= 1.0:   # also rejects NaN
        raise ValueError(f"{name} must be a probability in [0, 1], got {p}")
    return value


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


def bernoulli_positions(total, q, rng):
    """Sorted positions in [0, total) of i.i.d. Bernoulli(q) successes, drawn from geometric gaps. int64 array."""
    if q == 0.0 or total == 0:
        return np.empty(0, np.int64)
    chunks, last = [], -1
    while True:
        expected = (total - 1 - last) * q
        size = int(expected + 6.0 * np.sqrt(expected) + 16)
        # A gap past the end means "no more successes"; capping keeps the cumulative sum from overflowing.
        gaps = np.minimum(rng.geometric(q, size), total + 1)
        positions = last + np.cumsum(gaps)
        inside = positions[positions < total]
        chunks.append(inside)
        if inside.size < size:
            return np.concatenate(chunks)
        last = int(positions[-1])


@njit(cache=True)
def set_bits(positions, rows, nbits, mask):
    """Set bit ``positions`` (row-major over rows × nbits valid bits) in mask (rows, words) uint64, in place."""
    for pos in positions:
        row = pos // nbits
        bit = pos % nbits
        mask[row, bit // 64] |= np.uint64(1) << np.uint64(bit % 64)


def flip_mask(shape, nbits, p, rng, axis=-1):
    """Packed uint64 mask of the given packed ``shape`` (``ceil(nbits/64)`` words along ``axis``): every valid bit
    set independently with probability ``p``, tail bits never set.  Same rng state → same mask."""
    p = check_probability("p", p)
    _check_rng(rng)
    shape = tuple(int(s) for s in shape)
    if not shape:
        raise ValueError("shape must have at least one axis (the word axis)")
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"axis {axis} is out of range for shape {shape}")
    if int(nbits) != nbits or nbits < 1 or shape[axis] != n_words(nbits):
        raise ValueError(f"shape {shape} needs ceil(nbits/64) words along axis {axis}; got nbits = {nbits}")
    rest = shape[:axis % len(shape)] + shape[axis % len(shape) + 1:]
    rows = int(np.prod(rest, dtype=np.int64))
    q = min(p, 1.0 - p)
    mask = np.zeros((rows, shape[axis]), np.uint64)
    set_bits(bernoulli_positions(rows * int(nbits), q, rng), rows, int(nbits), mask)
    if p > 0.5:
        mask = ~mask
        mask[:, -1] &= tail_mask(nbits)
    return np.ascontiguousarray(np.moveaxis(mask.reshape(rest + (shape[axis],)), -1, axis))


def flip_bits(packed, nbits, p_pos_to_neg, p_neg_to_pos, rng, axis=-1):
    """A copy of ``packed`` with asymmetric write errors: each stored 1 (+1) flips with probability p_pos_to_neg,
    each stored 0 (−1) with probability p_neg_to_pos, independently.  Tail bits stay 0."""
    check_packed(packed, nbits, axis)
    p_pos_to_neg = check_probability("p_pos_to_neg", p_pos_to_neg)
    p_neg_to_pos = check_probability("p_neg_to_pos", p_neg_to_pos)
    _check_rng(rng)
    if p_pos_to_neg == p_neg_to_pos:   # symmetric errors: one mask serves both states
        return packed ^ flip_mask(packed.shape, nbits, p_pos_to_neg, rng, axis)
    pos_flips = flip_mask(packed.shape, nbits, p_pos_to_neg, rng, axis)
    neg_flips = flip_mask(packed.shape, nbits, p_neg_to_pos, rng, axis)
    return packed ^ ((packed & pos_flips) | (~packed & neg_flips))
