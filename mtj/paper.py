"""The paper's worked example (section III.2): Table 1 and Figure 5, as data.

Only a few cells of Table 1 survived extraction (MTJ.md section 5): row 1 reads pulse 5, voltage 2.78 V_c, ECC
"2-3 bits"; rows 2-3 keep the pulse, need no ECC and have "unlimited" endurance; rows 4-5 need no ECC. The rest is
rebuilt here from the physics with these choices, each marked, and `paper_inputs` returns them labelled so that
every output (text, JSON, figure) can say which inputs are inferred and which assumed:

- Δ = 40, pulse 5 τ_D, raw target WER 1e-6 → 2.78 V_c: INFERRED (they reproduce every printed digit);
- relaxed targets 1e-3 and 1e-2: the paper's "1e-3…1e-2";
- rows 4-5 at a voltage 10 % below row 1 (VOLTAGE_REDUCTION): ASSUMED, the "fixed voltage reduction" is not legible;
- ECC: a BCH code on 64 data bits reaching a word failure of 1e-12 or 1e-15 (ASSUMED targets) gives the range;
- endurance from `EnduranceSurrogate` (a surrogate, see `mtj.endurance`), with V_bd = 1.2 V = 4 V_c and
  V_c = 0.3 V, τ_D = 1 ns (ASSUMED: `MTJParams`).

"2-3 ECC bits" and "unlimited endurance" are therefore consequences of assumed inputs (CONSEQUENCES), not
measurements. An asymmetric cell (AP→P parameters that differ) gets each row's voltage from the direction that
needs more.
"""
from dataclasses import dataclass

import numpy as np

from .ecc import ecc_bits_needed
from .endurance import EnduranceSurrogate, relative_write_energy
from .inversion import drive_for_wer, pulse_for_wer
from .params import MTJParams
from .wer import write_error_rate_estimate

PAPER_PARAMS = MTJParams(delta=40.0)  # Δ inferred
PAPER_PULSE = 5.0  # τ_D, inferred
RAW_TARGET_WER = 1e-6  # inferred
RELAXED_TARGETS = (1e-3, 1e-2)
VOLTAGE_REDUCTION = 0.10  # assumed
DATA_BITS = 64
WORD_FAILURE_TARGETS = (1e-12, 1e-15)  # assumed
FIGURE5_TARGETS = (1e-2, 1e-3, 1e-4, 1e-6, 1e-9)


@dataclass(frozen=True)
class Input:
    """One input of the worked example: what it is, its value, and where it comes from.

    status: "inferred" (reproduces the paper's printed digits), "from the paper", "assumed" (not in the paper: a
    typical value chosen here), or "given" (set by the caller instead of the default).
    """

    name: str
    value: str
    status: str
    note: str


def paper_inputs(params=PAPER_PARAMS, pulse=PAPER_PULSE, ap_to_p=None, endurance=EnduranceSurrogate()):
    """The inputs behind `table1` and `figure5`, each labelled (see `Input`), as a list."""
    def status(default_status, is_default):
        return default_status if is_default else "given"

    same = ap_to_p is None or ap_to_p == params
    items = [
        Input("thermal stability Delta", f"{params.delta:g}", status("inferred", params.delta == PAPER_PARAMS.delta),
              "reproduces 2.78 V_c for WER 1e-6 at 5 tau_D to the printed digits"),
        Input("pulse width", f"{pulse:g} tau_D", status("inferred", pulse == PAPER_PULSE), "Table 1 row 1 reads 5"),
        Input("raw target WER", f"{RAW_TARGET_WER:g}", "inferred", "the conventional operating point, with ECC"),
        Input("relaxed targets", ", ".join(f"{t:g}" for t in RELAXED_TARGETS), "from the paper", "its 1e-3...1e-2"),
        Input("voltage cut of rows 4-5", f"{VOLTAGE_REDUCTION:.0%}", "assumed",
              "the paper's fixed voltage reduction is not legible"),
        Input("tau_D", f"{params.tau_d_ns:g} ns", status("assumed", params.tau_d_ns == PAPER_PARAMS.tau_d_ns),
              "MTJ.md: about 1 ns; only converts tau_D to ns"),
        Input("critical voltage V_c", f"{params.v_c_volts:g} V",
              status("assumed", params.v_c_volts == PAPER_PARAMS.v_c_volts), "only converts V_c units to volts"),
        Input("breakdown voltage V_bd", f"{params.v_bd_volts:g} V ({params.v_bd_drive:.3g} V_c)",
              status("assumed", params.v_bd_volts == PAPER_PARAMS.v_bd_volts),
              "sets the endurance and the upper end of the write windows"),
        Input("word-failure targets", ", ".join(f"{t:g}" for t in WORD_FAILURE_TARGETS), "assumed",
              f"for BCH codes on {DATA_BITS}-bit words; they give the ECC range"),
        Input("endurance model", f"N_BD = {endurance.cycles_at_breakdown_voltage:g} (V_bd/V)^"
              f"{endurance.voltage_exponent:g} (t0/t)^{endurance.pulse_exponent:g}, unlimited >= "
              f"{endurance.unlimited_cycles:g}", "assumed", "a surrogate (mtj.endurance), not a fitted model"),
    ]
    if not same:
        items.append(Input("AP->P direction", f"Delta {ap_to_p.delta:g}, V_c {ap_to_p.v_c_volts:g} V, tau_D "
                           f"{ap_to_p.tau_d_ns:g} ns, h {ap_to_p.field:g}", "given",
                           "each row's voltage serves the direction that needs more"))
    return items


CONSEQUENCES = (
    '"2-3 ECC bits" follows from the raw WER 1e-6 (inferred) and the word-failure targets 1e-12 and 1e-15 on '
    f'{DATA_BITS}-bit BCH words (assumed).',
    '"unlimited" endurance follows from the endurance surrogate and V_bd (both assumed): it counts 1e15 or more '
    "cycles to breakdown as unlimited.",
)


@dataclass(frozen=True)
class Table1Row:
    """One operating point; *_change are relative to row 1 (−0.25 = 25 % less).

    drive and pulse are in units of the P→AP direction's V_c and τ_D (the paper's units; for a symmetric cell the
    only direction), volts and pulse_ns the same in V and ns; wer_p_to_ap and wer_ap_to_p are each direction's WER
    there (equal for a symmetric cell; the direction that needs more voltage sits at the target).
    """

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
    volts: float = float("nan")
    pulse_ns: float = float("nan")
    wer_p_to_ap: float = float("nan")
    wer_ap_to_p: float = float("nan")


def table1(params=PAPER_PARAMS, pulse=PAPER_PULSE, endurance=EnduranceSurrogate(), ap_to_p=None):
    """Rows of Table 1: the conventional point, relaxed targets at the same pulse, relaxed targets at lower voltage.

    params: the P→AP direction (or both, for a symmetric cell); ap_to_p: the AP→P direction if it differs. pulse in
    units of params' τ_D. Each row's voltage is the larger of the two directions' needs; at reduced voltage, the
    longer of their pulses.
    """
    directions = [params] if ap_to_p is None or ap_to_p == params else [params, ap_to_p]
    pulse_ns = pulse * params.tau_d_ns

    def volts_for(target, width_ns):
        return max(float(d.volts(drive_for_wer(target, float(d.pulse(width_ns)), d.delta, d.field)))
                   for d in directions)

    def pulse_ns_for(target, volts):
        return max(d.tau_d_ns * pulse_for_wer(target, float(d.drive(volts)), d.delta, d.field) for d in directions)

    base_volts = volts_for(RAW_TARGET_WER, pulse_ns)
    points = [("conventional (ECC)", RAW_TARGET_WER, pulse_ns, base_volts)]
    for target in RELAXED_TARGETS:
        points.append(("relaxed, same pulse", target, pulse_ns, volts_for(target, pulse_ns)))
    reduced = (1 - VOLTAGE_REDUCTION) * base_volts
    for target in RELAXED_TARGETS:
        points.append((f"relaxed, V -{VOLTAGE_REDUCTION:.0%}", target, pulse_ns_for(target, reduced), reduced))
    breakdown = min(d.v_bd_volts for d in directions)
    rows = []
    for label, target, width_ns, volts in points:
        conventional = target == RAW_TARGET_WER
        bits = [ecc_bits_needed(target, goal, DATA_BITS) if conventional else 0 for goal in WORD_FAILURE_TARGETS]
        cycles = float(endurance.cycles(volts, width_ns, breakdown))
        wers = [float(write_error_rate_estimate(d.drive(volts), d.pulse(width_ns), d.delta, d.field).value)
                for d in directions]
        rows.append(Table1Row(
            label=label, target_wer=target, pulse=float(params.pulse(width_ns)), drive=float(params.drive(volts)),
            ecc_bits=(min(bits), max(bits)), voltage_change=volts / base_volts - 1,
            pulse_change=width_ns / pulse_ns - 1,
            energy_change=float(relative_write_energy(volts, width_ns, base_volts, pulse_ns)) - 1,
            endurance_cycles=cycles, endurance_unlimited=bool(endurance.is_unlimited(cycles)), volts=volts,
            pulse_ns=width_ns, wer_p_to_ap=wers[0], wer_ap_to_p=wers[-1]))
    return rows


def format_table1(rows, inputs=None):
    """Table 1 as aligned text, followed by its labelled inputs (`paper_inputs()` unless given) and CONSEQUENCES."""
    head = f"{'operating point':<20} {'WER':>7} {'pulse/tD':>9} {'V/Vc':>6} {'ECC bits':>9} {'dV':>7} " \
           f"{'dpulse':>7} {'dE':>7} {'endurance (cycles)':>20}"
    lines = [head, "-" * len(head)]
    for row in rows:
        ecc = "none" if row.ecc_bits == (0, 0) else "-".join(str(b) for b in sorted(set(row.ecc_bits)))
        endurance = f"{row.endurance_cycles:.1e}" + (" unlimited" if row.endurance_unlimited else "")
        lines.append(f"{row.label:<20} {row.target_wer:>7.0e} {row.pulse:>9.2f} {row.drive:>6.2f} {ecc:>9} "
                     f"{row.voltage_change:>+7.1%} {row.pulse_change:>+7.1%} {row.energy_change:>+7.1%} {endurance:>20}")
    if any(row.wer_p_to_ap != row.wer_ap_to_p for row in rows):
        lines.append("")
        lines.append("per direction: " + "; ".join(f"{row.volts:.3f} V, {row.pulse_ns:.2f} ns: WER P->AP "
                                                  f"{row.wer_p_to_ap:.2g}, AP->P {row.wer_ap_to_p:.2g}"
                                                  for row in rows))
    return "\n".join(lines + [""] + format_inputs(paper_inputs() if inputs is None else inputs))


def format_inputs(inputs):
    """The labelled inputs and what follows from them, as text lines."""
    lines = ["inputs (inferred: reproduces the paper's digits; assumed: not in the paper):"]
    lines += [f"  {item.name:<26} {item.value:<28} {item.status:<14} {item.note}" for item in inputs]
    return lines + [f"  {consequence}" for consequence in CONSEQUENCES]


@dataclass(frozen=True)
class Figure5:
    """Write drive against pulse width for several WER targets.

    drive: (D,) drives in V_c; pulse: (len(targets), D) pulse width in τ_D at which each drive reaches each target
    (NaN where that lies outside the pulse range computed); marked: the Table 1 operating points; inputs: the
    labelled inputs (`paper_inputs`).
    """

    targets: tuple
    drive: np.ndarray
    pulse: np.ndarray
    marked: tuple
    inputs: tuple = ()


def figure5(params=PAPER_PARAMS, targets=FIGURE5_TARGETS, drive=None, pulse_range=(0.5, 200.0), rows=None):
    """Data of Figure 5: for each drive, the pulse that reaches each target, from one (drive × pulse) WER grid.

    The grid has 240 log-spaced pulses per drive; each crossing is interpolated linearly in (log τ, log WER), which
    is smooth on that scale (error < 1e-4 relative against `pulse_for_wer`, see the tests).
    """
    drive = np.linspace(1.05, 6.0, 60) if drive is None else np.asarray(drive, dtype=float)
    log_pulse = np.linspace(np.log(pulse_range[0]), np.log(pulse_range[1]), 240)
    estimate = write_error_rate_estimate(drive[:, None], np.exp(log_pulse)[None, :], params.delta, params.field)
    unresolved = ~estimate.resolved
    if (estimate.floor[unresolved] >= min(targets)).any():
        raise ValueError(f"target {min(targets):g} is below what double precision resolves on this grid "
                         f"(floors up to {estimate.floor[unresolved].max():.2g})")
    log_wer = np.log(np.where(unresolved, estimate.floor / 10, estimate.value))  # unresolved: below every target
    pulse = np.full((len(targets), drive.size), np.nan)
    for k, target in enumerate(targets):
        below = log_wer <= np.log(target)
        for d in np.flatnonzero(below.any(axis=1) & ~below[:, 0]):
            j = np.argmax(below[d])
            fraction = (np.log(target) - log_wer[d, j - 1]) / (log_wer[d, j] - log_wer[d, j - 1])
            pulse[k, d] = np.exp(log_pulse[j - 1] + fraction * (log_pulse[j] - log_pulse[j - 1]))
    marked = tuple(table1(params) if rows is None else rows)
    return Figure5(targets=tuple(targets), drive=drive, pulse=pulse, marked=marked, inputs=tuple(paper_inputs(params)))
