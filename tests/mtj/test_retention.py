"""Retention and read disturb from the full solution, against Néel-Brown where that holds, to ten years."""
import numpy as np
import pytest

from mtj.closed_forms import brown_retention_failure
from mtj.params import MTJParams
from mtj.retention import (SECONDS_PER_YEAR, read_disturb, retention_failure, retention_failure_years,
                           retention_time)
from mtj.wer import ResolutionError, switching_probability

TEN_YEARS_TAU = 10 * SECONDS_PER_YEAR * 1e9  # at τ_D = 1 ns


@pytest.mark.parametrize("delta, tolerance", [(50.0, 0.03), (60.0, 0.03), (80.0, 0.02)])
def test_ten_year_retention_matches_neel_brown_where_it_is_valid(delta, tolerance):
    # Brown's rate is the high-barrier limit (2 % high at Δ = 50-60 against the exact rate): small flip probabilities.
    full = retention_failure(TEN_YEARS_TAU * np.array([1e-9, 1e-3, 1.0]), delta, below_resolution="nan")
    brown = brown_retention_failure(TEN_YEARS_TAU * np.array([1e-9, 1e-3, 1.0]), delta)
    resolved = ~np.isnan(full)
    assert resolved[-1] or delta == 80.0
    np.testing.assert_allclose(full[resolved], brown[resolved], rtol=tolerance)
    assert (full[resolved] < brown[resolved]).all()


def test_low_barrier_saturates_at_one_half_where_brown_does_not():
    full = float(retention_failure_years(10.0, MTJParams(delta=40.0)))
    assert full == pytest.approx(0.5, abs=1e-3) and float(brown_retention_failure(TEN_YEARS_TAU, 40.0)) > 0.99


def test_retention_time_inverts_the_failure():
    time = retention_time(1e-9, 60.0)
    assert float(retention_failure(time, 60.0)) == pytest.approx(1e-9, rel=1e-6)
    assert 0.05 * TEN_YEARS_TAU < time < 0.2 * TEN_YEARS_TAU  # Δ = 60 keeps 1e-9 for about a year
    with pytest.raises(ValueError, match="never reached"):
        retention_time(0.6, 40.0)


def test_read_disturb_compounds_independent_reads():
    one = float(switching_probability(0.7, 10.0, 40.0))
    assert float(read_disturb(0.7, 10.0, 40.0)) == pytest.approx(one, rel=1e-14)
    assert float(read_disturb(0.7, 10.0, 40.0, n_reads=100)) == pytest.approx(1 - (1 - one) ** 100, rel=1e-12)
    near_critical = read_disturb(np.array([0.8, 0.9, 0.95]), 10.0, 40.0)
    assert (np.diff(near_critical) > 0).all()


def test_unresolved_reads_say_so():
    with pytest.raises(ResolutionError, match="below"):
        read_disturb(-0.3, 10.0, 40.0)
    with pytest.raises(ValueError, match="n_reads"):
        read_disturb(0.3, 10.0, 40.0, n_reads=0.5)
