"""Piecewise-constant and trapezoid pulses against the limits they must reproduce, and against extended precision."""
import numpy as np
import pytest

from mtj import extended
from mtj.legendre import n_terms_for
from mtj.pulses import piecewise_estimate, piecewise_wer, ramp_levels, trapezoid_estimate, trapezoid_wer
from mtj.wer import ResolutionError, write_error_rate, write_error_rate_estimate


def test_one_piece_is_the_constant_pulse():
    for drive, pulse in ((2.5, 5.0), (1.2, 20.0), (0.6, 30.0)):
        piece = piecewise_estimate([drive], [pulse])
        square = write_error_rate_estimate(drive, pulse)
        assert abs(piece.value - square.value) <= piece.error + square.error


def test_splitting_a_piece_changes_nothing():
    whole = piecewise_wer([2.78], [5.0])
    assert piecewise_wer([2.78, 2.78, 2.78], [1.0, 1.5, 2.5]) == pytest.approx(whole, rel=1e-10)


def test_zero_rise_and_fall_is_the_square_pulse():
    amplitude, plateau = np.array([2.0, 2.78, 3.5])[:, None], np.array([2.0, 5.0])[None, :]
    np.testing.assert_allclose(trapezoid_wer(amplitude, plateau, 0.0), write_error_rate(amplitude, plateau),
                               rtol=1e-12, atol=1e-15)


def test_ramps_converge_as_one_over_steps_squared():
    values = [float(trapezoid_wer(2.78, 5.0, 1.0, steps=s)) for s in (8, 16, 32, 64)]
    differences = np.abs(np.diff(values))
    assert (differences[:-1] / differences[1:] == pytest.approx(4.0, rel=0.15))
    assert abs(values[2] - values[3]) / values[3] < 5e-4  # the default 32 steps at a 1 tau_D ramp


def test_slower_edges_cost_what_physics_says():
    # A ramp spends time below full drive: with the same plateau the WER rises with the ramp time, and a ramp counts
    # for less than the same time at full drive (the plateau + rise/2 rule brackets it from below).
    square = float(write_error_rate(2.78, 5.0))
    values = [float(trapezoid_wer(2.78, 5.0, r)) for r in (0.5, 1.0, 2.0)]
    assert square > values[0] > values[1] > values[2]  # longer edges add switching time (both edges > 0 drive)
    assert all(v > float(write_error_rate(2.78, 5.0 + r)) for v, r in zip(values, (0.5, 1.0, 2.0)))


def test_ramp_levels_are_midpoints():
    levels, durations = ramp_levels(0.0, 2.0, 1.0, 4)
    np.testing.assert_allclose(levels, [0.25, 0.75, 1.25, 1.75])
    np.testing.assert_allclose(durations, 0.25)


@pytest.mark.skipif(not extended.AVAILABLE, reason="numpy.longdouble is plain double here")
def test_error_estimate_bounds_the_error_of_a_chain():
    up, up_t = ramp_levels(0.0, 2.78, 1.0, 3)
    down, down_t = ramp_levels(2.78, 0.0, 1.0, 3)
    for levels, durations in (([1.5, 3.0, 0.0], [2.0, 2.0, 3.0]), ([0.3, 2.78], [10.0, 5.0]),
                              (list(up) + [2.78] + list(down), list(up_t) + [5.0] + list(down_t))):
        estimate = piecewise_estimate(levels, durations)
        n = max(n_terms_for(40.0, level) for level in levels)
        reference = float(extended.piecewise_probability(40.0, 0.0, levels, durations, n))
        assert abs(float(estimate.value) - reference) <= float(estimate.error) < 2e-12


def test_bad_input_and_resolution():
    with pytest.raises(ValueError, match="one length"):
        piecewise_wer([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="steps"):
        trapezoid_wer(2.0, 5.0, 1.0, steps=0)
    with pytest.raises(ResolutionError, match="below"):
        trapezoid_wer(6.0, 20.0, 1.0)
    assert np.isnan(trapezoid_wer(6.0, 20.0, 1.0, below_resolution="nan"))
    assert trapezoid_estimate(6.0, 20.0, 1.0).error < 1e-12
