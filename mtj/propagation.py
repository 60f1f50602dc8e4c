"""Hemisphere probabilities after a constant pulse, each with an estimate of its numerical error.

The Legendre coefficients evolve as r(τ) = exp(Aτ) r(0) (`mtj.legendre`); the probability of a hemisphere is a
weighted sum 2π w·r(τ). Three things limit what double precision delivers, and each point gets an error estimate
(absolute, in probability) built from them:

1. The stationary state. A has the eigenvalue 0 (r₀ = 1/4π is conserved). Propagating r(0) directly, the computed
   propagator's stationary vector is off by rounding amplified by A's non-normality, and every long pulse inherits
   that offset: 1e-14 to 2.5e-13 at Δ = 40 (against the 80-bit twin `mtj.extended`). So wherever the
   stationary state is well defined (no barrier, or a low one) the solver propagates the *deviation*:
   r(τ) = r_eq + exp(Aτ) (r(0) − r_eq), with r_eq the null vector of A (r_eq[0] = 1/4π exactly, the rest from a
   linear solve). The deviation has no component along the stationary mode, so it decays to exactly nothing and
   the long-pulse value is 2π w·r_eq. What the truncation at N terms does to that value is measured directly:
   `equilibrium_error` = |2π w·r_eq − the same probability by quadrature of exp(Δ(x² + 2(h − i)x))|.
2. Rounding while the deviation is large. Against the 80-bit twin (`benchmarks/mtj.py --resolution`, results in
   benchmarks/results/mtj_resolution.json: Δ = 20-80, drives −0.5 to 6, pulses 0.05-500 τ_D, both hemispheres,
   1758 points) the error of a point is at most 107·eps·‖d(τ)‖₁ (d the propagated deviation) while the bit switches,
   and at most 1.8·eps·Σ|2π wₙ r_eq,n| (the solve for r_eq and the stationary sum) once it is over. The estimate
   multiplies by DEVIATION_ROUNDING = 400 and STATIONARY_ROUNDING = 10 instead; where r itself is propagated (high
   barrier, below) the first term is PLAIN_ROUNDING·eps·‖r(τ)‖₁ (measured up to 1.5 at τ < 0.1). The whole
   estimate exceeds the measured error at every point, by 3.5× at the closest (error/estimate <= 0.29).
3. A slow mode. Below the critical drive the two wells exchange probability at the rate λ₁ (`mtj.activation`),
   which can be 1e-17 per τ_D. The computed propagator carries that eigenvalue with an absolute error ~eps·‖A‖₁,
   and the probability drifts by up to ~eps·‖A‖₁ per τ_D (measured at most 1.25 of that for τ >= 1). The estimate
   adds SLOW_MODE_ROUNDING·eps·‖A‖₁·min(τ, 1/λ₁). When the barrier is high (Δ(1 − |i − h|)² >= CONTINUATION_BARRIER)
   the solver propagates r(0) itself only until the wells have settled, τ_s = SETTLE_E_FOLDS/λ₂ (λ₂ the intra-well
   rate), and continues exactly with the slow mode: P(τ) = P(τ_s) + (P_eq − P(τ_s))(1 − exp(−λ₁(τ − τ_s))), with λ₁
   and P_eq from `mtj.activation` (relative accuracy ~1e-13). That reaches retention times (1e17 τ_D) with the
   error of τ_s, which is what makes `mtj.retention` possible.

exp(Aτ) for many pulses: δ = 2/‖A‖₁, τ = kδ + ρ with 0 <= ρ < δ; exp(Aρ) by its Taylor series (‖Aρ‖ < 2, 28
terms, whose vectors (Aδ)ᵐ r/m! all pulses share), exp(Akδ) as the product of the powers exp(A 2ʲ δ) for the bits
j of k, each the square of the one before (a scaling and squaring shared by all pulses, compared with
`scipy.linalg.expm` in the tests).
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.linalg

from .activation import barrier_height, equilibrium_hemispheres, slow_mode
from .legendre import initial_coefficients, operator, upper_hemisphere_weights

EPS = np.finfo(float).eps
DEVIATION_ROUNDING = 400.0  # × eps·‖d(τ)‖₁; largest measured ratio 107 (module doc)
PLAIN_ROUNDING = 40.0  # × eps·‖r(τ)‖₁ where r itself is propagated (high barrier); largest measured ratio 1.5
STATIONARY_ROUNDING = 10.0  # × eps·Σ|2π wₙ r_eq,n|; largest measured ratio 1.8
SLOW_MODE_ROUNDING = 4.0  # × eps·‖A‖₁ per τ_D; largest measured ratio 1.25
RESULT_ROUNDING = 8.0  # × eps·|value|: a probability near 1 is itself only known to a few ulps
CONTINUATION_BARRIER = 8.0  # Δ(1 − |i − h|)² from which the slow-mode continuation is used
SETTLE_E_FOLDS = 40.0  # the intra-well transients have decayed by e^−40 at τ_s
QUADRATURE_RTOL = 1e-12  # relative error allowed for the quadrature rates and equilibria (tests measure < 1e-13)
STEP_NORM = 2.0  # ‖Aδ‖₁ of the ladder's base step: within the [9/9] Padé's range (2.1), one level fewer than 1
TAYLOR_TERMS = 28  # ‖Aρ‖₁ < 2: the first omitted term is below 2²⁹/29! ~ 6e-23
DEAD_DEVIATION = 1e-20  # ‖exp(A 2ʲ δ) restricted to deviations‖₁ below which the rest of a deviation is dropped
INITIAL_ORDER_STEP = 64  # r(0) is expanded to multiples of this order and sliced (`_initial`)
LONGEST_COUNT = 2.0**52  # pulses beyond 2^52 δ (~1e13 τ_D) are past any relaxation: the stationary value


@dataclass(frozen=True)
class Problem:
    """Everything that depends on (Δ, i, h, N) but not on the pulse; arrays read-only."""

    a: np.ndarray  # (N+1, N+1) Fokker-Planck matrix, per τ_D
    bands: tuple  # its five diagonals (offset, values) for the Taylor steps
    norm: float  # ‖A‖₁
    r0: np.ndarray  # (N+1,) initial state
    weights: np.ndarray  # (N+1,) 2π wₙ of the requested hemisphere
    continuation: bool  # high barrier: propagate r(0) to τ_s, then the slow mode
    r_eq: np.ndarray  # (N+1,) stationary coefficients (deviation form), None for continuation
    stationary: float  # 2π w·r_eq, None for continuation
    stationary_scale: float  # Σ|2π wₙ r_eq,n|
    equilibrium: float  # the stationary probability of the hemisphere by quadrature
    equilibrium_error: float  # |stationary − equilibrium| (truncation), 0 for continuation
    slow_rate: float  # λ₁ when there is a barrier, else None
    slow_rate_rtol: float
    settle_time: float  # τ_s for continuation, else None


def hemisphere_probability(delta, drive, field, pulse, n_terms, upper):
    """(probability, rounding error, truncation error) of the upper (or lower) hemisphere after each pulse.

    pulse: 1-D array (τ_D). The errors are absolute estimates, arrays like the probability; their sum bounds the
    numerical error (module doc). The truncation part is that of the stationary state, the one a convergence test
    cannot see at short pulses.
    """
    problem = _problem(float(delta), float(drive), float(field), int(n_terms), bool(upper))
    return _continued(problem, pulse) if problem.continuation else _deviation(problem, pulse)


def _deviation(p, pulse):
    r, error = propagate_from(p, p.r0, pulse)
    value = p.stationary + p.weights @ (r - p.r_eq[:, None])
    return value, error, np.full_like(value, p.equilibrium_error)


def propagate_from(p, start, pulse):
    """Coefficients r(τ) (N+1, M) after each pulse from the vector `start`, and the rounding estimate (M,) of the
    problem's hemisphere probability. Deviation form where the problem has a stationary state, else plain."""
    if p.continuation:
        r = propagate(p.a, start, pulse, p.bands)
        error = EPS * (PLAIN_ROUNDING * np.abs(r).sum(axis=0) + SLOW_MODE_ROUNDING * p.norm * pulse
                       + RESULT_ROUNDING * np.abs(p.weights @ r))
        return r, error
    d0 = start - p.r_eq
    d0[0] = 0.0  # both carry exactly 1/4π: the deviation has no stationary component
    d = propagate(p.a, d0, np.minimum(pulse, LONGEST_COUNT / p.norm), p.bands, deviation=True)
    return p.r_eq[:, None] + d, _deviation_error(p, d, pulse)


def apply_piece(p, r, duration, probe):
    """Propagate the columns of r (N+1, M) by one constant piece of `duration` (τ_D, scalar).

    probe (N+1, M): the rounding carried so far, as a vector (`chain_error` reads it). It is propagated with the
    piece, and this piece's rounding is added to it: the terms of `propagate_from` as vectors with the signs of the
    hemisphere weights (so that each adds its full size to the probability at the time it is made), then carried by
    the later pieces, so rounding made early decays as the state does. Returns (r, probe).
    """
    power = scipy.linalg.expm(p.a * duration)
    probe = power @ probe
    durations = np.full(r.shape[1], float(duration))
    if p.continuation:
        out = power @ r
        return out, probe + _injection(p, out, PLAIN_ROUNDING, SLOW_MODE_ROUNDING * EPS * p.norm * durations)
    d = r - p.r_eq[:, None]
    d[0] = 0.0
    d = power @ d
    return p.r_eq[:, None] + d, probe + _injection(p, d, DEVIATION_ROUNDING, _slow_drift(p, durations))


def propagate_piece(p, start, probe, pulse):
    """`apply_piece` for one start column and probe (N+1,) and many durations `pulse` (M,): (r, probe)."""
    if p.continuation:
        both = propagate(p.a, np.stack([start, probe], axis=1), pulse, p.bands)
        r = both[:, 0]
        return r, both[:, 1] + _injection(p, r, PLAIN_ROUNDING, SLOW_MODE_ROUNDING * EPS * p.norm * pulse)
    d0 = start - p.r_eq
    d0[0] = 0.0
    both = propagate(p.a, np.stack([d0, probe], axis=1), np.minimum(pulse, LONGEST_COUNT / p.norm), p.bands)
    d = both[:, 0]
    return p.r_eq[:, None] + d, both[:, 1] + _injection(p, d, DEVIATION_ROUNDING, _slow_drift(p, pulse))


def _deviation_error(p, d, pulse):
    value = p.stationary + p.weights @ d
    return (EPS * (DEVIATION_ROUNDING * np.abs(d).sum(axis=0) + STATIONARY_ROUNDING * p.stationary_scale
                   + RESULT_ROUNDING * np.abs(value)) + _slow_drift(p, pulse))


def chain_error(p, r, probe):
    """Final rounding estimate of a chain of pieces ending with problem p: |w·probe| plus the last sum's rounding."""
    value = p.weights @ r
    return np.abs(p.weights @ probe) + EPS * (STATIONARY_ROUNDING * p.stationary_scale
                                               + RESULT_ROUNDING * np.abs(value))


def _injection(p, d, scale, drift):
    """scale·eps·|d| + the drift (M,) spread over |d|, each entry with the sign of its hemisphere weight."""
    magnitude = np.abs(d)
    weight = np.abs(p.weights) @ magnitude
    spread = np.divide(drift, weight, out=np.zeros_like(weight), where=weight > 0)
    return (scale * EPS + spread) * magnitude * np.sign(p.weights)[:, None]


def _slow_drift(p, pulse):
    if p.slow_rate is None:
        return np.zeros_like(pulse, dtype=float)
    return SLOW_MODE_ROUNDING * EPS * p.norm * np.minimum(pulse, 1.0 / p.slow_rate)


def problem(delta, drive, field, n_terms, upper):
    """The cached `Problem` of (Δ, i, h, N) for the upper (or lower) hemisphere."""
    return _problem(float(delta), float(drive), float(field), int(n_terms), bool(upper))


def initial_vector(delta, field, n_terms):
    """A writable copy of the initial coefficients r(0) (upper-well equilibrium at field h)."""
    return _initial(int(n_terms), float(delta), float(field)).copy()


def _continued(p, pulse):
    settle = p.settle_time
    short = np.minimum(pulse, settle)
    r = propagate(p.a, p.r0, np.append(short, settle), p.bands)
    values = p.weights @ r
    errors = EPS * (PLAIN_ROUNDING * np.abs(r).sum(axis=0) + SLOW_MODE_ROUNDING * p.norm * np.append(short, settle)
                    + RESULT_ROUNDING * np.abs(values))
    value, error = values[:-1], errors[:-1]
    late = pulse > settle
    if late.any():
        start, start_error = values[-1], errors[-1]
        elapsed = pulse[late] - settle
        progress = -np.expm1(-p.slow_rate * elapsed)  # 1 − e^(−λ₁ t), accurate for small λ₁ t
        gap = p.equilibrium - start
        value[late] = start + gap * progress
        rate_error = abs(gap) * p.slow_rate * elapsed * np.exp(-p.slow_rate * elapsed) * (
            p.slow_rate_rtol + QUADRATURE_RTOL)
        error[late] = start_error + rate_error + QUADRATURE_RTOL * p.equilibrium * progress
    return value, error, np.zeros_like(value)


def propagate(a, r0, pulse, bands=None, deviation=False):
    """r(τ) = exp(Aτ) r0 for every pulse τ (1-D array): shape (N+1, M), or (N+1, K, M) for K start columns r0.

    δ = STEP_NORM/‖A‖₁, τ = kδ + ρ: exp(Aρ) r0 = Σₘ (ρ/δ)ᵐ (Aδ)ᵐ r0 / m! from the vectors (Aδ)ᵐ r0 / m!, shared by
    all pulses (‖Aρ‖₁ < 2: the terms peak at 2 and then fall faster than 2ᵐ/m!, so the sum loses at most ~e² ulps);
    exp(Akδ) by the powers exp(A 2ʲ δ) for the bits of k. bands: A's diagonals as from `_bands` (computed here if
    not given).
    deviation=True: every start column has r0[0] = 0 (a deviation from the stationary state, which A maps to
    deviations). Once a power exp(A 2ʲ δ) shrinks every deviation by more than DEAD_DEVIATION, the columns still
    waiting for higher powers are set to 0 and no further powers are computed.
    """
    pulse = np.asarray(pulse, dtype=float)
    start = np.asarray(r0, dtype=float)
    columns = start.reshape(start.shape[0], -1)  # (N+1, K)
    bands = _bands(a) if bands is None else bands
    norm = np.abs(a).sum(axis=0).max() / STEP_NORM
    step = 1.0 / norm
    count = np.floor(pulse * norm)
    if count.max(initial=0) >= LONGEST_COUNT:
        raise ValueError(f"pulse {pulse.max():g} is beyond the propagator's range {LONGEST_COUNT * step:g} tau_D")
    fraction = np.clip(pulse * norm - count, 0.0, 1.0)  # ρ/δ
    taylor = np.empty((TAYLOR_TERMS + 1,) + columns.shape)
    taylor[0] = columns
    for m in range(1, TAYLOR_TERMS + 1):
        taylor[m] = _banded_product(bands, taylor[m - 1]) * (step / m)
    powers = fraction[None, :] ** np.arange(TAYLOR_TERMS + 1)[:, None]  # (terms, M)
    r = np.einsum("tnk,tm->nkm", taylor, powers).reshape(columns.shape[0], -1)  # column k·M + m
    count = np.tile(count.astype(np.int64), columns.shape[1])
    if deviation and np.any(columns[0] != 0):
        raise ValueError("deviation=True needs start columns with a zero first coefficient")
    if count.any():
        power = _exp_of_step(a, step)
        while True:
            if deviation and np.abs(power[:, 1:]).sum(axis=0).max() < DEAD_DEVIATION:
                r[:, count > 0] = 0.0  # what is left of these deviations is below DEAD_DEVIATION of them
                break
            odd = (count & 1).astype(bool)
            if odd.any():
                r[:, odd] = power @ r[:, odd]
            count >>= 1
            if not count.any():
                break
            power = power @ power
    return r.reshape(start.shape + (pulse.size,))


_PADE9 = (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0, 110880.0, 3960.0, 90.0, 1.0)


def _exp_of_step(a, step):
    """exp(Aδ) for ‖Aδ‖₁ = STEP_NORM by the [9/9] Padé approximant, the one `scipy.linalg.expm` picks at this norm.

    Its backward error is below eps for ‖X‖₁ <= 2.1 (Higham 2005), so no scaling is needed. Written with NumPy's
    matmul and solve, which release the GIL throughout: the drives' threads run in parallel, which they do not
    inside scipy's expm.
    """
    x = a * step
    b = _PADE9
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    x8 = x6 @ x2
    identity = np.eye(x.shape[0])
    u = x @ (b[9] * x8 + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * identity)
    v = b[8] * x8 + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * identity
    return np.linalg.solve(v - u, v + u)


def _bands(a):
    """The nonzero diagonals of the pentadiagonal A as ((offset, values), ...), offset = column − row."""
    return tuple((k, np.diagonal(a, k).copy()) for k in range(-2, 3))


def _banded_product(bands, x):
    """A @ x for pentadiagonal A given by `_bands`, x of shape (N+1, M)."""
    out = np.zeros_like(x)
    for k, values in bands:
        if k >= 0:
            out[:x.shape[0] - k] += values[:, None] * x[k:]
        else:
            out[-k:] += values[:, None] * x[:x.shape[0] + k]
    return out


@lru_cache(maxsize=1024)
def _problem(delta, drive, field, n, upper):
    a = operator(n, delta, drive, field)
    norm = float(np.abs(a).sum(axis=0).max())
    r0 = _initial(n, delta, field)
    weights = _weights(n, upper)
    barrier = float(barrier_height(delta, drive, field))
    mode = slow_mode(delta, drive, field) if barrier > 0 else None
    lower, upper_eq = equilibrium_hemispheres(delta, drive, field)
    equilibrium = upper_eq if upper else lower
    common = dict(a=a, bands=_bands(a), norm=norm, r0=r0, weights=weights, equilibrium=equilibrium,
                  slow_rate=None if mode is None else mode.rate,
                  slow_rate_rtol=0.0 if mode is None else mode.rate_rtol)
    if barrier >= CONTINUATION_BARRIER:
        return Problem(continuation=True, r_eq=None, stationary=None, stationary_scale=0.0, equilibrium_error=0.0,
                       settle_time=SETTLE_E_FOLDS / mode.settle_rate, **common)
    r_eq = np.empty(n + 1)
    r_eq[0] = r0[0]
    r_eq[1:] = np.linalg.solve(a[1:, 1:], -a[1:, 0] * r0[0])
    stationary = float(weights @ r_eq)
    for array in (a, r_eq):
        array.setflags(write=False)
    return Problem(continuation=False, r_eq=r_eq, stationary=stationary,
                   stationary_scale=float(np.abs(weights * r_eq).sum()),
                   equilibrium_error=abs(stationary - equilibrium), settle_time=None, **common)


def _initial(n, delta, field):
    """r(0) to order n: the leading coefficients of one expansion per (Δ, h) to the next multiple of
    INITIAL_ORDER_STEP. A coefficient does not depend on where the series is cut, only its quadrature rounding
    does (~1e-11 at Δ = 40 for any node count, tested against the 80-bit twin). A map's drives need ~30 orders at
    one (Δ, h); an expansion per order would be ~10 % of the map's time."""
    return _initial_expansion(-(-n // INITIAL_ORDER_STEP) * INITIAL_ORDER_STEP, delta, field)[:n + 1]


@lru_cache(maxsize=64)
def _initial_expansion(n, delta, field):
    r0 = initial_coefficients(n, delta, field)
    r0.setflags(write=False)
    return r0


@lru_cache(maxsize=64)
def _weights(n, upper):
    """2π sₙ for the upper hemisphere; the lower one is (−1)ⁿ sₙ by the parity of Pₙ."""
    weights = 2 * np.pi * upper_hemisphere_weights(n)
    if not upper:
        weights[1::2] *= -1
    weights.setflags(write=False)
    return weights


def clear_caches():
    """Forget every cached problem (for benchmarks that time a cold start)."""
    for cached in (_problem, _initial_expansion, _weights):
        cached.cache_clear()
