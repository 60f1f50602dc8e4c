"""The bit-error and rounding models, as specifications; statistical claims get real tests at fixed seeds.

Every statistical assertion uses a two-sided exact binomial test at significance ALPHA with a fixed seed: the test
is deterministic (same seed, same numbers), and a correct implementation fails it for a given seed with
probability ALPHA.
"""
import numpy as np
import pytest
from scipy import stats

from bnn.errors import BitErrors, ErrorConfig, check_probability, stochastic_sign
from bnn.kernels import pack_conv_input, pack_signs, unpack_conv_input, unpack_signs

ALPHA = 1e-3


def random_packed(rng, shape=(64, 300)):
    x = rng.standard_normal(shape).astype(np.float32)
    packed, nbits = pack_signs(x)
    return x, packed, nbits


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_rates_outside_unit_interval_are_rejected_by_name(p):
    with pytest.raises(ValueError, match=r"ber must be a probability in \[0, 1\]"):
        ErrorConfig(ber=p)
    with pytest.raises(ValueError, match="p_neg_to_pos"):
        BitErrors(0.1, p)


def test_check_probability_accepts_the_end_points():
    assert check_probability("ber", 0) == 0.0
    assert check_probability("ber", 1) == 1.0


@pytest.mark.parametrize("p", [1e-3, 0.01, 0.2, 0.5])
def test_flip_count_is_binomial(p):
    rng = np.random.default_rng(1234)
    x, packed, nbits = random_packed(rng)
    read = BitErrors(p, p).apply(packed, nbits, rng, training=True)
    flips = int(np.sum(unpack_signs(read, nbits) != np.sign(x + (x == 0))))
    n = x.size
    assert stats.binomtest(flips, n, p).pvalue > ALPHA, f"{flips} flips of {n} bits at p={p}"


def test_asymmetric_rates_hit_the_right_directions():
    rng = np.random.default_rng(7)
    x, packed, nbits = random_packed(rng, (128, 257))
    clean = unpack_signs(packed, nbits)
    read = unpack_signs(BitErrors(p_pos_to_neg=0.2, p_neg_to_pos=0.0).apply(packed, nbits, rng, True), nbits)
    pos = clean > 0
    assert np.all(read[~pos] == -1), "a stored -1 flipped although p_neg_to_pos = 0"
    flips = int(np.sum(read[pos] == -1))
    assert stats.binomtest(flips, int(pos.sum()), 0.2).pvalue > ALPHA

    read = unpack_signs(BitErrors(p_pos_to_neg=0.0, p_neg_to_pos=0.05).apply(packed, nbits, rng, True), nbits)
    assert np.all(read[pos] == 1), "a stored +1 flipped although p_pos_to_neg = 0"
    flips = int(np.sum(read[~pos] == 1))
    assert stats.binomtest(flips, int((~pos).sum()), 0.05).pvalue > ALPHA


def test_ber_one_half_is_a_fair_coin_whatever_was_stored():
    rng = np.random.default_rng(3)
    x = np.ones((200, 129), np.float32)  # every stored bit is +1
    packed, nbits = pack_signs(x)
    read = unpack_signs(BitErrors(0.5, 0.5).apply(packed, nbits, rng, True), nbits)
    assert stats.binomtest(int(np.sum(read > 0)), read.size, 0.5).pvalue > ALPHA


def test_same_seed_same_flips_and_no_flips_at_test_time_by_default():
    x, packed, nbits = random_packed(np.random.default_rng(0))
    errors = BitErrors(0.1, 0.1)
    a = errors.apply(packed, nbits, np.random.default_rng(42), True)
    b = errors.apply(packed, nbits, np.random.default_rng(42), True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, packed)
    assert errors.apply(packed, nbits, np.random.default_rng(42), training=False) is packed
    at_test = BitErrors(0.1, 0.1, at_test=True).apply(packed, nbits, np.random.default_rng(42), training=False)
    np.testing.assert_array_equal(at_test, a)


def test_stochastic_rounding_matches_the_hard_sigmoid_in_expectation():
    rng = np.random.default_rng(11)
    n = 20000
    for value in [-1.5, -0.6, 0.0, 0.3, 0.9, 2.0]:
        xb = stochastic_sign(np.full(n, value, np.float32), rng)
        assert set(np.unique(xb)) <= {-1.0, 1.0}
        sigma = min(max((value + 1) / 2, 0.0), 1.0)
        ups = int(np.sum(xb > 0))
        if sigma in (0.0, 1.0):
            assert ups == n * sigma, f"x={value}: rounding must be certain"
        else:
            assert stats.binomtest(ups, n, sigma).pvalue > ALPHA, f"x={value}: {ups}/{n} vs sigma={sigma}"


def test_rates_per_layer_per_direction_and_per_epoch():
    assert ErrorConfig(ber=0.01).rates(3) == (0.01, 0.01)
    assert ErrorConfig(ber=0.01, ber_neg_to_pos=0.02).rates(0) == (0.01, 0.02)
    per_layer = ErrorConfig(layer_bers=(0.0, 0.1))
    assert per_layer.rates(1) == (0.1, 0.1)
    with pytest.raises(ValueError, match="binary layer 2"):
        per_layer.rates(2)
    scheduled = ErrorConfig(ber=0.1, schedule=((5, 0.05), (2, 0.0)))
    assert [scheduled.rates(0, e)[0] for e in (0, 1, 2, 4, 5, 9)] == [0.1, 0.1, 0.0, 0.0, 0.05, 0.05]
    with pytest.raises(ValueError, match="rounding"):
        ErrorConfig(rounding="nearest")


@pytest.mark.parametrize("p_pos_to_neg, p_neg_to_pos", [(0.01, 0.01), (0.2, 0.05)])
def test_activations_read_back_in_place_are_the_flips_of_apply(p_pos_to_neg, p_neg_to_pos):
    """apply_to_activations edits the layer's packed input and its ±1 input in place, with the flips `apply` draws
    from the same seed; the number of flipped activations is binomial."""
    errors = BitErrors(p_pos_to_neg, p_neg_to_pos)
    x = np.where(np.random.default_rng(2).random((128, 96, 6, 6)) < 0.5, -1.0, 1.0).astype(np.float32)
    clean = x.copy()
    packed = pack_conv_input(x)
    want = errors.apply(packed, 96, np.random.default_rng(9), training=True)
    assert errors.apply_to_activations(packed, x, np.random.default_rng(9), training=True) is x
    np.testing.assert_array_equal(packed, want)
    np.testing.assert_array_equal(x, unpack_conv_input(want, 96))
    pos = clean > 0
    for stored, p in ((pos, p_pos_to_neg), (~pos, p_neg_to_pos)):
        flips = int(np.sum(x[stored] != clean[stored]))
        assert stats.binomtest(flips, int(stored.sum()), p).pvalue > ALPHA, f"{flips} flips at p={p}"


def test_activations_read_back_leave_read_only_input_alone_and_skip_evaluation():
    errors = BitErrors(0.1, 0.1)
    x = np.where(np.random.default_rng(4).random((8, 70)) < 0.5, -1.0, 1.0).astype(np.float32)
    packed, nbits = pack_signs(x, axis=1)
    clean_packed = packed.copy()
    assert errors.apply_to_activations(packed, x, np.random.default_rng(1), training=False) is x
    np.testing.assert_array_equal(packed, clean_packed)
    x.flags.writeable = False
    read_back = errors.apply_to_activations(packed, x, np.random.default_rng(1), training=True)
    assert read_back is not x and not np.array_equal(read_back, x)
    np.testing.assert_array_equal(read_back, unpack_signs(packed, nbits, axis=1))
