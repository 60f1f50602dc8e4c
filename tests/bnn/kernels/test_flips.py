"""Bit-flip masks: exact Bernoulli(p) per valid bit (binomial tests at fixed seeds), tails never set, seeded."""
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from bnn.kernels import flip_bits, flip_mask, n_words, pack_signs, tail_mask, unpack_signs
from bnn.kernels import reference as ref
from bnn.kernels.flips import bernoulli_positions, binary_digits, compare_digits, set_bits

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


def test_set_bits_matches_twin():
    rows, nbits = 9, 130
    positions = bernoulli_positions(rows * nbits, 0.2, np.random.default_rng(4))
    assert np.all(np.diff(positions) > 0) and positions[0] >= 0 and positions[-1] < rows * nbits
    got = np.zeros((rows, n_words(nbits)), np.uint64)
    want = np.zeros_like(got)
    set_bits(positions, rows, nbits, got)
    ref.set_bits(positions, rows, nbits, want)
    np.testing.assert_array_equal(got, want)


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
