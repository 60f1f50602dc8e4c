"""ECC tail probability against exact enumeration, and without cancellation where it matters."""
import itertools
from fractions import Fraction
from math import comb

import numpy as np
import pytest

from mtj.ecc import bch_word_bits, ecc_bits_needed, word_failure_probability


def enumerated_failure(p, n, t):
    """Sum the probability of every error pattern with more than t wrong bits, exactly (rationals)."""
    p = Fraction(p)
    total = Fraction(0)
    for pattern in itertools.product((0, 1), repeat=n):
        wrong = sum(pattern)
        if wrong > t:
            total += p**wrong * (1 - p) ** (n - wrong)
    return float(total)


@pytest.mark.parametrize("n, t", [(1, 0), (5, 1), (9, 2), (12, 4), (7, 7)])
@pytest.mark.parametrize("p", [0.3, 1e-3, 0.5])
def test_matches_enumeration(p, n, t):
    assert word_failure_probability(p, n, t) == pytest.approx(enumerated_failure(p, n, t), rel=1e-12, abs=1e-300)


def test_tiny_p_has_no_cancellation():
    # The leading term C(n, t+1) p^(t+1) dominates; 1 - cdf would return 0 or noise here.
    for t in range(4):
        leading = comb(72, t + 1) * 1e-9 ** (t + 1)
        assert word_failure_probability(1e-9, 72, t) == pytest.approx(leading, rel=1e-6)


def test_vectorized_over_p_and_edges():
    out = word_failure_probability(np.array([0.0, 1e-6, 1.0]), 64, 2)
    assert out[0] == 0 and out[2] == pytest.approx(1.0) and 0 < out[1] < 1e-13


def test_each_corrected_bit_buys_orders_of_magnitude():
    fail = [word_failure_probability(1e-6, bch_word_bits(64, t), t) for t in range(4)]
    gains = -np.diff(np.log10(fail))
    assert ((gains > 3) & (gains < 6)).all(), gains


def test_bits_needed_for_the_paper_raw_wer():
    assert bch_word_bits(64, 0) == 64 and bch_word_bits(64, 2) == 78  # m = 7: 2^7 - 1 = 127 >= 78
    assert ecc_bits_needed(1e-6, 1e-12) == 2 and ecc_bits_needed(1e-6, 1e-15) == 3
    assert ecc_bits_needed(1e-3, 1e-2) == 1


@pytest.mark.parametrize("call, match", [
    (lambda: word_failure_probability(1.2, 8, 1), "probability"),
    (lambda: word_failure_probability(0.1, 0, 1), "n_bits"),
    (lambda: word_failure_probability(0.1, 8, -1), "t_correctable"),
    (lambda: ecc_bits_needed(0.4, 1e-30, max_t=3), "no t"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
