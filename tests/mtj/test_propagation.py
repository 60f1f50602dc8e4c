"""The propagator and its error estimates, against the extended-precision twin (mtj.extended) and scipy's expm."""
import numpy as np
import pytest
import scipy.linalg

from mtj import extended, propagation
from mtj.activation import slow_mode
from mtj.legendre import initial_coefficients, n_terms_for, operator
from mtj.propagation import hemisphere_probability, propagate

needs_extended = pytest.mark.skipif(not extended.AVAILABLE, reason="numpy.longdouble is plain double here")


@pytest.mark.parametrize("delta, drive, field", [(40.0, 2.78, 0.0), (40.0, 0.6, 0.0), (60.0, 1.5, 0.1)])
def test_shared_ladder_equals_expm_per_pulse(delta, drive, field):
    n = 120
    a, r0 = operator(n, delta, drive, field), initial_coefficients(n, delta, field)
    pulse = np.array([0.0, 0.013, 0.4, 1.0, 3.3, 5.0, 17.0, 80.0])
    ladder = propagate(a, r0, pulse)
    reference = np.stack([scipy.linalg.expm(a * t) @ r0 for t in pulse], axis=1)
    np.testing.assert_allclose(ladder, reference, rtol=0, atol=1e-11 * np.abs(reference).max())
    several = propagate(a, np.stack([r0, 2 * r0], axis=1), pulse)  # K start columns: (N+1, K, M)
    np.testing.assert_allclose(several[:, 1], 2 * ladder, rtol=1e-14, atol=1e-14)


@needs_extended
@pytest.mark.parametrize("delta", [20.0, 40.0, 80.0])
@pytest.mark.parametrize("drive", [4.0, 2.0, 1.0, 0.8, 0.3, 0.0])
@pytest.mark.parametrize("upper", [True, False])
def test_error_estimate_bounds_the_error_against_extended_precision(delta, drive, upper):
    pulse = np.geomspace(0.05, 80.0, 14)
    n = n_terms_for(delta, drive)
    value, rounding, truncation = hemisphere_probability(delta, drive, 0.0, pulse, n, upper)
    reference = extended.hemisphere_probability(delta, drive, 0.0, pulse, n, upper).astype(float)
    error = np.abs(value - reference)
    assert (error <= rounding + truncation).all(), (error / (rounding + truncation)).max()
    assert (rounding + truncation).max() < 3e-11  # and is not absurdly cautious


@needs_extended
@pytest.mark.parametrize("delta, drive", [(40.0, 1.5), (40.0, 3.0), (80.0, 2.0)])
def test_values_just_above_the_floor_agree_with_extended_precision(delta, drive):
    # The smallest reported WERs (estimated error <= 10 % of the value) against the 80-bit twin at the same N.
    pulse = np.geomspace(2.0, 60.0, 60)
    n = n_terms_for(delta, drive)
    value, rounding, truncation = hemisphere_probability(delta, drive, 0.0, pulse, n, True)
    floor = (rounding + truncation) / 0.1
    near = np.flatnonzero((value >= floor) & (value < 100 * floor))
    assert near.size, "no value within 100x of its floor on this pulse range"
    reference = extended.hemisphere_probability(delta, drive, 0.0, pulse[near], n, True).astype(float)
    assert value[near].min() < 1e-12
    np.testing.assert_allclose(value[near], reference, rtol=0.1)
    assert (np.abs(value[near] - reference) <= (rounding + truncation)[near]).all()


def test_long_pulses_reach_the_stationary_value_without_an_offset():
    # Propagating the deviation from the stationary state leaves no rounding offset at long pulses: at i = 3 the WER
    # decays to ~e^(−480) and the computed value stays within the estimate of it.
    pulse = np.array([20.0, 50.0, 1e3, 1e6])
    value, rounding, truncation = hemisphere_probability(40.0, 3.0, 0.0, pulse, n_terms_for(40.0, 3.0), True)
    assert (np.abs(value) <= rounding + truncation).all() and (rounding + truncation).max() < 1e-14


@needs_extended
def test_continuation_agrees_with_direct_propagation_past_the_settling_time():
    delta, drive, n = 40.0, 0.3, n_terms_for(40.0, 0.3)
    problem = propagation.problem(delta, drive, 0.0, n, False)
    assert problem.continuation
    pulse = problem.settle_time * np.array([1.2, 2.0, 3.0])
    value, rounding, _ = hemisphere_probability(delta, drive, 0.0, pulse, n, False)
    reference = extended.hemisphere_probability(delta, drive, 0.0, pulse, n, False).astype(float)
    assert (np.abs(value - reference) <= rounding).all()
    np.testing.assert_allclose(value, reference, rtol=1e-4)


def test_continuation_follows_the_slow_rate_to_retention_times():
    # At Δ = 60, no drive: P(τ) = P(τ_s) + (1/2 − P(τ_s))(1 − e^(−λ₁(τ − τ_s))); for λ₁τ << 1 that is λ₁τ/2.
    delta = 60.0
    rate = slow_mode(delta, 0.0).rate
    pulse = np.array([1e20, 1e22, 1e26, 1e30])
    value, rounding, _ = hemisphere_probability(delta, 0.0, 0.0, pulse, n_terms_for(delta, 0.0), False)
    expected = 0.5 * -np.expm1(-rate * pulse)
    np.testing.assert_allclose(value, expected, rtol=1e-9, atol=2 * rounding.max())
    assert value[-1] == pytest.approx(0.5)


def test_too_long_for_the_ladder_is_refused():
    a = operator(40, 10.0, 2.0)
    with pytest.raises(ValueError, match="beyond the propagator's range"):
        propagate(a, initial_coefficients(40, 10.0), np.array([1e20]))


@needs_extended
@pytest.mark.parametrize("n", [40, 64, 65, 108, 170])
def test_initial_state_sliced_from_a_longer_expansion_is_as_accurate_as_its_own(n):
    # Problems of every order share one expansion of r(0) per (Δ, h); its leading n + 1 coefficients are as close
    # to the 80-bit values as those of an expansion of order n (both carry the quadrature's rounding, ~1e-11).
    shared = propagation.initial_vector(40.0, 0.1, n)
    assert shared.shape == (n + 1,)
    reference = extended.initial_coefficients(n, 40.0, 0.1).astype(float)
    own = np.abs(initial_coefficients(n, 40.0, 0.1) - reference).max()
    assert np.abs(shared - reference).max() < max(4 * own, 1e-11)
