"""Random bit flips on packed ±1 tensors: the write errors of an MRAM cell, applied before the XNOR product.

:func:`flip_mask` draws a packed mask in which every valid bit is set independently with probability p, exactly,
by one of two samplers (q = min(p, 1 − p); for p > 1/2 the complement is drawn with probability q and inverted):

- q < 1/64 (under one set bit per word): the valid bits are numbered 0..T−1 in row order (T = rows · nbits; tail
  bits are not numbered, so never set).  The gaps between successive successes of i.i.d. Bernoulli(q) trials are
  i.i.d. Geometric(q), so drawing gaps costs O(q·T) random numbers instead of T.
- otherwise, 64 lanes at once: each bit compares its own uniform U = 0.r1 r2 r3… (binary digits r_i = bit i of
  the i-th random word) with q = 0.b1 b2 b3… (q as a float64 has a finite binary expansion).  At the first digit
  where r_i ≠ b_i, U < q exactly when b_i = 1; lanes whose digits all equal q's have U ≥ q.  So a bit is set with
  probability exactly q, independently of the other lanes, and each step decides half of the undecided lanes:
  about 8 random words per mask word.  Only words with undecided lanes draw more digits.

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


def binary_digits(q):
    """The binary digits b1, b2, … of q in [0, 1) (q = sum b_i 2^-i), exact for a float64; a list of 0/1."""
    numerator, denominator = float(q).as_integer_ratio()   # denominator is a power of two
    digits = []
    while numerator:
        numerator *= 2
        digits.append(numerator // denominator)
        numerator %= denominator
    return digits


@njit(cache=True)
def compare_digits(digits, pool, words, start):
    """Fill words[start:] with i.i.d. Bernoulli bits by comparing against ``digits``, consuming random words from
    ``pool`` in order.  Returns the index of the first word left unfilled because the pool ran out (a word cut
    short is redrawn from scratch with the next pool, so the draws it consumed are simply unused)."""
    used = 0
    for w in range(start, words.size):
        result = np.uint64(0)
        undecided = np.uint64(0xFFFFFFFFFFFFFFFF)
        for digit in digits:
            if undecided == 0:
                break
            if used == pool.size:
                return w
            r = pool[used]
            used += 1
            if digit:
                result |= undecided & ~r   # r_i = 0 < b_i = 1: U < q
                undecided &= r
            else:
                undecided &= ~r            # r_i = 1 > b_i = 0: U > q, decided unset
        words[w] = result
    return words.size


def bernoulli_words(n, q, rng):
    """n uint64 words whose 64 bits are i.i.d. Bernoulli(q), by digit-by-digit comparison (module docstring)."""
    digits = np.array(binary_digits(q), np.uint8)
    words = np.empty(n, np.uint64)
    done = 0
    while done < n:
        # about 8 digits decide all 64 lanes of a word; 10 per word plus slack rarely needs a second pool
        pool = rng.integers(0, 2**64 - 1, 10 * (n - done) + digits.size, dtype=np.uint64, endpoint=True)
        done = compare_digits(digits, pool, words, done)
    return words


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
    n_w = shape[axis]
    if q < 1.0 / 64:
        mask = np.zeros((rows, n_w), np.uint64)
        set_bits(bernoulli_positions(rows * int(nbits), q, rng), rows, int(nbits), mask)
    else:
        mask = bernoulli_words(rows * n_w, q, rng).reshape(rows, n_w)
        mask[:, -1] &= tail_mask(nbits)
    if p > 0.5:
        mask = ~mask
        mask[:, -1] &= tail_mask(nbits)
    return np.ascontiguousarray(np.moveaxis(mask.reshape(rest + (n_w,)), -1, axis))


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
