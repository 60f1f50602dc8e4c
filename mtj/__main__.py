"""Command line: python -m mtj {table1, figure5, wer, drive, pulse} [--json].

Drives are in units of V_c, pulses in units of τ_D, as everywhere in `mtj`.
"""
import argparse
import json
import sys
from dataclasses import asdict

import numpy as np

from .inversion import drive_for_wer, pulse_for_wer
from .paper import figure5, format_table1, table1
from .wer import ConvergenceError, write_error_rate


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mtj", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("table1", help="the paper's Table 1")
    fig = commands.add_parser("figure5", help="the paper's Figure 5: voltage against pulse width per WER target")
    fig.add_argument("--out", help="PNG to write")
    wer = commands.add_parser("wer", help="write error rate at a drive and pulse")
    wer.add_argument("--drive", type=float, required=True, help="V / V_c")
    wer.add_argument("--pulse", type=float, required=True, help="t / tau_D")
    drive = commands.add_parser("drive", help="drive needed for a target WER at a pulse")
    drive.add_argument("--wer", type=float, required=True, help="target write error rate")
    drive.add_argument("--pulse", type=float, required=True, help="t / tau_D")
    pulse = commands.add_parser("pulse", help="pulse needed for a target WER at a drive")
    pulse.add_argument("--wer", type=float, required=True, help="target write error rate")
    pulse.add_argument("--drive", type=float, required=True, help="V / V_c")
    for sub in (fig, wer, drive, pulse, commands.choices["table1"]):
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    for sub in (wer, drive, pulse):
        sub.add_argument("--delta", type=float, default=40.0, help="thermal stability E_b / k_B T (default 40)")
        sub.add_argument("--field", type=float, default=0.0, help="easy-axis field H / H_k (default 0)")
    args = parser.parse_args(argv)
    try:
        result, text = _run(args)
    except (ValueError, ConvergenceError) as error:  # bad input, unreachable target: say why, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else text)
    return 0


def _run(args):
    if args.command == "table1":
        rows = table1()
        return {"rows": [asdict(row) for row in rows]}, format_table1(rows)
    if args.command == "figure5":
        data = figure5()
        if args.out:
            from .plots import plot_figure5  # matplotlib only when drawing
            plot_figure5(data, args.out)
        result = {"targets": list(data.targets), "drive": data.drive.tolist(),
                  "pulse": np.where(np.isnan(data.pulse), None, data.pulse).tolist(),
                  "marked": [asdict(row) for row in data.marked], "out": args.out}
        return result, f"figure 5 written to {args.out}" if args.out else format_figure5(data)
    inputs = {"delta": args.delta, "field": args.field}
    if args.command == "wer":
        value = float(write_error_rate(args.drive, args.pulse, args.delta, args.field))
        return {"drive": args.drive, "pulse": args.pulse, **inputs, "wer": value}, f"WER = {value:.6g}"
    if args.command == "drive":
        value = drive_for_wer(args.wer, args.pulse, args.delta, args.field)
        return {"wer": args.wer, "pulse": args.pulse, **inputs, "drive": value}, f"drive = {value:.6g} V_c"
    value = pulse_for_wer(args.wer, args.drive, args.delta, args.field)
    return {"wer": args.wer, "drive": args.drive, **inputs, "pulse": value}, f"pulse = {value:.6g} tau_D"


def format_figure5(data):
    """The Figure 5 curves as a text table: pulse (τ_D) per drive and target."""
    lines = ["V/V_c " + " ".join(f"{t:>9.0e}" for t in data.targets)]
    for d in range(0, data.drive.size, 5):
        lines.append(f"{data.drive[d]:5.2f} " + " ".join(f"{p:9.3g}" for p in data.pulse[:, d]))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
