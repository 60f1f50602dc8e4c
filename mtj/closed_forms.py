"""Closed-form limits of the switching problem (MTJ.md section 3): fast paths and cross-checks of the full solution.

All take dimensionless drive i = V/V_c, pulse τ = t/τ_D and Δ = E_b/k_BT, broadcast over arrays, and assume h = 0.
Each is accurate only in its regime; tests/mtj/test_closed_forms.py measures how close each comes to the
Fokker-Planck WER there.
"""
import numpy as np

from .params import check_delta, check_drive, check_pulse


def precessional_wer(drive, pulse, delta=40.0):
    """WER of a short, strong pulse (i > 1), after Sun (2000) with a Boltzmann initial angle.

    The macrospin leaves θ₀ in t_sw = τ_D ln(π/2θ₀)/(i − 1); with P(θ₀ < θ) = 1 − exp(−Δθ²) this gives
    WER = 1 − exp[−(π²Δ/4) exp(−2(i − 1)τ)]. Ignores noise during the pulse, so it overestimates the
    Fokker-Planck WER (by ~1.3-6× at WER 1e-9..1e-2 in MTJ.md's words).
    """
    drive, pulse, delta = check_drive(drive), check_pulse(pulse), check_delta(delta)
    if (drive <= 1).any():
        raise ValueError(f"precessional_wer needs drive > 1 (above the critical voltage), got {drive.min():g}")
    return -np.expm1(-(np.pi**2 * delta / 4) * np.exp(-2 * (drive - 1) * pulse))


def thermal_switching_rate(drive, delta=40.0):
    """Thermally activated switching rate k (per τ_D) below the critical drive (0 <= i < 1).

    k = √(Δ/π) (1 − i)(1 − i²) exp[−Δ(1 − i)²]: Brown's high-barrier rate with the spin-torque-lowered barrier
    Δ(1 − i)² (exponent 2 for the axisymmetric case). Valid for Δ(1 − i)² >~ 10.
    """
    drive, delta = check_drive(drive), check_delta(delta)
    outside = (drive < 0) | (drive >= 1)
    if outside.any():
        raise ValueError(f"thermal_switching_rate needs 0 <= drive < 1, got {drive[outside].flat[0]:g}")
    barrier = delta * (1 - drive) ** 2
    return np.sqrt(delta / np.pi) * (1 - drive) * (1 - drive**2) * np.exp(-barrier)


def thermal_wer(drive, pulse, delta=40.0):
    """WER of a long, weak pulse (i < 1): the bit stays unswitched with probability exp(−kτ)."""
    return np.exp(-thermal_switching_rate(drive, delta) * check_pulse(pulse))


def read_disturb_probability(read_drive, read_pulse, delta=40.0, n_reads=1):
    """Probability that n_reads read pulses of drive i_read < 1 and width τ each flip the bit: 1 − exp(−k τ n).

    The read current pushes toward the opposite state like a weak write, so this is the thermal write formula.
    """
    if int(n_reads) != n_reads or n_reads < 1:
        raise ValueError(f"n_reads must be a positive integer, got {n_reads!r}")
    rate = thermal_switching_rate(read_drive, delta)
    return -np.expm1(-rate * check_pulse(read_pulse) * n_reads)


def brown_retention_failure(time, delta=40.0):
    """Probability that a stored bit flips within `time` (units of τ_D) at zero drive, Brown's rate √(Δ/π) e^(−Δ)."""
    time, delta = check_pulse(time), check_delta(delta)
    return -np.expm1(-np.sqrt(delta / np.pi) * np.exp(-delta) * time)


def neel_arrhenius_retention_failure(time_ns, delta=40.0, attempt_time_ns=1.0):
    """Probability of a flip within time_ns by Néel-Arrhenius: 1 − exp(−(t/τ₀) e^(−Δ)), attempt time τ₀ ~ 1 ns."""
    time_ns, delta = check_pulse(time_ns), check_delta(delta)
    if not attempt_time_ns > 0:
        raise ValueError(f"attempt_time_ns must be > 0, got {attempt_time_ns!r}")
    return -np.expm1(-(time_ns / attempt_time_ns) * np.exp(-delta))
