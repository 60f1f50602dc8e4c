"""The stochastic LLG macrospin: Numba twin, initial distribution, and agreement with Fokker-Planck."""
import numpy as np
import pytest
from scipy.special import betainc

from mtj.macrospin import (binomial_interval, initial_states, integrate, integrate_reference, simulate_wer)
from mtj.wer import write_error_rate


def test_numba_kernel_equals_numpy_twin_bit_for_bit():
    rng = np.random.default_rng(7)
    m0 = initial_states(37, 40.0, 0.1, rng)
    noise = rng.standard_normal((37, 150, 3), dtype=np.float32)
    args = (1.8, 0.1, 0.5, 0.01, 0.3)
    np.testing.assert_array_equal(integrate(m0, noise, *args), integrate_reference(m0, noise, *args))


def test_without_noise_it_follows_the_deterministic_equation():
    # dx/dτ = (1 − x²)(x + h − i) has the closed solution below for h = 0; Heun at τ-step 1e-3 matches it closely.
    x0, drive, pulse, damping, steps = 0.9, 2.0, 1.0, 0.5, 1000
    m0 = np.array([[np.sqrt(1 - x0**2), 0.0, x0]])
    final = integrate(m0, np.zeros((1, steps, 3)), drive, 0.0, damping, pulse / steps / damping, 0.0)
    xs = np.linspace(x0, -0.99, 200_001)  # τ(x) = ∫ dx / ((1 − x²)(x − i)), find x at τ = pulse
    rate = (1 - xs**2) * (xs - drive)
    tau = np.concatenate([[0], np.cumsum(np.diff(xs) * (1 / rate[1:] + 1 / rate[:-1]) / 2)])
    assert final[0, 2] == pytest.approx(np.interp(pulse, tau, xs), abs=1e-4)
    assert np.linalg.norm(final[0]) == pytest.approx(1.0, abs=1e-14)


def test_initial_angle_follows_the_boltzmann_density():
    delta = 20.0
    mz = initial_states(20_000, delta, 0.0, np.random.default_rng(3))[:, 2]
    assert (mz > 0).all()
    # P(1 − m_z > s) for ρ ∝ e^(Δ m_z²) on [0, 1]: compare the empirical tail at a few s with the exact integral
    x = np.linspace(0, 1, 100_001)
    density = np.exp(delta * (x**2 - 1))
    for s in (0.01, 0.05, 0.1):
        exact = np.trapezoid(density[x < 1 - s], x[x < 1 - s]) / np.trapezoid(density, x)
        observed = (mz < 1 - s).mean()
        assert abs(observed - exact) < 4 * np.sqrt(exact * (1 - exact) / mz.size)


def test_clopper_pearson_interval_has_the_right_tails():
    low, high = binomial_interval(7, 200, 0.95)
    # P(X >= 7 | low) = 2.5 % and P(X <= 7 | high) = 2.5 %, through the regularized incomplete beta function
    assert betainc(7, 194, low) == pytest.approx(0.025, rel=1e-8)
    assert 1 - betainc(8, 193, high) == pytest.approx(0.025, rel=1e-8)
    assert binomial_interval(0, 50)[0] == 0.0 and binomial_interval(50, 50)[1] == 1.0


def test_same_seed_same_result_and_rng_required():
    a = simulate_wer(1.5, 1.0, 40.0, np.random.default_rng(5), 300)
    b = simulate_wer(1.5, 1.0, 40.0, np.random.default_rng(5), 300)
    assert a == b
    with pytest.raises(TypeError, match="Generator"):
        simulate_wer(1.5, 1.0, 40.0, 5, 300)


@pytest.mark.parametrize("drive, n", [(2.5, 2000), (3.0, 5000), (3.5, 12000)])
def test_agrees_with_fokker_planck(drive, n):
    # Δ = 40, 2 τ_D (short pulses keep the test fast; benchmarks/mtj.py checks the paper's 5 τ_D with more
    # trajectories): WER 0.11, 0.020, 0.0033. 99 % intervals at a fixed seed must contain the FP value.
    result = simulate_wer(drive, 2.0, 40.0, np.random.default_rng(2024), n, confidence=0.99)
    expected = float(write_error_rate(drive, 2.0, 40.0))
    assert result.errors > 20
    assert result.contains(expected), (result, expected)
