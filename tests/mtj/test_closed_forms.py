"""Closed forms against the full Fokker-Planck solution, each in its own regime."""
import numpy as np
import pytest

from mtj.closed_forms import (brown_retention_failure, neel_arrhenius_retention_failure, precessional_wer,
                              read_disturb_probability, thermal_switching_rate, thermal_wer)
from mtj.wer import switching_probability, write_error_rate


def test_precessional_overestimates_by_the_documented_factor():
    drive = np.array([2.0, 2.78, 3.5])[:, None]
    pulse = np.array([2.0, 5.0])[None, :]
    ratio = precessional_wer(drive, pulse) / write_error_rate(drive, pulse)
    assert ((ratio > 1.3) & (ratio < 6)).all(), ratio
    assert (np.diff(ratio, axis=0) < 0).all(), "the closed form should approach the full solution at higher drive"


@pytest.mark.parametrize("delta, drive", [(40.0, 0.3), (40.0, 0.5), (60.0, 0.5), (80.0, 0.6)])
def test_thermal_activation_matches_in_its_regime(delta, drive):
    assert delta * (1 - drive) ** 2 >= 10
    pulse = 0.5 / thermal_switching_rate(drive, delta)
    full = switching_probability(drive, pulse, delta)
    assert full == pytest.approx(1 - thermal_wer(drive, pulse, delta), rel=0.1)


def test_read_disturb_is_thermal_switching_at_the_read_drive():
    pulse = 0.1 / thermal_switching_rate(0.3, 40.0)
    assert read_disturb_probability(0.3, pulse, 40.0) == pytest.approx(switching_probability(0.3, pulse, 40.0),
                                                                       rel=0.1)
    one, many = read_disturb_probability(0.3, 1.0, 40.0), read_disturb_probability(0.3, 1.0, 40.0, n_reads=10**6)
    assert many == pytest.approx(-np.expm1(1e6 * np.log1p(-one)), rel=1e-9)  # independent reads


def test_brown_retention_matches_full_solution_at_small_flip_probability():
    # At zero drive and Δ = 20 the flip probability after 1e4 τ_D is ~5e-5: Brown's asymptotic rate within 8 %.
    assert brown_retention_failure(1e4, 20.0) == pytest.approx(switching_probability(0.0, 1e4, 20.0), rel=0.08)


def test_neel_arrhenius_small_time_limit_and_saturation():
    assert neel_arrhenius_retention_failure(1.0, 40.0) == pytest.approx(np.exp(-40.0), rel=1e-12)
    assert neel_arrhenius_retention_failure(1e30, 40.0) == pytest.approx(1.0)
    ten_years_ns = 10 * 365.25 * 24 * 3600 * 1e9
    assert neel_arrhenius_retention_failure(ten_years_ns, 60.0) < 1e-8 < neel_arrhenius_retention_failure(
        ten_years_ns, 30.0)


@pytest.mark.parametrize("call, match", [
    (lambda: precessional_wer(1.0, 5.0), "drive > 1"), (lambda: thermal_switching_rate(1.2), "drive < 1"),
    (lambda: thermal_wer(0.5, -1.0), "pulse"), (lambda: read_disturb_probability(0.3, 1.0, n_reads=0), "n_reads"),
    (lambda: brown_retention_failure(1.0, delta=0), "delta"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
