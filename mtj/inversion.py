"""Inverting the write error rate: the drive a target WER needs at a given pulse, and the pulse at a given drive.

Both solve log WER = log target with Brent's method on a bracket found by expanding outward. WER falls monotonically
in both drive and pulse, and log WER is smooth, so the root is unique and Brent converges in ~10 evaluations.
An unreachable target raises ValueError saying why, naming the value and the limit.
"""
import numpy as np
from scipy.optimize import brentq

from .activation import equilibrium_hemispheres
from .params import check_delta, check_drive, check_field, check_probability
from .wer import RELATIVE_RESOLUTION, ResolutionError, write_error_rate_estimate

MAX_DRIVE = 20.0  # V_c units: far past any junction's breakdown (and N grows like √drive)
MAX_PULSE = 1e30  # τ_D units: ~3e13 years at τ_D = 1 ns
SMALLEST_TARGET_WER = 1e-14  # the solver's floor is >= ~1e-14 everywhere (mtj.wer)


def drive_for_wer(target_wer, pulse, delta=40.0, field=0.0):
    """Drive i = V/V_c at which a pulse of width τ = pulse gives WER = target (scalar in, float out)."""
    target, delta, field = _check_target(target_wer), check_delta(delta), check_field(field)
    pulse = float(pulse)
    if not (np.isfinite(pulse) and pulse > 0):
        raise ValueError(f"pulse must be a positive finite width in units of tau_D, got {pulse!r}")

    def excess(drive):
        return _log_wer(drive, pulse, delta, field, target) - np.log(target)

    low = field  # below i = h the pulse pushes toward the initial state: the WER cannot be lower than here
    if excess(low) <= 0:
        raise ValueError(f"target WER {target:g} is reached without any drive at pulse {pulse:g} (WER there is "
                         f"{np.exp(_log_wer(low, pulse, delta, field, target)):.3g}); ask for a lower target")
    high = low + 2.0
    while excess(high) > 0:
        if high >= MAX_DRIVE:
            raise ValueError(f"target WER {target:g} is not reached at pulse {pulse:g} below drive {MAX_DRIVE:g}")
        low, high = high, min(2 * high, MAX_DRIVE)
    drive = brentq(excess, low, high, xtol=1e-12)
    _check_root(target, drive, pulse, delta, field)
    return drive


def pulse_for_wer(target_wer, drive, delta=40.0, field=0.0):
    """Pulse τ = t/τ_D at which the drive i gives WER = target (scalar in, float out).

    The WER decays toward the equilibrium probability of the upper hemisphere under the drive, `long_pulse_wer`;
    a target at or below that limit is unreachable at any pulse width and raises ValueError.
    """
    target, delta, field = _check_target(target_wer), check_delta(delta), check_field(field)
    drive = float(check_drive(drive))
    limit = long_pulse_wer(drive, delta, field)
    if target <= limit:
        raise ValueError(f"target WER {target:g} is unreachable at drive {drive:g}: even an infinite pulse leaves "
                         f"WER {limit:.3g} (equilibrium under the drive); raise the drive")

    def excess(log_pulse):
        return _log_wer(drive, np.exp(log_pulse), delta, field, target) - np.log(target)

    low, high = np.log(1e-3), np.log(1.0)
    if excess(low) <= 0:
        raise ValueError(f"target WER {target:g} is already reached at pulse 1e-3 with drive {drive:g}")
    while excess(high) > 0:
        low, high = high, high + np.log(16.0)
        if high > np.log(MAX_PULSE):
            raise ValueError(f"target WER {target:g} is not reached at drive {drive:g} within pulse {MAX_PULSE:g}")
    pulse = float(np.exp(brentq(excess, low, high, xtol=1e-12)))  # relative 1e-12 in the pulse
    _check_root(target, drive, pulse, delta, field)
    return pulse


def long_pulse_wer(drive, delta=40.0, field=0.0):
    """Upper-hemisphere probability of the equilibrium ρ ∝ exp(Δ(x² + 2(h − i)x)), the WER of an endless pulse."""
    delta, field, drive = check_delta(delta), check_field(field), float(check_drive(drive))
    return equilibrium_hemispheres(delta, drive, field)[1]


def _log_wer(drive, pulse, delta, field, target):
    """log WER; an unresolved value (below its floor) counts as floor/10 when that floor is under the target.

    That keeps the sign of log WER − log target right for Brent's method. If the floor is not under the target, the
    sign is unknown and the target cannot be resolved there: ResolutionError.
    """
    value, error = (float(x) for x in write_error_rate_estimate(drive, pulse, delta, field))
    floor = error / RELATIVE_RESOLUTION
    if value >= floor:
        return float(np.log(value))
    if floor >= target:
        raise ResolutionError(f"target WER {target:g} is below what double precision resolves at drive {drive:g}, "
                              f"pulse {pulse:g} (floor {floor:.2g}); ask for a higher target")
    return float(np.log(floor / 10))


def _check_root(target, drive, pulse, delta, field):
    """A root next to unresolved points may be the edge of the unresolved region, not the target: verify it."""
    value, error = (float(x) for x in write_error_rate_estimate(drive, pulse, delta, field))
    if not abs(value - target) <= 1e-6 * target + error:
        raise ResolutionError(f"target WER {target:g} is not resolved near drive {drive:g}, pulse {pulse:g} "
                              f"(WER there {value:.3g} +- {error:.1g})")


def _check_target(target_wer):
    target = float(check_probability("target_wer", target_wer, open_interval=True))
    if target < SMALLEST_TARGET_WER:
        raise ValueError(f"target_wer {target:g} is below {SMALLEST_TARGET_WER:g}, under anything the "
                         "Fokker-Planck solution resolves in double precision")
    return target
