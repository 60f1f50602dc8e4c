"""The paper's worked example (section III.2): Table 1 and Figure 5, as data.

Only a few cells of Table 1 survived extraction (MTJ.md section 5): row 1 reads pulse 5, voltage 2.78 V_c, ECC
"2-3 bits"; rows 2-3 keep the pulse, need no ECC and have "unlimited" endurance; rows 4-5 need no ECC. The rest is
rebuilt here from the physics with these choices, each marked:

- Δ = 40, pulse 5 τ_D, raw target WER 1e-6 → 2.78 V_c: INFERRED (they reproduce every printed digit);
- relaxed targets 1e-3 and 1e-2: the paper's "1e-3…1e-2";
- rows 4-5 at a voltage 10 % below row 1 (VOLTAGE_REDUCTION): ASSUMED, the "fixed voltage reduction" is not legible;
- ECC: a BCH code on 64 data bits reaching a word failure of 1e-12 or 1e-15 (ASSUMED targets) gives the range;
- endurance from `EnduranceSurrogate` (a surrogate, see `mtj.endurance`).
"""
from dataclasses import dataclass

import numpy as np

from .ecc import ecc_bits_needed
from .endurance import EnduranceSurrogate, relative_write_energy
from .inversion import drive_for_wer, pulse_for_wer
from .params import MTJParams
from .wer import RESOLUTION_FLOOR, write_error_rate

PAPER_PARAMS = MTJParams(delta=40.0)  # Δ inferred
PAPER_PULSE = 5.0  # τ_D, inferred
RAW_TARGET_WER = 1e-6  # inferred
RELAXED_TARGETS = (1e-3, 1e-2)
VOLTAGE_REDUCTION = 0.10  # assumed
DATA_BITS = 64
WORD_FAILURE_TARGETS = (1e-12, 1e-15)  # assumed
FIGURE5_TARGETS = (1e-2, 1e-3, 1e-4, 1e-6, 1e-9)


@dataclass(frozen=True)
class Table1Row:
    """One operating point. drive in V_c, pulse in τ_D; *_change are relative to row 1 (−0.25 = 25 % less)."""

    label: str
    target_wer: float
    pulse: float
    drive: float
    ecc_bits: tuple  # (fewest, most) over WORD_FAILURE_TARGETS; (0, 0) = no ECC
    voltage_change: float
    pulse_change: float
    energy_change: float
    endurance_cycles: float
    endurance_unlimited: bool


def table1(params=PAPER_PARAMS, pulse=PAPER_PULSE, endurance=EnduranceSurrogate()):
    """Rows of Table 1: the conventional point, relaxed targets at the same pulse, relaxed targets at lower voltage."""
    base_drive = drive_for_wer(RAW_TARGET_WER, pulse, params.delta, params.field)
    points = [("conventional (ECC)", RAW_TARGET_WER, pulse, base_drive)]
    for target in RELAXED_TARGETS:
        points.append(("relaxed, same pulse", target, pulse, drive_for_wer(target, pulse, params.delta, params.field)))
    reduced = (1 - VOLTAGE_REDUCTION) * base_drive
    for target in RELAXED_TARGETS:
        points.append((f"relaxed, V -{VOLTAGE_REDUCTION:.0%}", target,
                       pulse_for_wer(target, reduced, params.delta, params.field), reduced))
    rows = []
    for label, target, width, drive in points:
        conventional = target == RAW_TARGET_WER
        bits = [ecc_bits_needed(target, goal, DATA_BITS) if conventional else 0 for goal in WORD_FAILURE_TARGETS]
        cycles = float(endurance.cycles(params.volts(drive), width * params.tau_d_ns, params.v_bd_volts))
        rows.append(Table1Row(
            label=label, target_wer=target, pulse=width, drive=drive, ecc_bits=(min(bits), max(bits)),
            voltage_change=drive / base_drive - 1, pulse_change=width / pulse - 1,
            energy_change=float(relative_write_energy(drive, width, base_drive, pulse)) - 1,
            endurance_cycles=cycles, endurance_unlimited=bool(endurance.is_unlimited(cycles))))
    return rows


def format_table1(rows):
    """Table 1 as aligned text."""
    head = f"{'operating point':<20} {'WER':>7} {'pulse/tD':>9} {'V/Vc':>6} {'ECC bits':>9} {'dV':>7} " \
           f"{'dpulse':>7} {'dE':>7} {'endurance (cycles)':>20}"
    lines = [head, "-" * len(head)]
    for row in rows:
        ecc = "none" if row.ecc_bits == (0, 0) else "-".join(str(b) for b in sorted(set(row.ecc_bits)))
        endurance = f"{row.endurance_cycles:.1e}" + (" unlimited" if row.endurance_unlimited else "")
        lines.append(f"{row.label:<20} {row.target_wer:>7.0e} {row.pulse:>9.2f} {row.drive:>6.2f} {ecc:>9} "
                     f"{row.voltage_change:>+7.1%} {row.pulse_change:>+7.1%} {row.energy_change:>+7.1%} {endurance:>20}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Figure5:
    """Write drive against pulse width for several WER targets.

    drive: (D,) drives in V_c; pulse: (len(targets), D) pulse width in τ_D at which each drive reaches each target
    (NaN where that lies outside the pulse range computed); marked: the Table 1 operating points.
    """

    targets: tuple
    drive: np.ndarray
    pulse: np.ndarray
    marked: tuple


def figure5(params=PAPER_PARAMS, targets=FIGURE5_TARGETS, drive=None, pulse_range=(0.5, 200.0), rows=None):
    """Data of Figure 5: for each drive, the pulse that reaches each target, from one (drive × pulse) WER grid.

    The grid has 240 log-spaced pulses per drive; each crossing is interpolated linearly in (log τ, log WER), which
    is smooth on that scale (error < 1e-4 relative against `pulse_for_wer`, see the tests).
    """
    drive = np.linspace(1.05, 6.0, 60) if drive is None else np.asarray(drive, dtype=float)
    if min(targets) < 10 * RESOLUTION_FLOOR:
        raise ValueError(f"targets must be >= {10 * RESOLUTION_FLOOR:g}, got {min(targets):g}")
    log_pulse = np.linspace(np.log(pulse_range[0]), np.log(pulse_range[1]), 240)
    wer = write_error_rate(drive[:, None], np.exp(log_pulse)[None, :], params.delta, params.field,
                           below_resolution="nan")
    log_wer = np.log(np.where(np.isnan(wer), RESOLUTION_FLOOR / 10, wer))  # below the floor is below every target
    pulse = np.full((len(targets), drive.size), np.nan)
    for k, target in enumerate(targets):
        below = log_wer <= np.log(target)
        for d in np.flatnonzero(below.any(axis=1) & ~below[:, 0]):
            j = np.argmax(below[d])
            fraction = (np.log(target) - log_wer[d, j - 1]) / (log_wer[d, j] - log_wer[d, j - 1])
            pulse[k, d] = np.exp(log_pulse[j - 1] + fraction * (log_pulse[j] - log_pulse[j - 1]))
    marked = tuple(table1(params) if rows is None else rows)
    return Figure5(targets=tuple(targets), drive=drive, pulse=pulse, marked=marked)
