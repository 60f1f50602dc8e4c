"""Closed forms against the full Fokker-Planck solution: each in its own regime, and the full solution outside it."""
import warnings

import numpy as np
import pytest

from mtj.activation import slow_mode
from mtj.closed_forms import (ValidityWarning, brown_rate, brown_retention_failure, neel_arrhenius_retention_failure,
                              precessional_wer, read_disturb_probability, thermal_switching_rate, thermal_wer)
from mtj.retention import read_disturb
from mtj.wer import switching_probability, write_error_rate


def quietly(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityWarning)
        return call(*args, **kwargs)


@pytest.mark.parametrize("delta", [40.0, 60.0, 80.0])
def test_precessional_ratio_to_the_full_solution_is_as_documented(delta):
    drives = np.array([1.1, 1.2, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0])[:, None]
    pulses = np.array([0.5, 1, 2, 3, 5, 10, 20, 50])[None, :]
    full = write_error_rate(drives, pulses, delta, below_resolution="nan")
    ratio = np.where((full > 1e-12) & (full < 0.1), precessional_wer(drives, pulses, delta) / full, np.nan)
    bands = {(6.0, 8.0): (0.82, 0.96), (4.0, 5.0): (0.99, 1.22), (2.5, 3.5): (1.3, 2.3), (2.0, 2.0): (2.9, 3.9),
             (1.5, 1.5): (6.0, 23.0), (1.1, 1.2): (10.0, 1.3e5)}
    for (low, high), (least, most) in bands.items():
        band = ratio[(drives[:, 0] >= low) & (drives[:, 0] <= high)]
        band = band[~np.isnan(band)]
        assert band.size and least <= band.min() and band.max() <= most, (low, high, band.min(), band.max())
    doc = " ".join(precessional_wer.__doc__.split())
    assert "1.3-6" not in doc and "0.83-0.95 at i = 6-8" in doc and "10-10⁵ at i = 1.1-1.2" in doc


def test_thermal_forms_hold_no_answer_outside_their_regime():
    # Δ = 40: Brown's formula peaks near i = 0.8 and falls to 0 at i = 1; with it, read disturb at τ = 10 would be
    # 0.139 at i = 0.7 (full solution 0.037) and fall from i = 0.8 to 0.9 while the full solution rises
    # (0.171 -> 0.433). Outside the regime the functions must give the full solution, and ≈ 0 for negative drives.
    drives = np.linspace(-0.9, 0.999, 120)
    with pytest.warns(ValidityWarning, match="outside its regime"):
        rate = thermal_switching_rate(drives, 40.0)
    assert (np.diff(rate) >= 0).all() and rate[-1] > 0.1
    with pytest.warns(ValidityWarning):
        disturb = read_disturb_probability(np.array([0.7, 0.8, 0.9]), 10.0, 40.0)
    np.testing.assert_allclose(disturb, switching_probability(np.array([0.7, 0.8, 0.9]), 10.0, 40.0), rtol=1e-12)
    assert disturb[0] == pytest.approx(0.0372, abs=1e-4) and disturb[1] < disturb[2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a negative read drive is inside the regime: no warning, ≈ 0
        assert 0 <= read_disturb_probability(-0.3, 10.0, 40.0, n_reads=10**6) < 1e-20
        assert read_disturb_probability(-1.5, 10.0, 40.0) == 0.0  # no second well at all


@pytest.mark.parametrize("delta", [20.0, 40.0, 80.0])
@pytest.mark.parametrize("pulse", [1.0, 10.0, 60.0, 300.0, 1e4])
def test_thermal_forms_are_monotone_across_their_regime_edge(delta, pulse):
    drives = np.linspace(-0.5, 0.95, 90)
    disturb = quietly(read_disturb_probability, drives, pulse, delta, below_resolution="nan")
    wer = quietly(thermal_wer, drives, pulse, delta, below_resolution="nan")
    for values, sign in ((disturb, 1), (wer, -1)):
        known = values[~np.isnan(values)]
        assert (sign * np.diff(known) >= -1e-11).all()  # up to the full solution's resolution near 0 and 1


@pytest.mark.parametrize("delta, drive", [(40.0, 0.3), (40.0, 0.5), (60.0, 0.5), (80.0, 0.6)])
def test_thermal_activation_matches_in_its_regime(delta, drive):
    assert delta * (1 - drive) ** 2 >= 10
    pulse = 0.5 / thermal_switching_rate(drive, delta)
    full = switching_probability(drive, pulse, delta)
    assert full == pytest.approx(1 - thermal_wer(drive, pulse, delta), rel=0.12)


def test_inside_the_regime_the_closed_rate_is_brown_s_within_its_edge_bound():
    drives = np.array([0.0, 0.2, 0.4])
    np.testing.assert_array_equal(thermal_switching_rate(drives, 40.0), brown_rate(drives, 40.0))
    edge = 1 - np.sqrt(10 / 40)
    assert thermal_switching_rate(edge - 1e-4, 40.0) <= slow_mode(40.0, edge).escape_rate


def test_read_disturb_is_thermal_switching_at_the_read_drive():
    pulse = 0.1 / thermal_switching_rate(0.3, 40.0)
    assert read_disturb_probability(0.3, pulse, 40.0) == pytest.approx(switching_probability(0.3, pulse, 40.0),
                                                                       rel=0.1)
    one, many = read_disturb_probability(0.3, 100.0, 40.0), read_disturb_probability(0.3, 100.0, 40.0, n_reads=10**6)
    assert many == pytest.approx(-np.expm1(1e6 * np.log1p(-one)), rel=1e-9)  # independent reads
    assert read_disturb(0.3, 100.0, 40.0, n_reads=10) == pytest.approx(
        -np.expm1(10 * np.log1p(-switching_probability(0.3, 100.0, 40.0))), rel=1e-12)


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
    (lambda: precessional_wer(1.0, 5.0), "drive > 1"), (lambda: thermal_switching_rate(1.2), "drive - field < 1"),
    (lambda: thermal_wer(0.5, -1.0), "pulse"), (lambda: read_disturb_probability(0.3, 1.0, n_reads=0), "n_reads"),
    (lambda: brown_retention_failure(1.0, delta=0), "delta"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
