"""Bit-flip masks: exact Bernoulli(p) per valid bit (binomial tests at fixed seeds), tails never set, seeded."""
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from bnn.kernels import flip_bits, flip_mask, n_words, pack_conv_input, pack_signs, tail_mask, unpack_conv_input
from bnn.kernels import flips
from bnn.kernels import reference as ref
from bnn.kernels import unpack_signs
from bnn.kernels.flips import (apply_flips, apply_flips_numpy, binary_digits, compare_digits, flip_bits_in_place,
                               flip_rows_in_place, xor_at_gaps, xor_at_gaps_numpy, xor_bernoulli_bits)

# Two-sided binomial tests at significance ALPHA with fixed seeds: a correct sampler fails one with probability
# ALPHA for a random seed; with the seeds fixed the outcome is deterministic.
ALPHA = 1e-3


def set_bit_count(mask):
    return int(np.bitwise_count(mask).sum())


def bits(mask, nbits):
    """(rows, words) mask → (rows, nbits) 0/1 array."""
    return (unpack_signs(mask, nbits) > 0).astype(np.int64)


@pytest.mark.parametrize("p", [1e-4, 0.01, 0.05, 1 / 3, 0.5, 0.7, 0.95, 0.99])   # both samplers
def test_each_bit_is_set_with_probability_p(p):
    rows, nbits = 400, 1001
    mask = flip_mask((rows, n_words(nbits)), nbits, p, np.random.default_rng(int(p * 1e6)))
    b = bits(mask, nbits)
    total = b.size
    assert stats.binomtest(int(b.sum()), total, p).pvalue > ALPHA
    # independence of neighbours: disjoint pairs (2j, 2j+1) are both set with probability p**2
    pairs = b[:, 0:1000:2] & b[:, 1:1000:2]
    assert stats.binomtest(int(pairs.sum()), pairs.size, p * p).pvalue > ALPHA
    # every bit position is used: first and last valid bit of a row, and a word boundary (bits 63, 64)
    for col in (0, 63, 64, nbits - 1):
        assert stats.binomtest(int(b[:, col].sum()), rows, p).pvalue > ALPHA


def test_rates_across_many_seeds_are_uniform():
    """The binomial p-values of independent masks are uniform on [0, 1] if the sampler is exact."""
    nbits, p = 333, 0.05
    pvalues = [stats.binomtest(set_bit_count(flip_mask((50, n_words(nbits)), nbits, p, np.random.default_rng(s))),
                               50 * nbits, p).pvalue for s in range(200)]
    # binomtest p-values of a discrete statistic are conservative (>= uniform); test that small ones are not
    # over-represented: P(pvalue <= 0.1) <= 0.1, one-sided binomial test
    assert stats.binomtest(sum(pv <= 0.1 for pv in pvalues), 200, 0.1, alternative="greater").pvalue > ALPHA


@pytest.mark.parametrize("nbits", [1, 63, 64, 65, 200])
def test_extreme_probabilities_and_tails(nbits):
    shape = (7, n_words(nbits))
    rng = np.random.default_rng(0)
    assert set_bit_count(flip_mask(shape, nbits, 0.0, rng)) == 0
    full = flip_mask(shape, nbits, 1.0, rng)
    assert set_bit_count(full) == 7 * nbits
    assert (full[:, -1] == tail_mask(nbits)).all()
    half = flip_mask(shape, nbits, 0.9, rng)
    assert not np.any(half[:, -1] & ~tail_mask(nbits))


def test_same_seed_same_mask_and_different_seed_different_mask():
    shape, nbits = (3, 5, 2), 100
    a = flip_mask(shape, nbits, 0.1, np.random.default_rng(42))
    b = flip_mask(shape, nbits, 0.1, np.random.default_rng(42))
    c = flip_mask(shape, nbits, 0.1, np.random.default_rng(43))
    assert a.shape == shape and a.dtype == np.uint64
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_word_axis_can_be_any_axis():
    mask_last = flip_mask((4, 6, 2), 70, 0.3, np.random.default_rng(9))
    mask_mid = flip_mask((4, 2, 6), 70, 0.3, np.random.default_rng(9), axis=1)
    np.testing.assert_array_equal(np.moveaxis(mask_mid, 1, -1), mask_last)


@pytest.mark.parametrize("q", [0.625, 0.1, 1 / 3, 0.5, 2.0**-60, 0.0])
def test_binary_digits_are_the_exact_expansion(q):
    digits = binary_digits(q)
    assert set(digits) <= {0, 1}
    assert sum(Fraction(d, 2 ** (i + 1)) for i, d in enumerate(digits)) == Fraction(q)
    assert binary_digits(0.625) == [1, 0, 1]


@pytest.mark.parametrize("q", [0.1, 1 / 3, 0.75, 0.5])
@pytest.mark.parametrize("pool_size", [3, 40, 400])
def test_compare_digits_matches_twin_including_an_exhausted_pool(q, pool_size):
    digits = np.array(binary_digits(q), np.uint8)
    pool = np.random.default_rng(pool_size).integers(0, 2**64 - 1, pool_size, dtype=np.uint64, endpoint=True)
    got, want = np.zeros(30, np.uint64), np.zeros(30, np.uint64)
    stop = compare_digits(digits, pool, got, 2)
    assert stop == ref.compare_digits(digits, pool, want, 2)
    assert 2 <= stop <= 30
    np.testing.assert_array_equal(got[:stop], want[:stop])


def geometric_positions(total, q, rng):
    """The sparse sampler as first written (and used for the committed sweeps): chunks of rng.geometric gaps."""
    chunks, last = [], -1
    while True:
        expected = (total - 1 - last) * q
        size = int(expected + 6.0 * np.sqrt(expected) + 16)
        positions = last + np.cumsum(np.minimum(rng.geometric(q, size), total + 1))
        chunks.append(positions[positions < total])
        if chunks[-1].size < size:
            return np.concatenate(chunks)
        last = int(positions[-1])


@pytest.mark.parametrize("q", [1e-5, 1e-3, 0.01, 0.0155])
def test_sparse_masks_are_those_of_numpys_geometric_draw_for_draw(q):
    """Same seed, same flips as the sampler of the committed sweeps (gaps from rng.geometric, which inverts
    ceil(E / -log1p(-q)) for q < 1/3, as the kernel does with the same exponentials)."""
    rows, nbits = 300, 333
    want = np.zeros((rows, n_words(nbits)), np.uint64)
    ref.set_bits(geometric_positions(rows * nbits, q, np.random.default_rng(8)), rows, nbits, want)
    np.testing.assert_array_equal(flip_mask(want.shape, nbits, q, np.random.default_rng(8)), want)
    np.testing.assert_array_equal(np.ceil(np.random.default_rng(2).standard_exponential(10**5) / -np.log1p(-q)),
                                  np.random.default_rng(2).geometric(q, 10**5))


def pm1(rng, shape, dtype=np.float32):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(dtype)


@pytest.mark.parametrize("with_x", [True, False])
@pytest.mark.parametrize("q, last, n_exp, past_the_end", [(0.01, -1, 5, False), (0.01, -1, 5000, True),
                                                          (0.2, 117, 30, False), (0.2, 117, 500, True),
                                                          (1e-300, -1, 5, True)])
def test_xor_at_gaps_matches_twin(with_x, q, last, n_exp, past_the_end):
    """Chunks inside the array and chunks running past its end, from the start or from a given last position;
    a zero exponential (a repeated position) must not flip the bit back."""
    rng = np.random.default_rng(n_exp)
    a, nbits, inner = 3, 70, 5
    exponentials = rng.standard_exponential(n_exp)
    exponentials[1] = 0.0
    lam = -np.log1p(-q)
    words = rng.integers(0, 2**63, (a * inner, n_words(nbits)), dtype=np.uint64) & tail_mask(nbits)
    # x holds the values of words: bit j of row a·inner + i is x[a, j, i]
    x = np.ascontiguousarray(ref.unpack_signs(words, nbits).reshape(a, inner, nbits).transpose(0, 2, 1)) \
        if with_x else None
    got_words, want_words = words.copy(), words.copy()
    got_x, want_x = (None, None) if x is None else (x.copy(), x.copy())
    stop = xor_at_gaps(exponentials, lam, last, nbits, got_words, got_x)
    assert stop == xor_at_gaps_numpy(exponentials, lam, last, nbits, want_words, want_x)
    np.testing.assert_array_equal(got_words, want_words)
    if with_x:
        np.testing.assert_array_equal(got_x, want_x)
    assert not np.array_equal(got_words, words) or q < 1e-100
    assert (stop == a * inner * nbits) == past_the_end


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_apply_flips_matches_twin(dtype):
    rng = np.random.default_rng(6)
    a, nbits, inner = 4, 130, 3
    mask = flip_mask((a * inner, n_words(nbits)), nbits, 0.3, rng)
    packed = pack_signs(rng.standard_normal((a * inner, nbits)))[0]
    x = pm1(rng, (a, nbits, inner), dtype)
    got_packed, want_packed, got_x, want_x = packed.copy(), packed.copy(), x.copy(), x.copy()
    apply_flips(mask, got_packed, got_x)
    apply_flips_numpy(mask, want_packed, want_x)
    np.testing.assert_array_equal(got_packed, want_packed)
    np.testing.assert_array_equal(got_x, want_x)
    np.testing.assert_array_equal(got_packed, packed ^ mask)


@pytest.mark.parametrize("p_pos_to_neg, p_neg_to_pos", [(0.01, 0.01), (1e-4, 1e-4), (0.2, 0.2), (0.995, 0.995),
                                                       (0.01, 0.002), (0.3, 0.0)])
@pytest.mark.parametrize("layout", ["conv", "dense"])
def test_flip_bits_in_place_makes_the_flips_of_flip_bits_in_packed_and_x(p_pos_to_neg, p_neg_to_pos, layout):
    """Every sampler (sparse, bit-sliced, complemented, asymmetric), both layouts the binary layers use."""
    rng = np.random.default_rng(5)
    if layout == "conv":
        x = pm1(rng, (6, 70, 5, 3))
        packed, unpack = pack_conv_input(x), lambda words: unpack_conv_input(words, 70)
    else:
        x = pm1(rng, (40, 130))
        packed, unpack = pack_signs(x, axis=1)[0], lambda words: unpack_signs(words, 130, axis=1)
    want = flip_bits(packed, x.shape[1], p_pos_to_neg, p_neg_to_pos, np.random.default_rng(11))
    flip_bits_in_place(packed, x, 1, p_pos_to_neg, p_neg_to_pos, np.random.default_rng(11))
    np.testing.assert_array_equal(packed, want)
    np.testing.assert_array_equal(x, unpack(want))


@pytest.mark.parametrize("a, nbits, inner, q", [(128, 192, 64, 0.01), (7, 70, 15, 0.003), (40, 130, 1, 0.015),
                                                 (2, 5, 4, 1e-4)])
def test_positions_set_in_parallel_are_the_serial_kernels_flips(a, nbits, inner, q, monkeypatch):
    """flip_rows_in_place draws the positions first (bernoulli_positions) and sets them per image in parallel
    (xor_positions): the same draws, the same flips in the words and in x, and the Generator left in the same state
    as the one-pass serial kernel."""
    x = pm1(np.random.default_rng(1), (a, nbits, inner))
    rows = pack_signs(x.transpose(0, 2, 1).reshape(a * inner, nbits))[0]
    got_rows, want_rows, got_x, want_x = rows.copy(), rows.copy(), x.copy(), x.copy()
    got_rng, want_rng = np.random.default_rng(5), np.random.default_rng(5)
    monkeypatch.setattr(flips, "PARALLEL_MIN_FLIPS", 0)   # the parallel path even for few flips
    flip_rows_in_place(got_rows, got_x, q, q, got_rng)
    xor_bernoulli_bits(want_rows, nbits, q, want_rng, want_x)
    np.testing.assert_array_equal(got_rows, want_rows)
    np.testing.assert_array_equal(got_x, want_x)
    assert got_rng.random() == want_rng.random()
    assert q < 1e-3 or not np.array_equal(got_rows, rows)


def test_flip_bits_in_place_rejects_what_it_cannot_edit():
    rng = np.random.default_rng(0)
    x = pm1(rng, (4, 70, 3, 3))
    packed = pack_conv_input(x)
    with pytest.raises(ValueError, match="x must be a C-contiguous, writeable"):
        flip_bits_in_place(packed, x[:, :, ::2], 1, 0.1, 0.1, rng)
    read_only = x.copy()
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        flip_bits_in_place(packed, read_only, 1, 0.1, 0.1, rng)
    with pytest.raises(ValueError, match=r"packed must be a C-contiguous uint64 array of shape \(4, 3, 3, 2\)"):
        flip_bits_in_place(packed[:, :2], x, 1, 0.1, 0.1, rng)
    with pytest.raises(ValueError, match="axis 4 is out of range"):
        flip_bits_in_place(packed, x, 4, 0.1, 0.1, rng)
    with pytest.raises(ValueError, match="p_neg_to_pos must be a probability"):
        flip_bits_in_place(packed, x, 1, 0.1, 2.0, rng)
    # the layers' hot path checks only what keeps the kernels inside the arrays
    with pytest.raises(ValueError, match=r"rows must have shape \(36, 2\) for x3 of shape \(4, 70, 9\), got \(35, 2\)"):
        flip_rows_in_place(packed.reshape(-1, 2)[:-1], x.reshape(4, 70, 9), 0.01, 0.01, rng)


def test_flip_bits_deterministic_extremes():
    x = np.random.default_rng(1).standard_normal((5, 70))
    packed, nbits = pack_signs(x)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(flip_bits(packed, nbits, 0.0, 0.0, rng), packed)
    np.testing.assert_array_equal(unpack_signs(flip_bits(packed, nbits, 1.0, 0.0, rng), nbits), -np.ones((5, 70)))
    np.testing.assert_array_equal(unpack_signs(flip_bits(packed, nbits, 0.0, 1.0, rng), nbits), np.ones((5, 70)))
    np.testing.assert_array_equal(unpack_signs(flip_bits(packed, nbits, 1.0, 1.0, rng), nbits), -ref.sign(x))


@pytest.mark.parametrize("p_pos_to_neg, p_neg_to_pos", [(0.05, 0.2), (0.3, 0.3), (0.001, 0.0)])
def test_flip_bits_asymmetric_rates(p_pos_to_neg, p_neg_to_pos):
    x = np.random.default_rng(2).standard_normal((300, 517))
    packed, nbits = pack_signs(x)
    out = flip_bits(packed, nbits, p_pos_to_neg, p_neg_to_pos, np.random.default_rng(3))
    assert out.dtype == np.uint64 and out.shape == packed.shape
    before, after = unpack_signs(packed, nbits), unpack_signs(out, nbits)
    pos, neg = before > 0, before < 0
    assert stats.binomtest(int((after[pos] < 0).sum()), int(pos.sum()), p_pos_to_neg).pvalue > ALPHA
    assert stats.binomtest(int((after[neg] > 0).sum()), int(neg.sum()), p_neg_to_pos).pvalue > ALPHA
    assert not np.any(out[:, -1] & ~tail_mask(nbits))


def test_bad_probabilities_and_rng_are_rejected():
    packed, nbits = pack_signs(np.ones((2, 10)))
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"p_pos_to_neg must be a probability in \[0, 1\], got 1.5"):
        flip_bits(packed, nbits, 1.5, 0.0, rng)
    with pytest.raises(ValueError, match="p_neg_to_pos must be a probability"):
        flip_bits(packed, nbits, 0.0, float("nan"), rng)
    with pytest.raises(ValueError, match="p must be a probability"):
        flip_mask(packed.shape, nbits, -0.1, rng)
    with pytest.raises(TypeError, match="Generator"):
        flip_mask(packed.shape, nbits, 0.1, np.random.RandomState(0))
    with pytest.raises(ValueError, match="ceil"):
        flip_mask((2, 3), nbits, 0.1, rng)
