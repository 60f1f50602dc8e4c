"""Command line: python -m mtj {table1, figure5, wer, drive, pulse, windows, map, retention, read-disturb} [--json].

Drives are in units of V_c and pulses in units of τ_D, as everywhere in `mtj`, or in volts and ns (--volts, --ns)
through the cell's V_c and τ_D. The two write directions (P→AP, AP→P) can differ: --delta, --field, --vc, --tau-d-ns
and --vbd set P→AP (and AP→P unless given), --ap-to-p-* set AP→P alone; a drive in V_c units is the P→AP one, and
both directions see the same voltage. --temperature scales Δ, V_c and τ_D from 300 K (`mtj.temperature`, assumed
material constants); drives and pulses given in V_c and τ_D units are read at 300 K.
Importing `mtj` (as this command does, before NumPy) sets single-threaded BLAS; `mtj.wer` runs drives in threads.
"""
import argparse
import csv
import json
import os
import sys
import tempfile
import warnings
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from .closed_forms import ValidityWarning, brown_retention_failure, read_disturb_probability
from .inversion import drive_for_wer, pulse_for_wer
from .paper import CONSEQUENCES, figure5, format_inputs, format_table1, paper_inputs, table1
from .params import MTJParams
from .retention import SECONDS_PER_YEAR
from .temperature import TemperatureModel
from .wer import ConvergenceError, switching_probability_estimate, write_error_rate_estimate
from .windows import conventional_window, resilient_window

DIRECTION_OPTIONS = ("delta", "field", "vc", "tau_d_ns", "vbd")
PARAM_NAMES = {"delta": "delta", "field": "field", "vc": "v_c_volts", "tau_d_ns": "tau_d_ns", "vbd": "v_bd_volts"}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result, text = COMMANDS[args.command](args)
    except (ValueError, ConvergenceError) as error:  # bad input, unreachable target: say why, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else text)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m mtj", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    table = commands.add_parser("table1", help="the paper's Table 1, with its inputs labelled")
    fig = commands.add_parser("figure5", help="the paper's Figure 5: voltage against pulse width per WER target")
    fig.add_argument("--out", help="PNG to write")
    wer = commands.add_parser("wer", help="write error rate of a pulse, per write direction")
    _drive_or_volts(wer, required=True)
    _pulse_or_ns(wer, required=True)
    drive = commands.add_parser("drive", help="drive (voltage) needed for a target WER at a pulse")
    drive.add_argument("--wer", type=float, required=True, help="target write error rate")
    _pulse_or_ns(drive, required=True)
    pulse = commands.add_parser("pulse", help="pulse needed for a target WER at a drive")
    pulse.add_argument("--wer", type=float, required=True, help="target write error rate")
    _drive_or_volts(pulse, required=True)
    windows = commands.add_parser("windows", help="the conventional (eq. 8) and error-resilient (eq. 9) windows")
    windows.add_argument("--pulse", type=float, default=5.0, help="pulse width t / tau_D (default 5)")
    windows.add_argument("--raw-wer", type=float, default=1e-6, help="raw WER of the conventional window (1e-6)")
    windows.add_argument("--word-failure", type=float, default=1e-15, help="word failure ECC must reach (1e-15)")
    windows.add_argument("--resilient-wer", type=float, default=1e-3, help="WER the network tolerates (1e-3)")
    grid = commands.add_parser("map", help="WER over a drive x pulse grid: CSV and PNG")
    grid.add_argument("--drive", type=float, nargs=3, default=[1.0, 4.0, 200], metavar=("LOW", "HIGH", "N"),
                      help="N drives V/V_c from LOW to HIGH, evenly spaced (default 1 4 200)")
    grid.add_argument("--pulse", type=float, nargs=3, default=[0.5, 50.0, 200], metavar=("LOW", "HIGH", "N"),
                      help="N pulses t/tau_D from LOW to HIGH, log-spaced (default 0.5 50 200)")
    grid.add_argument("--out", default="wer_map", help="writes OUT.csv and OUT.png (default wer_map)")
    grid.add_argument("--no-png", action="store_true", help="write the CSV only")
    grid.add_argument("--threads", type=int, default=None, help="threads over drives (default: all cores)")
    retention = commands.add_parser("retention", help="probability that a stored bit flips within a time")
    when = retention.add_mutually_exclusive_group()
    when.add_argument("--years", type=float, default=10.0, help="storage time in years (default 10)")
    when.add_argument("--time", type=float, help="storage time t / tau_D")
    disturb = commands.add_parser("read-disturb", help="probability that reads flip the stored bit")
    _drive_or_volts(disturb, required=True, prefix="read-")
    _pulse_or_ns(disturb, required=True, prefix="read-")
    disturb.add_argument("--reads", type=float, default=1, help="number of reads (default 1)")
    for sub in commands.choices.values():
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    for sub in (wer, drive, pulse, table, windows, grid, retention, disturb):
        _direction_arguments(sub, both=sub not in (grid, retention, disturb))
    for sub in (wer, retention, disturb):
        sub.add_argument("--temperature", type=float, help="cell temperature in kelvin (default: 300 K, as given)")
    return parser


def _drive_or_volts(parser, required, prefix=""):
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument(f"--{prefix}drive", type=float, help="V / V_c (of the P->AP direction)")
    group.add_argument(f"--{prefix}volts", type=float, help="applied voltage in V")


def _pulse_or_ns(parser, required, prefix=""):
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument(f"--{prefix}pulse", type=float, help="t / tau_D (of the P->AP direction)")
    group.add_argument(f"--{prefix}ns", type=float, help="pulse width in ns")


def _direction_arguments(parser, both):
    defaults = MTJParams()
    helps = {"delta": f"thermal stability E_b / k_B T (default {defaults.delta:g})",
             "field": "easy-axis field H / H_k, positive opposes the write (default 0)",
             "vc": f"critical voltage V_c in V (default {defaults.v_c_volts:g}, assumed)",
             "tau_d_ns": f"characteristic time tau_D in ns (default {defaults.tau_d_ns:g})",
             "vbd": f"breakdown voltage in V (default {defaults.v_bd_volts:g}, assumed)"}
    for name in DIRECTION_OPTIONS:
        flag = name.replace("_", "-")
        parser.add_argument(f"--{flag}", type=float, help=helps[name] + (" (P->AP, and AP->P unless set)" if both
                                                                          else ""))
        if both:
            parser.add_argument(f"--ap-to-p-{flag}", type=float, dest=f"ap_to_p_{name}",
                                help="the same for the AP->P direction alone")


def _directions(args):
    """(P→AP params, AP→P params) from the options, at --temperature if given."""
    base = MTJParams(**{PARAM_NAMES[n]: getattr(args, n) for n in DIRECTION_OPTIONS if getattr(args, n) is not None})
    other = replace(base, **{PARAM_NAMES[n]: getattr(args, f"ap_to_p_{n}") for n in DIRECTION_OPTIONS
                             if getattr(args, f"ap_to_p_{n}", None) is not None})
    return base, other


def _at_temperature(args, params):
    kelvin = getattr(args, "temperature", None)
    return params if kelvin is None else TemperatureModel().params_at(params, kelvin)


def _volts_and_ns(args, reference, prefix=""):
    drive, volts = getattr(args, f"{prefix}drive", None), getattr(args, f"{prefix}volts", None)
    pulse, ns = getattr(args, f"{prefix}pulse", None), getattr(args, f"{prefix}ns", None)
    volts = float(reference.volts(drive)) if volts is None else volts
    ns = float(pulse * reference.tau_d_ns) if ns is None else ns
    return volts, ns


def _describe(params):
    return {"delta": params.delta, "field": params.field, "v_c_volts": params.v_c_volts,
            "tau_d_ns": params.tau_d_ns, "v_bd_volts": params.v_bd_volts}


def _value_or_bound(estimate, what):
    """(JSON fields, text) of a probability estimate: the value, or an upper bound when below the floor."""
    value, error = float(estimate.value), float(estimate.error)
    floor = float(estimate.floor)
    if value >= floor:
        return {what: value, f"{what}_error": error}, f"{value:.6g}"
    bound = max(floor, value + error)
    return ({what: None, f"{what}_below": bound, f"{what}_error": error},
            f"< {bound:.1g} (below what double precision resolves at this point)")


def run_table1(args):
    p_to_ap, ap_to_p = _directions(args)
    rows = table1(p_to_ap, ap_to_p=ap_to_p)
    inputs = paper_inputs(p_to_ap, ap_to_p=ap_to_p)
    return ({"rows": [asdict(row) for row in rows], "inputs": [asdict(item) for item in inputs],
             "consequences": list(CONSEQUENCES)}, format_table1(rows, inputs))


def run_figure5(args):
    data = figure5()
    if args.out:
        from .plots import plot_figure5  # matplotlib only when drawing
        plot_figure5(data, args.out)
    result = {"targets": list(data.targets), "drive": data.drive.tolist(),
              "pulse": np.where(np.isnan(data.pulse), None, data.pulse).tolist(),
              "marked": [asdict(row) for row in data.marked], "inputs": [asdict(item) for item in data.inputs],
              "consequences": list(CONSEQUENCES), "out": args.out}
    text = f"figure 5 written to {args.out}" if args.out else format_figure5(data)
    return result, "\n".join([text, ""] + format_inputs(data.inputs))


def run_wer(args):
    p_to_ap, ap_to_p = _directions(args)
    volts, ns = _volts_and_ns(args, p_to_ap)
    result = {"volts": volts, "ns": ns, "temperature_kelvin": args.temperature}
    if args.drive is not None or args.pulse is not None:
        result.update(drive=args.drive if args.drive is not None else float(p_to_ap.drive(volts)),
                      pulse=args.pulse if args.pulse is not None else float(p_to_ap.pulse(ns)))
    lines = []
    for name, params in (("p_to_ap", p_to_ap), ("ap_to_p", ap_to_p)):
        cell = _at_temperature(args, params)
        estimate = write_error_rate_estimate(cell.drive(volts), cell.pulse(ns), cell.delta, cell.field)
        fields, text = _value_or_bound(estimate, "wer")
        result[name] = {**_describe(cell), "drive": float(cell.drive(volts)), "pulse": float(cell.pulse(ns)),
                        **fields}
        lines.append((name, text))
    result.update(delta=result["p_to_ap"]["delta"], field=result["p_to_ap"]["field"], wer=result["p_to_ap"]["wer"])
    if p_to_ap == ap_to_p:
        return result, f"WER = {lines[0][1]}"
    return result, "\n".join(f"WER {label.replace('_to_', '->').upper()} = {text}" for label, text in lines)


def run_drive(args):
    p_to_ap, ap_to_p = _directions(args)
    ns = args.ns if args.ns is not None else args.pulse * p_to_ap.tau_d_ns
    needs = {}
    for name, params in (("p_to_ap", p_to_ap), ("ap_to_p", ap_to_p)):
        drive = drive_for_wer(args.wer, float(params.pulse(ns)), params.delta, params.field)
        needs[name] = {**_describe(params), "drive": drive, "volts": float(params.volts(drive))}
    volts = max(needs["p_to_ap"]["volts"], needs["ap_to_p"]["volts"])
    drive = needs["p_to_ap"]["drive"]
    result = {"wer": args.wer, "pulse": float(p_to_ap.pulse(ns)), "ns": ns, "delta": p_to_ap.delta,
              "field": p_to_ap.field, "drive": drive, "volts": volts, **needs}
    if p_to_ap == ap_to_p:
        return result, f"drive = {drive:.6g} V_c"
    return result, (f"P->AP needs {needs['p_to_ap']['volts']:.4g} V ({drive:.4g} V_c), AP->P needs "
                    f"{needs['ap_to_p']['volts']:.4g} V ({needs['ap_to_p']['drive']:.4g} V_c): write at {volts:.4g} V")


def run_pulse(args):
    p_to_ap, ap_to_p = _directions(args)
    volts = args.volts if args.volts is not None else float(p_to_ap.volts(args.drive))
    needs = {}
    for name, params in (("p_to_ap", p_to_ap), ("ap_to_p", ap_to_p)):
        pulse = pulse_for_wer(args.wer, float(params.drive(volts)), params.delta, params.field)
        needs[name] = {**_describe(params), "pulse": pulse, "ns": pulse * params.tau_d_ns}
    ns = max(needs["p_to_ap"]["ns"], needs["ap_to_p"]["ns"])
    pulse = needs["p_to_ap"]["pulse"]
    result = {"wer": args.wer, "drive": float(p_to_ap.drive(volts)), "volts": volts, "delta": p_to_ap.delta,
              "field": p_to_ap.field, "pulse": pulse, "ns": ns, **needs}
    if p_to_ap == ap_to_p:
        return result, f"pulse = {pulse:.6g} tau_D"
    return result, (f"P->AP needs {needs['p_to_ap']['ns']:.4g} ns, AP->P needs {needs['ap_to_p']['ns']:.4g} ns: "
                    f"write for {ns:.4g} ns")


def run_windows(args):
    p_to_ap, ap_to_p = _directions(args)
    conventional = conventional_window(p_to_ap, args.pulse, args.raw_wer, args.word_failure, ap_to_p=ap_to_p)
    resilient = resilient_window(p_to_ap, args.pulse, args.resilient_wer, ap_to_p=ap_to_p)
    result = {"pulse": args.pulse, "p_to_ap": _describe(p_to_ap), "ap_to_p": _describe(ap_to_p),
              "conventional": {**asdict(conventional), "margin": conventional.margin},
              "resilient": {**asdict(resilient), "margin": resilient.margin}}
    lines = [f"write windows at {args.pulse:g} tau_D (breakdown {conventional.upper_volts:.3g} V, assumed):"]
    for label, window in (("conventional (eq. 8)", conventional), ("error resilient (eq. 9)", resilient)):
        ecc = "none" if window.ecc_bits == 0 else f"{window.ecc_bits} bits"
        lines.append(f"  {label:<24} {window.lower_volts:.3f} V <= V < {window.upper_volts:.3f} V "
                     f"({window.lower:.3f}-{window.upper:.3f} V_c), raw WER {window.wer_at_lower:g}, ECC {ecc}, "
                     f"margin {window.margin:.2f}x")
    return result, "\n".join(lines)


def run_map(args):
    params, _ = _directions(args)
    low, high, count = args.drive
    drives = np.linspace(low, high, _count(count, "--drive"))
    low, high, count = args.pulse
    if not 0 < low < high:
        raise ValueError(f"--pulse needs 0 < LOW < HIGH, got {low:g} {high:g}")
    pulses = np.geomspace(low, high, _count(count, "--pulse"))
    estimate = write_error_rate_estimate(drives[:, None], pulses[None, :], params.delta, params.field,
                                         threads=args.threads)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path = out.with_suffix(".csv")
    _write_map_csv(csv_path, drives, pulses, estimate)
    png_path = None
    if not args.no_png:
        from .plots import plot_wer_map  # matplotlib only when drawing
        png_path = out.with_suffix(".png")
        plot_wer_map(drives, pulses, estimate, png_path, params.delta, params.field)
    resolved = estimate.resolved
    result = {"delta": params.delta, "field": params.field, "drives": drives.size, "pulses": pulses.size,
              "resolved_fraction": float(resolved.mean()),
              "smallest_resolved_wer": float(estimate.value[resolved].min()) if resolved.any() else None,
              "largest_floor_of_unresolved": float(estimate.floor[~resolved].max()) if (~resolved).any() else None,
              "csv": str(csv_path), "png": None if png_path is None else str(png_path)}
    text = (f"{drives.size} x {pulses.size} WERs written to {csv_path}" + (f" and {png_path}" if png_path else "")
            + f"; {resolved.mean():.1%} resolved")
    if not resolved.all():
        text += f", the rest below their floors (largest {result['largest_floor_of_unresolved']:.1g})"
    return result, text


def run_retention(args):
    params, _ = _directions(args)
    cell = _at_temperature(args, params)
    time = args.time if args.time is not None else float(cell.pulse(args.years * SECONDS_PER_YEAR * 1e9))
    estimate = switching_probability_estimate(0.0, time, cell.delta, cell.field)
    fields, text = _value_or_bound(estimate, "failure")
    brown = float(brown_retention_failure(time, cell.delta)) if cell.field == 0 else None
    result = {**_describe(cell), "temperature_kelvin": args.temperature, "time": time,
              "years": time * cell.tau_d_ns * 1e-9 / SECONDS_PER_YEAR, **fields, "brown_closed_form": brown}
    lines = [f"P(flip within {result['years']:.4g} years = {time:.4g} tau_D) = {text} (Fokker-Planck, "
             f"Delta = {cell.delta:.4g})"]
    if brown is not None:
        lines.append(f"Brown's closed form: {brown:.4g} (no flips back: it does not saturate at 1/2)")
    return result, "\n".join(lines)


def run_read_disturb(args):
    params, _ = _directions(args)
    volts, ns = _volts_and_ns(args, params, prefix="read_")
    cell = _at_temperature(args, params)
    reads = args.reads
    if reads != int(reads) or reads < 1:
        raise ValueError(f"--reads must be a positive integer, got {reads:g}")
    drive, pulse = float(cell.drive(volts)), float(cell.pulse(ns))
    estimate = switching_probability_estimate(drive, pulse, cell.delta, cell.field)
    one, text_one = _value_or_bound(estimate, "per_read")
    result = {**_describe(cell), "temperature_kelvin": args.temperature, "read_drive": drive, "read_pulse": pulse,
              "read_volts": volts, "read_ns": ns, "reads": int(reads), **one}
    lines = [f"one read (drive {drive:.4g} V_c, {pulse:.4g} tau_D): P(flip) = {text_one} (Fokker-Planck)"]
    if one["per_read"] is not None:
        total = float(-np.expm1(reads * np.log1p(-one["per_read"])))
        result["total"] = total
        lines.append(f"{int(reads)} reads: P(flip) = {total:.6g}")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ValidityWarning)
            try:
                closed = float(read_disturb_probability(drive, pulse, cell.delta, int(reads), cell.field))
            except (ValidityWarning, ValueError):
                closed = None
        result["total_closed_form"] = closed
        if closed is not None:
            lines.append(f"{int(reads)} reads: {closed:.4g} by the thermal closed form (valid here)")
    return result, "\n".join(lines)


def _count(value, flag):
    if value != int(value) or value < 1:
        raise ValueError(f"{flag} N must be a positive integer, got {value:g}")
    return int(value)


def _write_map_csv(path, drives, pulses, estimate):
    """Long format: drive, pulse, wer (empty when below the floor), error estimate. Written atomically."""
    resolved, values, errors = estimate.resolved, estimate.value, estimate.error
    pulse_text = [f"{pulse:.6g}" for pulse in pulses]
    handle, temp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".csv")
    try:
        with os.fdopen(handle, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["drive_v_over_vc", "pulse_t_over_tau_d", "wer", "wer_error_estimate"])
            for d, drive in enumerate(drives):
                drive_text = f"{drive:.6g}"
                writer.writerows([drive_text, pulse_text[p], f"{values[d, p]:.6e}" if resolved[d, p] else "",
                                  f"{errors[d, p]:.2e}"] for p in range(pulses.size))
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def format_figure5(data):
    """The Figure 5 curves as a text table: pulse (τ_D) per drive and target."""
    lines = ["V/V_c " + " ".join(f"{t:>9.0e}" for t in data.targets)]
    for d in range(0, data.drive.size, 5):
        lines.append(f"{data.drive[d]:5.2f} " + " ".join(f"{p:9.3g}" for p in data.pulse[:, d]))
    return "\n".join(lines)


COMMANDS = {"table1": run_table1, "figure5": run_figure5, "wer": run_wer, "drive": run_drive, "pulse": run_pulse,
            "windows": run_windows, "map": run_map, "retention": run_retention, "read-disturb": run_read_disturb}

if __name__ == "__main__":
    sys.exit(main())
