"""Inversions round-trip through the forward solution and refuse unreachable targets clearly."""
import numpy as np
import pytest

from mtj.inversion import drive_for_wer, long_pulse_wer, pulse_for_wer
from mtj.wer import write_error_rate, write_error_rate_estimate


@pytest.mark.parametrize("target, pulse, delta", [(1e-6, 5.0, 40.0), (1e-2, 2.0, 40.0), (1e-9, 20.0, 60.0),
                                                  (0.3, 1.0, 40.0), (1e-12, 5.0, 40.0), (1e-13, 20.0, 40.0)])
def test_drive_round_trip(target, pulse, delta):
    drive = drive_for_wer(target, pulse, delta)
    value, error = write_error_rate_estimate(drive, pulse, delta)
    assert value == pytest.approx(target, rel=1e-7, abs=float(error))


@pytest.mark.parametrize("target, drive, delta", [(1e-3, 2.5, 40.0), (1e-6, 1.5, 40.0), (1e-2, 0.8, 40.0)])
def test_pulse_round_trip(target, drive, delta):
    pulse = pulse_for_wer(target, drive, delta)
    assert write_error_rate(drive, pulse, delta) == pytest.approx(target, rel=1e-7, abs=3e-13)


def test_paper_drive():
    assert round(drive_for_wer(1e-6, 5.0, 40.0), 2) == 2.78


def test_long_pulse_limit_is_the_equilibrium_under_drive():
    limit = long_pulse_wer(0.1, 40.0)
    # Laplace: each well holds ∝ e^(Δ(1 ∓ 2i)) / (2Δ(1 ∓ i)), so the upper/lower ratio is e^(−4Δi)(1 + i)/(1 − i)
    assert limit == pytest.approx(np.exp(-4 * 40 * 0.1) * 1.1 / 0.9, rel=0.02)
    assert write_error_rate(0.3, 1e4, 5.0) == pytest.approx(long_pulse_wer(0.3, 5.0), rel=1e-4)  # a low barrier


@pytest.mark.parametrize("call, match", [
    (lambda: pulse_for_wer(1e-9, 0.1), "unreachable at drive 0.1: even an infinite pulse"),
    (lambda: drive_for_wer(1e-6, 0.0), "pulse must be a positive"),
    (lambda: drive_for_wer(1e-6, -2.0), "pulse must be a positive"),
    (lambda: drive_for_wer(1e-15, 5.0), "below 1e-14"),
    (lambda: drive_for_wer(1.5, 5.0), r"probability in \(0, 1\)"),
    (lambda: drive_for_wer(1e-6, 5.0, delta=0.0), "delta"),
    (lambda: drive_for_wer(1e-6, 1e-4), "not reached at pulse 0.0001 below drive 20"),
])
def test_unreachable_or_bad_targets_raise_clearly(call, match):
    with pytest.raises(ValueError, match=match):
        call()
