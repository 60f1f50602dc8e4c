"""Thermally activated switching, exactly: the slow rate of the Fokker-Planck equation by quadrature.

Below the critical drive (|i − h| < 1) the energy has two wells, at x = +1 and x = −1, separated by a barrier at
x* = i − h. Once the density inside each well has settled (a few τ_D), only the slowest mode is left and the
probability P(τ) of the lower hemisphere relaxes exponentially to its equilibrium value,

    P(τ) = P_eq + (P(τ₀) − P_eq) e^{−λ₁ (τ − τ₀)},

with λ₁ = k₊ + k₋ the sum of the escape rates out of the two wells. λ₁ is tiny (~1e-17 per τ_D at Δ = 40 with no
drive): far below what an eigenvalue routine resolves in a matrix of norm ~100 (its absolute error is ~eps·‖A‖).
This module computes it from integrals of positive functions, which keep their relative accuracy at any size.

The derivation. Write ρ(x) = exp(Δ(x² + 2(h − i)x)) (the stationary density under drive, unnormalized) and
D(x) = (1 − x²)/(2Δ). The Fokker-Planck operator is ∂τρ = ∂x[D ρ ∂x(ρ_t/ρ)], so its eigenfunctions f (in the
ratio ρ_t/ρ) solve the Sturm-Liouville problem (D ρ f')' = −λ ρ f with no flux at x = ±1. Integrating twice from
x = −1 with f(−1) = 1 gives the integral equation f = 1 − λ K[f],

    K[g](x) = ∫₋₁ˣ dy / (D(y) ρ(y)) ∫₋₁ʸ ρ(z) g(z) dz,

and the missing boundary condition (no flux at x = +1) reads ∫ ρ f = 0. Expanding f = Σₖ (−λ)ᵏ gₖ with g₀ = 1,
gₖ₊₁ = K[gₖ], the eigenvalues are the roots of the entire function Φ(λ) = Σₖ (−λ)ᵏ mₖ, mₖ = ∫ ρ gₖ.
Truncated after k = 1, the root is m₀/m₁ = Z / ∫ N₋(y) N₊(y) / (D ρ)(y) dy (N₋, N₊: the mass of ρ below and above
y): the mean-first-passage form of Kramers' rate, which Brown's closed form approximates by Laplace's method. Each
further order divides the relative error by ~λ₂/λ₁ (λ₂ the first intra-well rate, of order 1), so a few orders
reach rounding. Every integrand is positive: no cancellation at any barrier height.

Quadrature: 16-point Gauss-Legendre panels, graded geometrically toward both poles (where D vanishes) and refined
around the barrier top (where 1/ρ peaks with width ~1/√(2Δ)); indefinite integrals inside a panel use the exact
integration matrix of the panel's interpolating polynomial. `tests/mtj/test_activation.py` checks the rate against
eigenvalues of the Legendre operator where those are accurate, and the quadrature against a refined grid.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.linalg
from numpy.polynomial import legendre as _legendre

from .params import check_delta, check_field

PANEL_ORDER = 16
MAX_ORDER = 12  # series orders: the root's relative change falls by ~λ₁/λ₂ per order
SERIES_RTOL = 1e-15

_NODES, _WEIGHTS = _legendre.leggauss(PANEL_ORDER)


def _panel_integration_matrix():
    """S[j, k] = ∫₋₁^{t_j} ℓₖ(t) dt for the Lagrange basis ℓₖ on the Gauss nodes t (exact for degree < 16)."""
    basis = _legendre.legvander(_NODES, PANEL_ORDER)
    antiderivative = np.empty((PANEL_ORDER, PANEL_ORDER))
    antiderivative[:, 0] = _NODES + 1
    for k in range(1, PANEL_ORDER):  # ∫₋₁ᵗ Pₖ = (Pₖ₊₁(t) − Pₖ₋₁(t)) / (2k + 1)
        antiderivative[:, k] = (basis[:, k + 1] - basis[:, k - 1]) / (2 * k + 1)
    return antiderivative @ np.linalg.inv(basis[:, :PANEL_ORDER])


_INTEGRATE = _panel_integration_matrix()


@dataclass(frozen=True)
class SlowMode:
    """The slow relaxation between the two wells at one (Δ, i, h); rates per τ_D, probabilities dimensionless.

    rate:             λ₁ = k₊ + k₋, the decay rate of the last mode left after the wells settle.
    escape_rate:      k₊ = λ₁ P_eq(lower well), the rate of switching out of the upper well (the written-from state);
                      the wells meet at the barrier top x* = i − h (detailed balance:
                      k₊ / k₋ = P_eq(lower well) / P_eq(upper well)).
    return_rate:      k₋ = λ₁ P_eq(upper well), the rate back.
    lower_equilibrium / upper_equilibrium: the equilibrium probabilities of the two hemispheres under the drive,
                      each computed as its own integral (no 1 − p cancellation).
    settle_rate:      λ₂, the slowest intra-well relaxation rate (from a symmetric eigenproblem, absolute error ~1e-12).
    rate_rtol:        relative change of λ₁ between the last two series orders (its truncation error, bounded above).
    """

    rate: float
    escape_rate: float
    return_rate: float
    lower_equilibrium: float
    upper_equilibrium: float
    settle_rate: float
    rate_rtol: float


def barrier_height(delta, drive, field=0.0):
    """The energy barrier in units of k_BT out of the upper well, Δ(1 − (i − h))², or 0 beyond |i − h| >= 1."""
    push = np.asarray(drive, dtype=float) - field
    return np.where(np.abs(push) < 1, delta * (1 - push) ** 2, 0.0)


def slow_mode(delta, drive, field=0.0):
    """`SlowMode` at one (Δ, i, h) with a barrier, |i − h| < 1 (scalar inputs; cached)."""
    delta, field, drive = check_delta(delta), check_field(field), float(drive)
    if not abs(drive - field) < 1:
        raise ValueError(f"slow_mode needs two wells, |drive - field| < 1, got drive={drive:g}, field={field:g}")
    return _slow_mode(delta, drive, field)


@lru_cache(maxsize=4096)
def _slow_mode(delta, drive, field, refine=1):
    """`slow_mode` on panels split `refine` times each (tests compare refine=1 with 2)."""
    c = field - drive  # ρ ∝ exp(Δ(x² + 2cx)); barrier top at x* = −c
    one_plus, one_minus, half_width = _panels(delta, -c, refine)
    x = (one_plus - one_minus) / 2
    weights = (half_width[:, None] * _WEIGHTS).ravel()
    exponent = delta * (x * x + 2 * c * x)
    shift = exponent.max()
    rho = np.exp(exponent - shift)
    inverse_diffusion_rho = 2 * delta / (one_plus * one_minus) * np.exp(shift - exponent)  # 1 / (D ρ)

    def cumulative(f):
        """∫₋₁ˣ f at every node."""
        f = f.reshape(-1, PANEL_ORDER)
        inside = (f @ _INTEGRATE.T) * half_width[:, None]
        before = np.concatenate([[0.0], np.cumsum((f @ _WEIGHTS) * half_width)[:-1]])
        return (inside + before[:, None]).ravel()

    z = weights @ rho
    moments, g, scale = [1.0], np.ones_like(x), None
    roots = []
    for order in range(1, MAX_ORDER + 1):
        g = cumulative(cumulative(rho * g) * inverse_diffusion_rho)
        if scale is None:  # λ in units of the first-order estimate keeps every moment of order 1
            scale = z / (weights @ (rho * g))
        g *= scale
        moments.append((weights @ (rho * g)) / z)
        roots.append(_smallest_root(moments))
        if order >= 2 and abs(roots[-1] - roots[-2]) <= SERIES_RTOL * roots[-1]:
            break
    rate = roots[-1] * scale
    rtol = abs(roots[-1] - roots[-2]) / roots[-1] if len(roots) > 1 else 1.0
    lower, upper = (weights[x < 0] @ rho[x < 0]) / z, (weights[x >= 0] @ rho[x >= 0]) / z
    below = x < -c  # the lower well's basin ends at the barrier top, not at the equator
    lower_basin, upper_basin = (weights[below] @ rho[below]) / z, (weights[~below] @ rho[~below]) / z
    return SlowMode(rate=rate, escape_rate=rate * lower_basin, return_rate=rate * upper_basin,
                    lower_equilibrium=lower, upper_equilibrium=upper, settle_rate=_settle_rate(delta, c),
                    rate_rtol=rtol)


def equilibrium_hemispheres(delta, drive, field=0.0):
    """(lower, upper): the stationary probabilities of x < 0 and x > 0 under the drive, each its own integral.

    ρ ∝ exp(Δ(x² + 2(h − i)x)) on [−1, 1], any drive (one or two wells); relative accuracy ~1e-14 even when one
    side holds e^(−4Δ|i − h|) of the probability.
    """
    return _equilibrium_hemispheres(check_delta(delta), float(drive), check_field(field))


@lru_cache(maxsize=4096)
def _equilibrium_hemispheres(delta, drive, field):
    c = field - drive
    one_plus, one_minus, half_width = _panels(delta, -c)
    x = (one_plus - one_minus) / 2
    weights = (half_width[:, None] * _WEIGHTS).ravel()
    exponent = delta * (x * x + 2 * c * x)
    rho = weights * np.exp(exponent - exponent.max())
    z = rho.sum()
    return float(rho[x < 0].sum() / z), float(rho[x >= 0].sum() / z)


def _smallest_root(moments):
    """Root near 1 of Σₖ (−y)ᵏ μₖ (μ₀ = μ₁ = 1), by Newton from y = 1."""
    coefficients = np.array(moments) * (-1.0) ** np.arange(len(moments))
    derivative = coefficients[1:] * np.arange(1, len(moments))
    y = 1.0
    for _ in range(100):
        step = np.polynomial.polynomial.polyval(y, coefficients) / np.polynomial.polynomial.polyval(y, derivative)
        y -= step
        if abs(step) <= 1e-16 * y:
            break
    return y


def _panels(delta, barrier_top, refine=1):
    """Node coordinates as (1 + x, 1 − x), each accurate near its pole, and the half widths of the panels.

    Edges: 40 geometric steps from 1e-12 to 0.05 next to each pole (the density peaks there with width ~1/(2Δ), and
    1/D diverges), 38 uniform panels in between, 24 panels across ±6 widths of the barrier peak of 1/ρ, and x = 0;
    `refine` multiplies each count.
    """
    near_pole = np.concatenate([[0.0], np.geomspace(1e-12, 0.05, 40 * refine)])
    width = 1 / np.sqrt(2 * delta)
    inner = np.concatenate([np.linspace(-0.95, 0.95, 38 * refine + 1),
                            barrier_top + width * np.linspace(-6, 6, 24 * refine + 1), [0.0]])
    inner = np.unique(inner[(inner > -0.95) & (inner < 0.95)])
    edge_plus = np.concatenate([near_pole, 1 + inner, (2 - near_pole)[::-1]])  # 1 + x at the edges
    edge_minus = np.concatenate([2 - near_pole, 1 - inner, near_pole[::-1]])  # 1 − x at the edges
    left = edge_plus[:-1] < 1  # each panel's width from the coordinate that is exact near its pole
    half_width = np.where(left, np.diff(edge_plus) / 2, -np.diff(edge_minus) / 2)
    one_plus = edge_plus[:-1, None] + half_width[:, None] * (_NODES + 1)
    one_minus = edge_minus[1:, None] + half_width[:, None] * (1 - _NODES)
    return one_plus.ravel(), one_minus.ravel(), half_width


@lru_cache(maxsize=64)
def _symmetric_quadrature(n):
    """Normalized Legendre values and derivatives at 2n + 24 Gauss points, for `_settle_rate`."""
    x, w = _legendre.leggauss(2 * n + 24)
    p = _legendre.legvander(x, n).T  # (n+1, points)
    k = np.arange(1, n + 1)[:, None]
    dp = np.zeros_like(p)  # (1 − x²) Pₖ' = k (Pₖ₋₁ − x Pₖ)
    dp[1:] = k * (p[:-1] - x * p[1:]) / (1 - x * x)
    norm = np.sqrt((2 * np.arange(n + 1) + 1) / 2)[:, None]
    return x, w, p * norm, dp * norm


def _settle_rate(delta, c):
    """λ₂: the second nonzero eigenvalue of the symmetrized operator −∂ D ∂ + V (V = D Φ'²/4 − (D Φ')'/2).

    ρ^(−1/2) L ρ^(1/2) is symmetric, so its eigenvalues come with an absolute error ~1e-12: useless for λ₁ when
    the barrier is high, accurate for λ₂ ~ 0.1-1. Φ = −Δ(x² + 2cx) makes V a polynomial of degree 4, so the Galerkin
    matrix in normalized Legendre polynomials is exact under Gauss quadrature and has 4 bands on each side.
    """
    n = int(min(240, 40 + 12 * np.sqrt(delta * (1 + abs(c)))))
    x, w, p, dp = _symmetric_quadrature(n)
    diffusion = (1 - x * x) / (2 * delta)
    potential = 0.5 * delta * (1 - x * x) * (x + c) ** 2 + 0.5 * (1 - 3 * x * x - 2 * c * x)
    h = (dp * (diffusion * w)) @ dp.T + (p * (potential * w)) @ p.T
    bands = np.zeros((5, n + 1))  # lower-band storage for eig_banded
    for offset in range(5):
        bands[offset, :n + 1 - offset] = np.diagonal(h, -offset)
    return float(scipy.linalg.eigvals_banded(bands, lower=True, select="i", select_range=(0, 2))[2])
