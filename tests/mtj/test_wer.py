"""Write error rate: the paper's point, conservation, monotonicity, resolution, threads, bad input."""
import numpy as np
import pytest

from mtj.legendre import n_terms_for
from mtj.wer import (ConvergenceError, ResolutionError, switching_probability, write_error_rate,
                     write_error_rate_estimate)


def test_paper_operating_point():
    # MTJ.md: Δ = 40, 5 τ_D, V = 2.78 V_c gives the raw target 1e-6 (to the printed digits).
    assert write_error_rate(2.78, 5.0, 40.0) == pytest.approx(1.0263e-6, rel=1e-4)


def test_probability_is_conserved():
    drive, pulse = np.array([[0.5], [1.5], [2.5]]), np.array([[0.0, 1.0, 5.0, 20.0]])
    wer = write_error_rate(drive, pulse, below_resolution="nan")
    success = switching_probability(drive, pulse, below_resolution="nan")
    total = np.where(np.isnan(wer), 0, wer) + np.where(np.isnan(success), 0, success)
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    assert np.all(write_error_rate(drive, 0.0) == pytest.approx(1.0, abs=1e-12))


def test_wer_falls_with_drive_and_with_pulse():
    drive = np.linspace(0.2, 4.0, 30)[:, None]
    pulse = np.geomspace(0.2, 40.0, 30)[None, :]
    wer = write_error_rate(drive, pulse, below_resolution="nan")
    resolved = ~np.isnan(wer)
    assert resolved.sum() > 500
    by_drive = np.diff(wer, axis=0)[resolved[1:] & resolved[:-1]]
    by_pulse = np.diff(wer, axis=1)[resolved[:, 1:] & resolved[:, :-1]]
    # never rises beyond rounding (where WER ~ 1 it is flat to 1e-14), and falls clearly almost everywhere
    assert (by_drive < 1e-12).all() and (by_pulse < 1e-12).all()
    assert (by_drive < -1e-12).mean() > 0.8 and (by_pulse < -1e-12).mean() > 0.8


@pytest.mark.parametrize("delta", [20.0, 40.0, 80.0])
def test_default_truncation_is_converged(delta):
    drive, pulse = np.array([0.5, 2.0, 4.5]), np.array([0.5, 2.0, 5.0, 12.0])
    default = write_error_rate(drive[:, None], pulse[None, :], delta, below_resolution="nan")
    for k, i in enumerate(drive):
        more = write_error_rate(i, pulse, delta, n_terms=int(1.5 * n_terms_for(delta, i)), below_resolution="nan")
        both = ~np.isnan(more) & ~np.isnan(default[k])
        np.testing.assert_allclose(default[k][both], more[both], rtol=1e-4, atol=1e-12)


def test_too_few_terms_are_reported():
    with pytest.raises(ConvergenceError, match="not converged"):
        write_error_rate(2.78, 5.0, 40.0, n_terms=40)


def test_below_resolution_raises_or_marks():
    with pytest.raises(ResolutionError, match="below"):
        write_error_rate(4.0, 10.0)
    assert np.isnan(write_error_rate(4.0, 10.0, below_resolution="nan"))
    value, error = write_error_rate_estimate(4.0, 10.0)
    assert abs(value) < 10 * error < 1e-13  # the estimate still returns the (unresolved) value and its error


def test_drive_1_to_4_by_pulse_half_to_50_map_has_no_nan_above_1e_12():
    # Every NaN must stand for a true WER below 1e-12. The WER falls with drive and with pulse, so a NaN point is
    # accounted for when some resolved point at a weaker-or-equal drive and a shorter-or-equal pulse is <= 1e-12.
    drive = np.linspace(1.0, 4.0, 60)[:, None]
    pulse = np.geomspace(0.5, 50.0, 60)[None, :]
    wer = write_error_rate(drive, pulse, below_resolution="nan")
    resolved_low = np.where(np.isnan(wer), np.inf, wer) <= 1e-12
    dominated = np.maximum.accumulate(np.maximum.accumulate(resolved_low, axis=0), axis=1)
    nan = np.isnan(wer)
    assert nan.any() and dominated[nan].all()
    assert np.nanmin(wer) < 1e-13  # values well below 1e-12 are reported


def test_threads_give_the_same_numbers():
    drive, pulse = np.linspace(1.2, 3.0, 7)[:, None], np.geomspace(1.0, 20.0, 5)[None, :]
    one = write_error_rate_estimate(drive, pulse, threads=1)
    two = write_error_rate_estimate(drive, pulse, threads=2)
    np.testing.assert_array_equal(one.value, two.value)
    np.testing.assert_array_equal(one.error, two.error)


def test_field_opposing_the_write_raises_the_wer():
    assert write_error_rate(2.0, 5.0, field=0.1) > 2 * write_error_rate(2.0, 5.0, field=0.0)


def test_broadcasting_shapes():
    assert write_error_rate(2.0, 5.0).shape == ()
    assert write_error_rate(np.ones((3, 1)) * 2, np.ones(4) * 5).shape == (3, 4)


@pytest.mark.parametrize("kwargs, match", [
    (dict(drive=2.0, pulse=-1.0), "pulse"), (dict(drive=np.nan, pulse=1.0), "drive"),
    (dict(drive=2.0, pulse=1.0, delta=0.0), "delta"), (dict(drive=2.0, pulse=1.0, delta=-3.0), "delta"),
    (dict(drive=2.0, pulse=1.0, field=1.0), "field"), (dict(drive=2.0, pulse=1.0, n_terms=2.5), "n_terms"),
    (dict(drive=2.0, pulse=1.0, below_resolution="zero"), "below_resolution"),
    (dict(drive=2.0, pulse=1.0, threads=0), "threads"),
])
def test_bad_input_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        write_error_rate(**kwargs)
