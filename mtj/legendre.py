"""The Fokker-Planck equation of a macrospin in a Legendre basis (Tzoufras, AIP Advances 8, 056002 (2018)).

The density ρ(x, τ) of x = m_z = cos θ (normalized 2π ∫ ρ dx = 1) obeys

    ∂ρ/∂τ = −∂/∂x[(1 − x²)(x + h − i) ρ] + (1/2Δ) ∂/∂x[(1 − x²) ∂ρ/∂x].

Write ρ = Σₙ rₙ Pₙ(x), n = 0..N. Projecting on P_m (∫ P_m Pₙ dx = 2 δ_mn / (2m+1)) gives dr/dτ = A r with

    A[m, n] = (2m+1)/2 · ∫ P_m'(x) (1 − x²)(x + h − i) Pₙ(x) dx  −  n(n+1)/(2Δ) δ_mn.

The drift part comes from one integration by parts (the boundary term vanishes with 1 − x²); the diffusion part from
((1−x²)Pₙ')' = −n(n+1)Pₙ. Expanding with the two identities

    (1 − x²) Pₙ' = n(n+1) (Pₙ₋₁ − Pₙ₊₁) / (2n+1),        x Pₙ = ((n+1) Pₙ₊₁ + n Pₙ₋₁) / (2n+1),

the drift (1 − x²)(x + h − i) ρ reaches P_{n±1} and P_{n±2}, so A is pentadiagonal with column n

    A[n−2, n] = −n(n−1)(n−2) / ((2n+1)(2n−1))
    A[n−1, n] =  (i − h) n(n−1) / (2n+1)
    A[n,   n] = −n(n+1) [1/(2Δ) − 1/((2n+3)(2n−1))]
    A[n+1, n] = −(i − h)(n+1)(n+2) / (2n+1)
    A[n+2, n] =  (n+1)(n+2)(n+3) / ((2n+1)(2n+3)).

Row 0 is zero, so r₀ = 1/4π (total probability) is conserved exactly. `tests/mtj/test_legendre.py` rebuilds A by
Gauss-Legendre quadrature of the formula above and compares.

The write error rate (writing from x = +1 toward x = −1) is the probability left in the upper hemisphere,
WER = 2π ∫₀¹ ρ dx = 2π Σₙ sₙ rₙ with sₙ = ∫₀¹ Pₙ dx = (Pₙ₋₁(0) − Pₙ₊₁(0)) / (2n+1) (s₀ = 1).
"""
import numpy as np
from scipy.special import roots_legendre

from .params import check_delta, check_field


def n_terms_for(delta, drive, field=0.0):
    """Truncation order N that resolves the density at this (Δ, i, h).

    The narrowest feature is the equilibrium peak at a pole, of width ~1/(2Δ(1 + |i − h|)) in x; Legendre series
    resolve a width w near ±1 with N ~ 1/√w, hence N = 12 √(Δ (1 + |i − h|)) rounded up to an even number (>= 40),
    a constant checked by the convergence tests (N = 148 at the paper's Δ = 40, i = 2.78; MTJ.md quotes ~100 at zero
    drive). The cost of a drive grows like N³, so the rounding stays small.
    """
    n = 12.0 * np.sqrt(delta * (1.0 + abs(drive - field)))
    return int(max(40, 2 * np.ceil(n / 2)))


def operator(n_terms, delta, drive, field=0.0):
    """The pentadiagonal Fokker-Planck matrix A, shape (N+1, N+1), for N = n_terms (dimensionless, per τ_D)."""
    delta, field = check_delta(delta), check_field(field)
    n = np.arange(n_terms + 1, dtype=float)
    push = float(drive) - field
    a = np.zeros((n_terms + 1, n_terms + 1))
    diag = -n * (n + 1) * (1.0 / (2.0 * delta) - 1.0 / ((2 * n + 3) * (2 * n - 1)))
    a[np.arange(n_terms + 1), np.arange(n_terms + 1)] = diag
    col = np.arange(1, n_terms + 1)
    nn = n[1:]
    a[col - 1, col] = push * nn * (nn - 1) / (2 * nn + 1)
    col = np.arange(2, n_terms + 1)
    nn = n[2:]
    a[col - 2, col] = -nn * (nn - 1) * (nn - 2) / ((2 * nn + 1) * (2 * nn - 1))
    col = np.arange(0, n_terms)
    nn = n[:-1]
    a[col + 1, col] = -push * (nn + 1) * (nn + 2) / (2 * nn + 1)
    col = np.arange(0, n_terms - 1)
    nn = n[:-2]
    a[col + 2, col] = (nn + 1) * (nn + 2) * (nn + 3) / ((2 * nn + 1) * (2 * nn + 3))
    return a


def legendre_table(n_terms, x):
    """P_0..P_N at the points x: shape (N+1, len(x)), by the three-term recurrence."""
    x = np.asarray(x, dtype=float)
    table = np.empty((n_terms + 1, x.size))
    table[0] = 1.0
    if n_terms >= 1:
        table[1] = x
    for n in range(1, n_terms):
        table[n + 1] = ((2 * n + 1) * x * table[n] - n * table[n - 1]) / (n + 1)
    return table


def upper_hemisphere_weights(n_terms):
    """sₙ = ∫₀¹ Pₙ dx for n = 0..N (shape (N+1,)): WER = 2π s·r."""
    p0 = np.zeros(n_terms + 2)  # Pₙ(0): zero for odd n, P_{n+1}(0) = −n/(n+1) P_{n−1}(0)
    p0[0] = 1.0
    for n in range(1, n_terms + 1, 2):
        p0[n + 1] = -n / (n + 1) * p0[n - 1]
    s = np.empty(n_terms + 1)
    s[0] = 1.0
    n = np.arange(1, n_terms + 1)
    s[1:] = (p0[n - 1] - p0[n + 1]) / (2 * n + 1)
    return s


def initial_coefficients(n_terms, delta, field=0.0):
    """Legendre coefficients r(0), shape (N+1,), of thermal equilibrium in the upper well.

    ρ(x, 0) ∝ exp(Δ(x² + 2hx)) for x > 0 and 0 for x < 0, normalized to 2π ∫ ρ dx = 1, projected with
    Gauss-Legendre quadrature on [0, 1] (exact to rounding: the nodes resolve the 1/2Δ-wide peak at x = 1).
    """
    delta, field = check_delta(delta), check_field(field)
    nodes, weights = roots_legendre(max(2 * n_terms + 64, 256))
    x, w = (nodes + 1) / 2, weights / 2
    density = np.exp(delta * (x * x + 2 * field * x - 1 - 2 * field))  # scaled by the peak value: no overflow
    density /= 2 * np.pi * np.dot(w, density)
    n = np.arange(n_terms + 1)
    return (2 * n + 1) / 2 * (legendre_table(n_terms, x) @ (w * density))
