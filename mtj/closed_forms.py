"""Closed-form limits of the switching problem (MTJ.md section 3): cross-checks of the full solution and fast paths.

All take dimensionless drive i = V/V_c, pulse τ = t/τ_D and Δ = E_b/k_BT and broadcast over arrays. Each holds in
its own regime only, and the thermal ones know theirs: outside it they warn (`ValidityWarning`) and return the full
Fokker-Planck value instead, so that no call returns a closed form where it is wrong.

The thermal regime. Below the critical drive the bit leaves its well by thermal activation over the barrier
B = Δ(1 − (i − h))². Brown's high-barrier rate k = √(Δ/π)(1 − p)(1 − p²)e^(−B) (p = i − h) is the leading term of an
expansion in 1/B: against the exact slow rate (`mtj.activation`) it is 1.3 % high at B = 80, 2.6 % at B = 40, 11 % at
B = VALID_BARRIER = 10, and for B < 10 it falls apart (at Δ = 40 it peaks near i = 0.8 and falls to 0 at i = 1). A
pulse also has to outlast the settling of the well: the stored state starts at rest with no current, narrower than
the well under a positive drive, and needs a few 1/λ₂ to spread toward the barrier (at Δ = 40, i = 0.5 the
switching probability after 10 τ_D is 3.4× below 1 − e^(−kτ)). So the closed forms hold for B >= 10 and, when the
drive pushes toward the barrier, pulses τ >= VALID_SETTLE_E_FOLDS/λ₂ (λ₂ taken at the edge B = 10; ~35 τ_D at
Δ = 40). A current that pushes the other way (p <= 0) only deepens the well: any pulse is fine there, and the answer
is ≈ 0, as it should be.

At the drive edge (B = 10) the closed form overstates switching by up to ~15 % against the full solution, so a sweep
across it would step backward. Inside the regime the closed value is therefore bounded by the full solution at the
edge (at the same pulse); the bound binds only within ~0.01 V_c of the edge, and every function is monotone in drive
and pulse across the whole range (tests/mtj/test_closed_forms.py sweeps it).
"""
import warnings

import numpy as np

from .activation import slow_mode
from .params import check_delta, check_drive, check_field, check_pulse

VALID_BARRIER = 10.0  # Δ(1 − (i − h))² from which the thermal closed forms hold
VALID_SETTLE_E_FOLDS = 20.0  # pulses of at least this many 1/λ₂ (λ₂ at the edge) when the drive lowers the barrier


class ValidityWarning(UserWarning):
    """A closed form was asked outside its regime; the full solution was returned instead."""


def precessional_wer(drive, pulse, delta=40.0):
    """WER of a short, strong pulse (i > 1), after Sun (2000) with a Boltzmann initial angle.

    The macrospin leaves θ₀ in t_sw = τ_D ln(π/2θ₀)/(i − 1); with P(θ₀ < θ) = 1 − exp(−Δθ²) this gives
    WER = 1 − exp[−(π²Δ/4) exp(−2(i − 1)τ)]. It ignores the noise during the pulse. Against the Fokker-Planck WER
    (Δ = 40-80, WER between 1e-12 and 0.1; tests/mtj/test_closed_forms.py) the ratio closed/FPE depends mostly on the
    drive: 0.83-0.95 at i = 6-8 (an underestimate), 1.0-1.2 at i = 4-5, 1.3-2.3 at i = 2.5-3.5, 2.9-3.8 at i = 2,
    6-22 at i = 1.5, and 10-10⁵ at i = 1.1-1.2, growing with the pulse, where thermal activation during the pulse
    does much of the switching. Use it above i ~ 2.5 only.
    """
    drive, pulse, delta = check_drive(drive), check_pulse(pulse), check_delta(delta)
    if (drive <= 1).any():
        raise ValueError(f"precessional_wer needs drive > 1 (above the critical voltage), got {drive.min():g}")
    return -np.expm1(-(np.pi**2 * delta / 4) * np.exp(-2 * (drive - 1) * pulse))


def brown_rate(drive, delta=40.0, field=0.0):
    """Brown's formula itself, √(Δ/π)(1 − p)(1 − p²)e^(−Δ(1 − p)²) per τ_D, p = i − h, with no validity check.

    0 for p <= −1 (the other well is gone). Meaningless for p near 1; `thermal_switching_rate` guards it.
    """
    push = check_drive(drive) - check_field(field)
    delta = check_delta(delta)
    rate = np.sqrt(delta / np.pi) * (1 - push) * (1 - push**2) * np.exp(-delta * (1 - push) ** 2)
    return np.where(push <= -1, 0.0, rate)


def thermal_switching_rate(drive, delta=40.0, field=0.0):
    """Rate k (per τ_D) at which the bit leaves the upper well below the critical drive (i − h < 1).

    Brown's closed form where the barrier Δ(1 − (i − h))² >= VALID_BARRIER (bounded by the exact rate at that edge);
    below it, with a `ValidityWarning`, the exact escape rate λ₁·P_eq(lower well) from `mtj.activation`.
    0 where i − h <= −1 (no second well).
    """
    delta, field = check_delta(delta), check_field(field)
    push = check_drive(drive) - field
    if (push >= 1).any():
        raise ValueError(f"thermal_switching_rate needs drive - field < 1 (a barrier to cross), got "
                         f"{push.max() + field:g}: above the critical drive switching is precessional, "
                         "see write_error_rate")
    edge = _edge(delta)
    rate = np.minimum(brown_rate(push, delta), _exact_rate(edge, delta))
    outside = push > edge
    if outside.any():
        _warn(f"Brown's rate is outside its regime (barrier {np.min(delta * (1 - push[outside]) ** 2):.3g} < "
              f"{VALID_BARRIER:g}); returning the exact rate of mtj.activation there")
        rate = np.array(rate, dtype=float)
        rate[outside] = [_exact_rate(p, delta) for p in push[outside]]
    return rate


def thermal_wer(drive, pulse, delta=40.0, field=0.0, *, below_resolution="raise"):
    """WER of a long, weak pulse (i < 1): the bit stays unswitched with probability exp(−kτ).

    Outside the regime of the module doc, the full solution (`mtj.wer.write_error_rate`, with below_resolution).
    """
    from .wer import write_error_rate

    delta, field = check_delta(delta), check_field(field)
    drive, pulse = np.broadcast_arrays(check_drive(drive), check_pulse(pulse))
    valid, edge, settle = _regime(drive - field, pulse, delta)
    out = np.empty(drive.shape)
    if valid.any():
        k = thermal_switching_rate(drive[valid], delta, field)
        out[valid] = np.exp(-k * pulse[valid])
        bounded = valid & (drive - field > 0)  # near the edge the closed WER may not fall below the edge's full WER
        if bounded.any():
            at_edge = write_error_rate(edge + field, pulse[bounded], delta, field, below_resolution="nan")
            out[bounded] = np.fmax(out[bounded], at_edge)
    if not valid.all():
        _warn(_outside_message("thermal_wer", drive - field, pulse, valid, delta, settle))
        out[~valid] = write_error_rate(drive[~valid], pulse[~valid], delta, field, below_resolution=below_resolution)
    return out


def read_disturb_probability(read_drive, read_pulse, delta=40.0, n_reads=1, field=0.0, *, below_resolution="raise"):
    """Probability that n_reads reads of drive i_read (V/V_c, either sign) and width τ each flip the bit: 1 − e^(−kτn).

    The read current pushes toward the opposite state like a weak write (i_read > 0) or deepens the well
    (i_read < 0, answer ≈ 0). Outside the regime of the module doc, the full solution `mtj.retention.read_disturb`.
    """
    from .retention import read_disturb

    if int(n_reads) != n_reads or n_reads < 1:
        raise ValueError(f"n_reads must be a positive integer, got {n_reads!r}")
    delta, field = check_delta(delta), check_field(field)
    drive, pulse = np.broadcast_arrays(check_drive(read_drive), check_pulse(read_pulse))
    valid, edge, settle = _regime(drive - field, pulse, delta)
    out = np.empty(drive.shape)
    if valid.any():
        k = thermal_switching_rate(drive[valid], delta, field)
        out[valid] = -np.expm1(-k * pulse[valid] * n_reads)
        bounded = valid & (drive - field > 0)
        if bounded.any():
            at_edge = read_disturb(edge + field, pulse[bounded], delta, field, n_reads, below_resolution="nan")
            out[bounded] = np.fmin(out[bounded], at_edge)
    if not valid.all():
        _warn(_outside_message("read_disturb_probability", drive - field, pulse, valid, delta, settle))
        out[~valid] = read_disturb(drive[~valid], pulse[~valid], delta, field, n_reads,
                                   below_resolution=below_resolution)
    return out


def brown_retention_failure(time, delta=40.0):
    """Probability that a stored bit flips within `time` (units of τ_D) at zero drive, Brown's rate √(Δ/π) e^(−Δ).

    Valid for Δ >= VALID_BARRIER and for flip probabilities well below 1/2 (it ignores the flips back, which make the
    full solution saturate at 1/2: `mtj.retention.retention_failure`). 2.6 % high at Δ = 40, 1.3 % at Δ = 80.
    """
    time, delta = check_pulse(time), check_delta(delta)
    return -np.expm1(-np.sqrt(delta / np.pi) * np.exp(-delta) * time)


def neel_arrhenius_retention_failure(time_ns, delta=40.0, attempt_time_ns=1.0):
    """Probability of a flip within time_ns by Néel-Arrhenius: 1 − exp(−(t/τ₀) e^(−Δ)), attempt time τ₀ ~ 1 ns."""
    time_ns, delta = check_pulse(time_ns), check_delta(delta)
    if not attempt_time_ns > 0:
        raise ValueError(f"attempt_time_ns must be > 0, got {attempt_time_ns!r}")
    return -np.expm1(-(time_ns / attempt_time_ns) * np.exp(-delta))


def _edge(delta):
    """The push p = i − h at which the barrier Δ(1 − p)² equals VALID_BARRIER."""
    return 1.0 - np.sqrt(VALID_BARRIER / delta)


def _exact_rate(push, delta):
    """Exact escape rate out of the upper well at push p = i − h (0 when the lower well is gone)."""
    return 0.0 if push <= -1 else slow_mode(delta, push, 0.0).escape_rate


def _regime(push, pulse, delta):
    """(valid mask, edge push, settling pulse): barrier >= VALID_BARRIER, and long enough pulses when p > 0."""
    edge = _edge(delta)
    settle = VALID_SETTLE_E_FOLDS / slow_mode(delta, edge, 0.0).settle_rate if edge > -1 else np.inf
    return (push <= edge) & ((push <= 0) | (pulse >= settle)), edge, settle


def _outside_message(name, push, pulse, valid, delta, settle):
    at = tuple(np.argwhere(~valid)[0])
    return (f"{name} is outside its regime at drive - field = {push[at]:g}, pulse = {pulse[at]:g} (needs barrier "
            f"Delta(1 - p)^2 >= {VALID_BARRIER:g}, here {delta * (1 - push[at]) ** 2:.3g}, and pulses >= "
            f"{settle:.3g} tau_D when p > 0); returning the full Fokker-Planck solution there")


def _warn(message):
    warnings.warn(message, ValidityWarning, stacklevel=3)
