"""Pulses that change in time: piecewise-constant drives, and trapezoids with rise and fall times.

A piecewise-constant pulse of levels i₁..i_K (V/V_c) held for τ₁..τ_K (τ_D) evolves the Legendre coefficients
piece by piece, r ← exp(A(i_k) τ_k) r (the Legendre propagator per piece, Tzoufras eq. 11 applied K times); the WER
is read after the last piece, as for a square pulse. Where a level has a stationary state (no barrier or a low one,
`mtj.propagation`) a piece propagates the deviation from it, r ← r_eq + exp(Aτ)(r − r_eq), so long pieces do not
inherit the stationary-state rounding offset. All pieces share one truncation order N, that of the strongest level.

A trapezoid (linear rise over t_r, plateau t_p at amplitude I, linear fall over t_f) is the staircase of `steps`
pieces per ramp, each held at the ramp's value at its midpoint: the exponential midpoint rule, whose error falls as
1/steps² (tests/mtj/test_pulses.py checks it against twice the steps). rise = fall = 0 is the square pulse of width
t_p, and a staircase of one level is the constant pulse, both to rounding.

Error estimates: each piece's rounding (the terms of `mtj.propagation`) is injected into a probe vector with the
signs of the hemisphere weights and carried through the later pieces, so rounding made early decays as the state
does (`propagation.apply_piece`); then the last sum's rounding and the last level's stationary truncation
estimate are added.
"""
import numpy as np

from . import propagation
from .legendre import n_terms_for
from .params import check_delta, check_drive, check_field, check_pulse
from .wer import Estimate, ResolutionError

RAMP_STEPS = 32  # default pieces per ramp: ~5e-4 relative error at 1 τ_D ramps (tests/mtj/test_pulses.py)


def piecewise_wer(levels, durations, delta=40.0, field=0.0, *, n_terms=None, below_resolution="raise"):
    """WER after a piecewise-constant pulse: drive levels[k] (V/V_c) for durations[k] (τ_D), k = 0..K−1. Scalar out."""
    return float(_resolve(piecewise_estimate(levels, durations, delta, field, n_terms=n_terms), below_resolution,
                          "WER after the piecewise pulse"))


def piecewise_estimate(levels, durations, delta=40.0, field=0.0, *, n_terms=None, upper=True):
    """`Estimate` (value, error) of the WER (upper=True) or switching probability after a piecewise pulse."""
    levels, durations = np.atleast_1d(check_drive(levels)), np.atleast_1d(check_pulse(durations))
    if levels.ndim != 1 or levels.shape != durations.shape or levels.size == 0:
        raise ValueError(f"levels and durations must be 1-D of one length >= 1, got shapes {levels.shape} and "
                         f"{durations.shape}")
    delta, field = check_delta(delta), check_field(field)
    n = _order(delta, levels, field, n_terms)
    r = propagation.initial_vector(delta, field, n)[:, None]
    r, probe = _chain(delta, field, n, levels, durations, r, np.zeros_like(r), upper)
    value, error = _observe(delta, levels[-1], field, n, r, probe, upper)
    return Estimate(np.float64(value[0]), np.float64(error[0]))


def trapezoid_wer(amplitude, plateau, rise, fall=None, delta=40.0, field=0.0, *, steps=RAMP_STEPS, n_terms=None,
                  below_resolution="raise"):
    """WER after a trapezoid pulse: a linear rise over `rise`, `plateau` at `amplitude`, a linear fall over `fall`.

    amplitude (V/V_c) and plateau (τ_D) broadcast together; rise and fall (τ_D, scalars; fall defaults to rise) are
    the 0-100 % ramp times; steps: pieces per ramp. Total width rise + plateau + fall. Returns an array of the
    broadcast shape; below_resolution as in `mtj.wer.write_error_rate`.
    """
    estimate = trapezoid_estimate(amplitude, plateau, rise, fall, delta, field, steps=steps, n_terms=n_terms)
    return _resolve(estimate, below_resolution, "WER after the trapezoid pulse")


def trapezoid_estimate(amplitude, plateau, rise, fall=None, delta=40.0, field=0.0, *, steps=RAMP_STEPS,
                       n_terms=None, upper=True):
    """`Estimate` of `trapezoid_wer` (or of the switching probability with upper=False)."""
    delta, field = check_delta(delta), check_field(field)
    amplitude, plateau = np.broadcast_arrays(check_drive(amplitude), check_pulse(plateau))
    rise = float(check_pulse(rise))
    fall = rise if fall is None else float(check_pulse(fall))
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    value, error = np.empty(amplitude.shape), np.empty(amplitude.shape)
    for level in np.unique(amplitude):
        where = amplitude == level
        v, e = _trapezoid(delta, field, float(level), plateau[where], rise, fall, int(steps), n_terms, upper)
        value[where], error[where] = v, e
    return Estimate(value, error)


def ramp_levels(start, stop, duration, steps):
    """The staircase of a linear ramp from `start` to `stop` over `duration`: (levels, durations), midpoint rule."""
    fractions = (np.arange(steps) + 0.5) / steps
    return start + (stop - start) * fractions, np.full(steps, duration / steps)


def _trapezoid(delta, field, amplitude, plateaus, rise, fall, steps, n_terms, upper):
    up_levels, up_durations = ramp_levels(0.0, amplitude, rise, steps) if rise > 0 else (np.empty(0), np.empty(0))
    down_levels, down_durations = ramp_levels(amplitude, 0.0, fall, steps) if fall > 0 else (np.empty(0),
                                                                                            np.empty(0))
    n = _order(delta, np.array([amplitude, 0.0]), field, n_terms)
    r = propagation.initial_vector(delta, field, n)[:, None]
    r, probe = _chain(delta, field, n, up_levels, up_durations, r, np.zeros_like(r), upper)
    plateau_problem = propagation.problem(delta, amplitude, field, n, upper)
    r, probe = propagation.propagate_piece(plateau_problem, r[:, 0], probe[:, 0], plateaus)
    r, probe = _chain(delta, field, n, down_levels, down_durations, r, probe, upper)
    last = down_levels[-1] if down_levels.size else amplitude
    return _observe(delta, last, field, n, r, probe, upper)


def _chain(delta, field, n, levels, durations, r, probe, upper):
    """Apply the pieces to the columns of r (N+1, M), carrying the rounding probe along."""
    for level, duration in zip(levels, durations):
        problem = propagation.problem(delta, float(level), field, n, upper)
        r, probe = propagation.apply_piece(problem, r, float(duration), probe)
    return r, probe


def _observe(delta, level, field, n, r, probe, upper):
    """(probability, error estimate) of the columns of r under the last level's problem."""
    problem = propagation.problem(delta, float(level), field, n, upper)
    error = propagation.chain_error(problem, r, probe) + problem.equilibrium_error
    return np.minimum(problem.weights @ r, 1.0), error


def _order(delta, levels, field, n_terms):
    if n_terms is not None:
        if int(n_terms) != n_terms or n_terms < 4:
            raise ValueError(f"n_terms must be an integer >= 4, got {n_terms!r}")
        return int(n_terms)
    return max(n_terms_for(delta, float(level), field) for level in levels)


def _resolve(estimate, below_resolution, what):
    if below_resolution not in ("raise", "nan"):
        raise ValueError(f"below_resolution must be 'raise' or 'nan', got {below_resolution!r}")
    value = np.array(estimate.value, dtype=float)
    low = ~np.asarray(estimate.resolved)
    if low.any():
        if below_resolution == "raise":
            at = tuple(np.argwhere(low)[0])
            raise ResolutionError(f"{what} is below {np.asarray(estimate.floor)[at]:.2g}, what double precision "
                                  f"resolves there (computed {value[at]:.2e}); pass below_resolution='nan' to mark "
                                  "such points instead")
        value[low] = np.nan
    return value

