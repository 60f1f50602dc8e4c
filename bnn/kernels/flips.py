"""Random bit flips on packed ±1 tensors: the write errors of an MRAM cell, applied before the XNOR product.

:func:`flip_mask` draws a packed mask in which every valid bit is set independently with probability p, exactly,
by one of two samplers (q = min(p, 1 − p); for p > 1/2 the complement is drawn with probability q and inverted):

- q < 1/64 (under one set bit per word): the valid bits are numbered 0..T−1 in row order (T = rows · nbits; tail
  bits are not numbered, so never set).  The gaps between successive successes of i.i.d. Bernoulli(q) trials are
  i.i.d. Geometric(q), so drawing gaps costs O(q·T) random numbers instead of T.  A gap is ceil(E / λ) with
  E ~ Exp(1) and λ = −log(1 − q), since P(ceil(E/λ) > k) = e^(−kλ) = (1 − q)^k: exactly how NumPy's
  ``Generator.geometric`` inverts for q < 1/3, so the gaps equal ``rng.geometric(q, n)`` draw for draw, but the
  exponentials come vectorized and the division runs inside the kernel that sets the bits (2-3× faster).
- otherwise, 64 lanes at once: each bit compares its own uniform U = 0.r1 r2 r3… (binary digits r_i = bit i of
  the i-th random word) with q = 0.b1 b2 b3… (q as a float64 has a finite binary expansion).  At the first digit
  where r_i ≠ b_i, U < q exactly when b_i = 1; lanes whose digits all equal q's have U ≥ q.  So a bit is set with
  probability exactly q, independently of the other lanes, and each step decides half of the undecided lanes:
  about 8 random words per mask word.  Only words with undecided lanes draw more digits.

:func:`flip_bits` applies asymmetric write errors: a stored 1 (+1) becomes 0 with probability p_pos_to_neg, a
stored 0 (−1) becomes 1 with probability p_neg_to_pos, each bit independently.  :func:`flip_bits_in_place` makes
the same flips (same draws from the Generator) in the packed words *and* in the ±1 float tensor they were packed
from, in place: a binary layer's backward pass needs the float tensor it multiplied, and negating the few flipped
entries costs far less than unpacking (or even copying) the whole tensor.  Many flips of the sparse sampler are set
one image per parallel task, on the core that has just packed it (:func:`bernoulli_positions`, :func:`xor_positions`).
"""
import math

import numpy as np
from numba import njit, prange

from .bitpack import check_packed, n_words, tail_mask
from .popcount import popcount64


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


@njit(inline="always")
def _divmod(value, divisor, inverse):
    """(value // divisor, value % divisor) for 0 <= value < 2^50, by multiplying with inverse = 1 / divisor and
    correcting the quotient by ±1 (a 64-bit division costs 40-90 cycles; the product is off by at most 1)."""
    quotient = np.int64(value * inverse)
    rest = value - quotient * divisor
    if rest >= divisor:
        rest -= divisor
        quotient += 1
    elif rest < 0:
        rest += divisor
        quotient -= 1
    return quotient, rest


@njit(cache=True)
def xor_at_gaps(exponentials, lam, last, nbits, words, x):
    """XOR single bits into ``words`` (rows, W) uint64 in place, at positions last + cumsum(ceil(exponentials / lam))
    numbered row-major over the rows × nbits valid bits, stopping at the first position past the end.  If ``x``
    (A, nbits, B) is not None (rows = A·B; bit j of row a·B + b is x[a, j, b]; x holds the ±1 values of ``words``)
    the same entries of x are negated, i.e. set to the flipped bits' values.  Returns the last position set, or
    rows·nbits when the gaps ran past the end."""
    total = words.shape[0] * nbits
    n_w = words.shape[1]
    flat_words = words.reshape(-1)
    inner = 1 if x is None else x.shape[2]
    inv_nbits, inv_inner = 1.0 / nbits, 1.0 / inner
    pos = last
    for e in exponentials:
        z = np.ceil(e / lam)
        if z >= total - pos:   # past the end; compared as a float, before adding, so nothing overflows
            return total
        if z == 0.0:   # E = 0 exactly (probability ~2^-53): the same position again, which is already set
            continue
        pos += np.int64(z)
        row, bit = _divmod(pos, nbits, inv_nbits)
        k = row * n_w + (bit >> 6)
        shift = np.uint64(bit & 63)
        flat_words[k] ^= np.uint64(1) << shift
        if x is not None:
            a, i = _divmod(row, inner, inv_inner)
            # the bit as read back, not -x: a store that needs no load of x (whose cache line is usually cold)
            x[a, bit, i] = 2.0 * np.float64((flat_words[k] >> shift) & np.uint64(1)) - 1.0
    return pos


def xor_at_gaps_numpy(exponentials, lam, last, nbits, words, x):
    """NumPy twin of :func:`xor_at_gaps` (geometric gaps, cumulative sums, unbuffered XOR), for tests."""
    total = words.shape[0] * nbits
    gaps = np.ceil(exponentials / lam)
    past = np.flatnonzero(last + np.cumsum(np.minimum(gaps, total + 1)) >= total)
    inside = last + np.cumsum(gaps[:past[0] if past.size else gaps.size].astype(np.int64))
    inside = np.unique(inside)   # a zero gap repeats a position; it is set once
    row, bit = inside // nbits, inside % nbits
    np.bitwise_xor.at(words, (row, bit // 64), np.left_shift(np.uint64(1), (bit % 64).astype(np.uint64)))
    if x is not None:
        a, i = np.divmod(row, x.shape[2])
        x[a, bit, i] = -x[a, bit, i]
    return total if past.size else int(inside[-1]) if inside.size else last


def xor_bernoulli_bits(words, nbits, q, rng, x=None):
    """XOR i.i.d. Bernoulli(q) bits into the valid bits of ``words`` (rows, W) uint64 in place, from geometric gaps
    (module docstring), and negate the same entries of ``x`` (A, nbits, B) if given (as :func:`xor_at_gaps`).
    The gaps are drawn in chunks a little larger than the expected number of successes left; for q < 1/3 they
    equal ``rng.geometric(q, size)`` draw for draw (NumPy inverts the same way there)."""
    total = words.shape[0] * nbits
    if q == 0.0 or total == 0:
        return
    lam = -math.log1p(-q)   # libm's log1p, as NumPy's geometric uses
    last = -1
    while last < total:
        expected = (total - 1 - last) * q
        size = int(expected + 6.0 * math.sqrt(expected) + 16)
        last = xor_at_gaps(rng.standard_exponential(size), lam, last, nbits, words, x)


# Below this many expected flips the one-pass serial kernel is faster than drawing positions and waking a second
# thread (LeNet-4's dense layer, ~1,000 flips: +8 % forward time serial, +16 % in parallel).
PARALLEL_MIN_FLIPS = 8192


@njit(cache=True)
def _gap_positions(exponentials, lam, last, total, out):
    """The positions xor_at_gaps would set, written to out instead: returns (count, last position or total)."""
    count, pos = 0, last
    for e in exponentials:
        z = np.ceil(e / lam)
        if z >= total - pos:
            return count, total
        if z == 0.0:
            continue
        pos += np.int64(z)
        out[count] = pos
        count += 1
    return count, pos


def bernoulli_positions(total, q, rng):
    """Increasing positions in [0, total) of i.i.d. Bernoulli(q) successes, from geometric gaps: the same draws from
    `rng`, and the same positions, as :func:`xor_bernoulli_bits` (chunks of exponentials, gap ceil(E / λ), a zero
    gap sets nothing new), so that the bits can then be set in parallel."""
    lam = -math.log1p(-q)
    last, found = -1, []
    while last < total:
        expected = (total - 1 - last) * q
        exponentials = rng.standard_exponential(int(expected + 6.0 * math.sqrt(expected) + 16))
        out = np.empty(exponentials.size, np.int64)
        count, last = _gap_positions(exponentials, lam, last, total, out)
        found.append(out[:count])
    return found[0] if len(found) == 1 else np.concatenate(found)


@njit(parallel=True, cache=True)
def xor_positions(positions, words, x):
    """XOR the bits at the increasing `positions` (numbered row-major over rows x nbits valid bits) into words
    (rows, W) uint64 and set the same entries of x (A, nbits, B), rows = A*B, to the flipped bits' values.

    One parallel task per a (an image), on the thread that has just packed its rows (the packing kernel splits the
    images alike): their cache lines are on its core. Flipping on one thread after a 2-thread packing costs 1.5x."""
    a_n, nbits, inner = x.shape
    per_a = inner * nbits
    for a in prange(a_n):
        for j in range(np.searchsorted(positions, a * per_a), np.searchsorted(positions, (a + 1) * per_a)):
            row, bit = _divmod(positions[j], nbits, 1.0 / nbits)
            w, shift = bit >> 6, np.uint64(bit & 63)
            words[row, w] ^= np.uint64(1) << shift
            x[a, bit, row - a * inner] = 2.0 * np.float64((words[row, w] >> shift) & np.uint64(1)) - 1.0


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
        xor_bernoulli_bits(mask, int(nbits), q, rng)
    else:
        mask = bernoulli_words(rows * n_w, q, rng).reshape(rows, n_w)
        mask[:, -1] &= tail_mask(nbits)
    if p > 0.5:
        mask = ~mask
        mask[:, -1] &= tail_mask(nbits)
    return np.ascontiguousarray(np.moveaxis(mask.reshape(rest + (n_w,)), -1, axis))


def error_mask(packed, nbits, p_pos_to_neg, p_neg_to_pos, rng, axis=-1):
    """The bits of ``packed`` that a write with these error rates flips: a uint64 mask shaped like ``packed``.
    Symmetric rates draw one mask; asymmetric ones draw the +1 mask, then the −1 mask."""
    if p_pos_to_neg == p_neg_to_pos:   # symmetric errors: one mask serves both states
        return flip_mask(packed.shape, nbits, p_pos_to_neg, rng, axis)
    pos_flips = flip_mask(packed.shape, nbits, p_pos_to_neg, rng, axis)
    neg_flips = flip_mask(packed.shape, nbits, p_neg_to_pos, rng, axis)
    return (packed & pos_flips) | (~packed & neg_flips)


def flip_bits(packed, nbits, p_pos_to_neg, p_neg_to_pos, rng, axis=-1):
    """A copy of ``packed`` with asymmetric write errors: each stored 1 (+1) flips with probability p_pos_to_neg,
    each stored 0 (−1) with probability p_neg_to_pos, independently.  Tail bits stay 0."""
    check_packed(packed, nbits, axis)
    p_pos_to_neg = check_probability("p_pos_to_neg", p_pos_to_neg)
    p_neg_to_pos = check_probability("p_neg_to_pos", p_neg_to_pos)
    _check_rng(rng)
    return packed ^ error_mask(packed, nbits, p_pos_to_neg, p_neg_to_pos, rng, axis)


@njit(cache=True)
def apply_flips(mask, packed, x):
    """XOR ``mask`` (R, W) uint64 into ``packed`` (R, W) and negate the same bits of ``x`` (A, nbits, B) float, both
    in place; R = A·B, and bit j of row a·B + b is x[a, j, b].  Visits only the set bits of the mask."""
    outer, _, inner = x.shape
    for r in range(outer * inner):
        a, i = r // inner, r % inner
        for w in range(mask.shape[1]):
            m = mask[r, w]
            if m == 0:
                continue
            packed[r, w] ^= m
            while m:
                low = m & (~m + np.uint64(1))   # the lowest set bit; its index is the popcount below it
                j = w * 64 + np.int64(popcount64(low - np.uint64(1)))
                x[a, j, i] = -x[a, j, i]
                m ^= low


def apply_flips_numpy(mask, packed, x):
    """NumPy twin of :func:`apply_flips` (via np.unpackbits), for tests."""
    a, nbits, inner = x.shape
    packed ^= mask
    bits = np.unpackbits(mask.astype("<u8").view(np.uint8), axis=-1, count=nbits, bitorder="little")
    flipped = bits.reshape(a, inner, nbits).transpose(0, 2, 1).astype(bool)
    x[flipped] = -x[flipped]


def flip_bits_in_place(packed, x, axis, p_pos_to_neg, p_neg_to_pos, rng):
    """Write errors on activations and their float copy at once: the flips of :func:`flip_bits` (the same draws
    from ``rng``, so the same flips for the same seed) XORed into ``packed`` in place, and the same entries of
    ``x`` negated in place.

    x: C-contiguous writeable ±1 float array whose signs ``packed`` holds along ``axis``; packed: C-contiguous
    uint64 of shape ``x.shape`` without ``axis`` + ``(ceil(nbits/64),)`` (nbits = x.shape[axis]), the layout of
    ``pack_conv_input`` (axis 1 of NCHW) and of ``pack_signs(x, axis=-1)``.  That packed matches x is not checked
    (it would cost a pass over x).
    """
    if not isinstance(x, np.ndarray) or not (x.flags.c_contiguous and x.flags.writeable):
        raise ValueError("x must be a C-contiguous, writeable numpy array (it is edited in place)")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for x of shape {x.shape}")
    axis %= x.ndim
    nbits = x.shape[axis]
    words = n_words(nbits)
    expected = x.shape[:axis] + x.shape[axis + 1:] + (words,)
    if not isinstance(packed, np.ndarray) or packed.dtype != np.uint64 or packed.shape != expected \
            or not packed.flags.c_contiguous:
        raise ValueError(f"packed must be a C-contiguous uint64 array of shape {expected} for x of shape {x.shape} "
                         f"packed along axis {axis}, got {getattr(packed, 'dtype', type(packed))} "
                         f"{getattr(packed, 'shape', '')}")
    p_pos_to_neg = check_probability("p_pos_to_neg", p_pos_to_neg)
    p_neg_to_pos = check_probability("p_neg_to_pos", p_neg_to_pos)
    x3 = x.reshape(math.prod(x.shape[:axis]), nbits, math.prod(x.shape[axis + 1:]))
    flip_rows_in_place(packed.reshape(-1, words), x3, p_pos_to_neg, p_neg_to_pos, rng)


def flip_rows_in_place(rows, x3, p_pos_to_neg, p_neg_to_pos, rng):
    """:func:`flip_bits_in_place` for callers that hold validated rates (floats in [0, 1]), a writeable
    C-contiguous x3 (A, nbits, B) and C-contiguous rows (A·B, ceil(nbits/64)) uint64: the hot path of a binary
    layer's forward pass, where each further check costs more than it could catch.  Only the shapes are checked:
    a mismatch would make the kernels write outside the arrays."""
    a, nbits, inner = x3.shape
    if rows.shape != (a * inner, n_words(nbits)):
        raise ValueError(f"rows must have shape {(a * inner, n_words(nbits))} for x3 of shape {x3.shape}, "
                         f"got {rows.shape}")
    _check_rng(rng)
    if p_pos_to_neg == p_neg_to_pos < 1.0 / 64:   # flip_mask's sparse sampler, without building the mask
        total = rows.shape[0] * nbits
        if total * p_pos_to_neg < PARALLEL_MIN_FLIPS:
            xor_bernoulli_bits(rows, nbits, p_pos_to_neg, rng, x3)
        elif p_pos_to_neg > 0:
            xor_positions(bernoulli_positions(total, p_pos_to_neg, rng), rows, x3)
    else:
        apply_flips(error_mask(rows, nbits, p_pos_to_neg, p_neg_to_pos, rng), rows, x3)
