"""Retention and read disturb from the full Fokker-Planck solution (not only the closed forms).

Retention: a stored bit sits in the upper well with no current; after a time t the probability that it is found in
the other hemisphere is the switching probability of a zero-drive "pulse" of width t. Read disturb: each read pushes a
current through the cell, a weak write at drive i_read (positive toward the other state, negative toward the stored
one); one read of width τ flips the bit with probability P₁ = switching probability(i_read, τ), and n reads, each
starting from the stored state at rest (reads far apart compared with τ_D), with 1 − (1 − P₁)ⁿ.

Both come from `mtj.wer.switching_probability`, which for long times follows the slow mode exactly
(`mtj.propagation`, `mtj.activation`): ten years at τ_D = 1 ns is 3.2e17 τ_D, and the answer keeps the accuracy it
had when the wells settled (~1e-11 absolute at Δ = 40-80). Values below a point's floor are refused as everywhere in
`mtj`; a tiny per-read probability times many reads then needs `mtj.closed_forms.read_disturb_probability`, whose
regime (a high barrier) is exactly where that happens.
"""
import numpy as np
from scipy.optimize import brentq

from .activation import slow_mode
from .params import MTJParams, check_delta, check_field, check_probability, check_pulse
from .wer import switching_probability, switching_probability_estimate

SECONDS_PER_YEAR = 365.25 * 24 * 3600


def retention_failure(time, delta=40.0, field=0.0, *, below_resolution="raise"):
    """Probability that a bit stored in the upper well is found in the lower hemisphere after `time` (τ_D, any shape).

    field: h = H/H_k, positive destabilizes the stored state (a stray field). below_resolution: as `write_error_rate`.
    """
    return switching_probability(0.0, time, delta, field, below_resolution=below_resolution)


def retention_failure_years(years, params=MTJParams(), *, below_resolution="raise"):
    """`retention_failure` after a time in years, for a cell's parameters (Δ, τ_D in ns, field)."""
    years = check_pulse(years)
    return retention_failure(params.pulse(years * SECONDS_PER_YEAR * 1e9), params.delta, params.field,
                             below_resolution=below_resolution)


def retention_time(target_failure, delta=40.0, field=0.0):
    """The time (τ_D) after which the stored bit has flipped with probability `target_failure` (scalar).

    Raises ValueError if the target is at or above the equilibrium probability of the other hemisphere (never
    reached) or not resolved (below the floor at the time it would be reached).
    """
    target = float(check_probability("target_failure", target_failure, open_interval=True))
    delta, field = check_delta(delta), check_field(field)
    limit = slow_mode(delta, 0.0, field).lower_equilibrium if abs(field) < 1 else 0.0
    if target >= limit:
        raise ValueError(f"target_failure {target:g} is never reached: at equilibrium the other hemisphere holds "
                         f"{limit:.3g}")

    def excess(log_time):
        value, error = (float(x) for x in switching_probability_estimate(0.0, np.exp(log_time), delta, field))
        if value < 10 * error and 10 * error >= target:
            raise ValueError(f"target_failure {target:g} is below what double precision resolves near time "
                             f"{np.exp(log_time):.3g} tau_D (error {error:.1g})")
        return np.log(max(value, 1e-300)) - np.log(target)

    low, high = np.log(1e-3), np.log(1.0)
    while excess(high) < 0:
        low, high = high, high + np.log(1e3)
        if high > np.log(1e300):
            raise ValueError(f"target_failure {target:g} is not reached within 1e300 tau_D")
    if excess(low) >= 0:
        raise ValueError(f"target_failure {target:g} is already reached at 1e-3 tau_D")
    return float(np.exp(brentq(excess, low, high, xtol=1e-12)))


def read_disturb(read_drive, read_pulse, delta=40.0, field=0.0, n_reads=1, *, below_resolution="raise"):
    """Probability that n_reads reads of drive i_read (V/V_c) and width τ (τ_D) flip the stored bit; broadcasts.

    One read flips it with the full solution's switching probability P₁; reads are independent (each starts from the
    stored state at rest): 1 − (1 − P₁)ⁿ, computed as −expm1(n log1p(−P₁)) so that n P₁ << 1 keeps its digits.
    """
    if int(n_reads) != n_reads or n_reads < 1:
        raise ValueError(f"n_reads must be a positive integer, got {n_reads!r}")
    one = switching_probability(read_drive, read_pulse, delta, field, below_resolution=below_resolution)
    with np.errstate(divide="ignore"):  # P₁ = 1 gives log1p(−1) = −inf and the right answer, 1
        return -np.expm1(float(n_reads) * np.log1p(-one))
