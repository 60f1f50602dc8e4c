"""The Legendre operator, hemisphere weights and initial state against direct quadrature of their definitions."""
import numpy as np
import pytest
import scipy.linalg
from numpy.polynomial import legendre as npleg

from mtj.legendre import (initial_coefficients, legendre_table, n_terms_for, operator,
                          upper_hemisphere_weights)


def quadrature_operator(n_terms, delta, drive, field):
    """A[m, n] = (2m+1)/2 ∫ P_m' (1−x²)(x+h−i) Pₙ dx − n(n+1)/(2Δ) δ_mn, by Gauss-Legendre quadrature."""
    x, w = npleg.leggauss(2 * n_terms + 8)
    eye = np.eye(n_terms + 1)
    p = np.array([npleg.legval(x, eye[k]) for k in range(n_terms + 1)])
    dp = np.array([npleg.legval(x, npleg.legder(eye[k])) for k in range(n_terms + 1)])
    drift = (dp * ((1 - x**2) * (x + field - drive) * w)) @ p.T
    n = np.arange(n_terms + 1)
    return (2 * n[:, None] + 1) / 2 * drift - np.diag(n * (n + 1)) / (2 * delta)


@pytest.mark.parametrize("delta, drive, field", [(40.0, 2.78, 0.0), (7.5, 0.3, 0.2), (80.0, 1.5, -0.3)])
def test_operator_equals_quadrature_of_the_pde(delta, drive, field):
    a = operator(30, delta, drive, field)
    reference = quadrature_operator(30, delta, drive, field)
    np.testing.assert_allclose(a, reference, rtol=1e-11, atol=1e-11 * np.abs(reference).max())


def test_operator_is_pentadiagonal_and_conserves_probability():
    a = operator(40, 40.0, 2.0)
    rows, cols = np.nonzero(a)
    assert np.abs(rows - cols).max() == 2
    assert not a[0].any(), "row 0 must vanish so that r0 = 1/4pi is conserved"
    r = scipy.linalg.expm(a * 3.0) @ initial_coefficients(40, 40.0)
    assert r[0] == pytest.approx(1 / (4 * np.pi), rel=1e-13)


def test_legendre_table_matches_numpy():
    x = np.linspace(-1, 1, 17)
    table = legendre_table(12, x)
    for n in range(13):
        np.testing.assert_allclose(table[n], npleg.legval(x, np.eye(13)[n]), atol=1e-13)


def test_hemisphere_weights_are_integrals_over_upper_half():
    s = upper_hemisphere_weights(25)
    assert s[:6] == pytest.approx([1, 0.5, 0, -1 / 8, 0, 1 / 16])
    x, w = npleg.leggauss(60)
    x, w = (x + 1) / 2, w / 2
    np.testing.assert_allclose(s, legendre_table(25, x) @ w, atol=1e-14)


@pytest.mark.parametrize("field", [0.0, 0.3])
def test_initial_state_is_normalized_upper_well_equilibrium(field):
    n, delta = 120, 40.0
    r = initial_coefficients(n, delta, field)
    assert r[0] == pytest.approx(1 / (4 * np.pi), rel=1e-14)
    x = np.array([0.5, 0.9, 0.99])
    density = r @ legendre_table(n, x)
    exact = np.exp(delta * (x**2 + 2 * field * x))
    np.testing.assert_allclose(density / density[-1], exact / exact[-1], rtol=1e-6, atol=1e-12)
    assert 2 * np.pi * upper_hemisphere_weights(n) @ r == pytest.approx(1.0, abs=1e-12)


def test_term_rule_grows_with_delta_and_drive():
    assert n_terms_for(40.0, 2.78) == 148
    assert n_terms_for(40.0, 0.0) < n_terms_for(40.0, 3.0) < n_terms_for(80.0, 3.0)
    assert n_terms_for(0.1, 0.0) == 40
