"""The exact slow rate by quadrature: against eigenvalues where those are accurate, against itself on a finer grid,
detailed balance, and Brown's closed form as the barrier grows."""
import numpy as np
import pytest

from mtj.activation import _slow_mode, barrier_height, equilibrium_hemispheres, slow_mode
from mtj.closed_forms import brown_rate
from mtj.legendre import n_terms_for, operator


@pytest.mark.parametrize("delta, drive", [(5.0, 0.0), (10.0, 0.3), (20.0, 0.5), (40.0, 0.5), (40.0, 0.7)])
def test_rate_is_the_slowest_eigenvalue_of_the_legendre_operator(delta, drive):
    # Moderate barriers, λ₁ >= 5e-5: there the eigenvalues of A (absolute error ~1e-13) resolve λ₁ to ~1e-9.
    n = int(1.5 * n_terms_for(delta, drive))
    eigenvalues = np.sort(-np.linalg.eigvals(operator(n, delta, drive)).real)
    mode = slow_mode(delta, drive)
    assert mode.rate == pytest.approx(eigenvalues[1], rel=1e-8)
    assert mode.settle_rate == pytest.approx(eigenvalues[2], rel=1e-6)


@pytest.mark.parametrize("delta, drive", [(40.0, 0.0), (80.0, 0.3), (200.0, 0.1), (40.0, -0.5)])
def test_quadrature_is_converged(delta, drive):
    coarse, fine = _slow_mode(delta, drive, 0.0), _slow_mode(delta, drive, 0.0, refine=2)
    assert fine.rate == pytest.approx(coarse.rate, rel=1e-13)
    assert fine.lower_equilibrium == pytest.approx(coarse.lower_equilibrium, rel=1e-13)
    assert coarse.rate_rtol < 1e-14


def test_detailed_balance_and_the_symmetric_case():
    mode = slow_mode(40.0, 0.3)
    assert mode.escape_rate / mode.return_rate == pytest.approx(
        equilibrium_hemispheres(40.0, 0.3)[0] / equilibrium_hemispheres(40.0, 0.3)[1], rel=1e-6)
    symmetric = slow_mode(40.0, 0.0)
    assert symmetric.escape_rate == pytest.approx(symmetric.rate / 2, rel=1e-14)
    assert symmetric.lower_equilibrium == pytest.approx(0.5, abs=1e-15)


def test_equilibrium_hemispheres_match_laplace():
    # Each well holds ∝ e^(Δ(1 ∓ 2i)) / (2Δ(1 ∓ i)): upper/lower = e^(−4Δi)(1 + i)/(1 − i) for a high barrier.
    lower, upper = equilibrium_hemispheres(40.0, 0.1)
    assert upper / lower == pytest.approx(np.exp(-16.0) * 1.1 / 0.9, rel=0.02)
    # One well (i = 3): the upper side holds ∫₀ e^(−2Δix) dx = 1/(2Δi) against e^(Δ(1 + 2i))/(2Δ(1 + i)) below.
    lower, upper = equilibrium_hemispheres(80.0, 3.0)
    assert upper == pytest.approx(np.exp(-560.0) * 640 / 480, rel=0.02) and lower == 1.0


@pytest.mark.parametrize("delta", [40.0, 80.0])
def test_brown_closed_form_is_the_high_barrier_limit(delta):
    drives = np.array([0.0, 0.2, 0.4])
    exact = np.array([slow_mode(delta, i).escape_rate for i in drives])
    ratio = brown_rate(drives, delta) / exact
    barrier = barrier_height(delta, drives)
    assert (ratio > 1).all() and (np.abs(ratio - 1) < 2 / barrier).all()  # a 1/B correction
    assert (np.diff(ratio) > 0).all()  # and it grows as the barrier falls


def test_two_wells_are_required():
    with pytest.raises(ValueError, match="two wells"):
        slow_mode(40.0, 1.0)
    assert barrier_height(40.0, [1.0, 0.5, -1.5]).tolist() == [0.0, 10.0, 0.0]
