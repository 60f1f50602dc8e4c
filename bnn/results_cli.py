"""`python -m bnn results DIR`: tabulate a sweep folder, finished or still training, without writing into it.

    python -m bnn results runs/nin-cifar10-50k                     # one row per run, then the per-BER summary
    python -m bnn results runs/nin-cifar10-50k --csv live.csv      # the rows as CSV (written atomically)
    python -m bnn results runs/nin-cifar10-50k --json              # rows and summary as JSON on stdout
    python -m bnn results runs/nin-cifar10-50k --per-epoch         # and each run's test accuracy after every epoch

One row per started run (bnn.results.run_rows), columns RESULT_COLUMNS: ber, repeat, seed, epochs (planned),
epochs_done, final_test_accuracy (a finished run's final one; an unfinished run's last epoch so far),
best_test_accuracy (so far) and seconds (so far). Accuracies are fractions in the CSV and the JSON, percent in the
text table; an unfinished run that has not ended an epoch has no accuracy (an empty CSV field, JSON null). The summary
per BER (mean, sample std, min, max of the final test accuracy) counts finished runs only.

DIR is only read (no lock taken, no file written): the sweep training into it, of whatever version, owns
DIR/results.csv and DIR/results.h5, so --csv refuses those two paths.
"""
import json
import sys
from pathlib import Path

from .checkpoint import write_atomic
from .results import csv_text, read_reference, run_rows, summarize, summary_table, test_accuracy_per_epoch


def _percent(value):
    return "-" if value is None else f"{100 * value:.2f}"


def rows_table(rows):
    """Text table of run rows: BER, repeat, seed, epochs done / planned, last and best test accuracy (%), seconds."""
    lines = [f"{'BER':>8} {'rep':>3} {'seed':>20} {'epochs':>7} {'last %':>7} {'best %':>7} {'seconds':>9}  status"]
    for row in rows:
        epochs = f"{row['epochs_done']}/{'?' if row['epochs'] is None else row['epochs']}"
        seed = "?" if row["seed"] is None else row["seed"]
        lines.append(f"{row['ber']:8g} {row['repeat']:3d} {seed:>20} {epochs:>7} "
                     f"{_percent(row['final_test_accuracy']):>7} {_percent(row['best_test_accuracy']):>7} "
                     f"{row['seconds']:9.1f}  {'finished' if row['finished'] else 'unfinished'}")
    return "\n".join(lines)


def per_epoch_table(rows, curves):
    """Markdown table: one line per run (BER, repeat, seed, epochs done) with its test accuracy (%) after every
    epoch; `curves` as bnn.results.test_accuracy_per_epoch."""
    lines = ["| BER | repeat | seed | epochs | test accuracy after each epoch (%) |", "|---|---|---|---|---|"]
    for row in rows:
        per_epoch = " / ".join(f"{100 * a:.2f}" for a in curves.get((row["ber"], row["repeat"]), []))
        lines.append(f"| {row['ber']:g} | {row['repeat']} | {row['seed']} | {row['epochs_done']}/{row['epochs']} "
                     f"| {per_epoch or '-'} |")
    return "\n".join(lines)


def summary_rows(rows):
    """Per BER over the finished rows: dicts of ber, runs, mean, std (ddof = 1; 0 for one run), min, max of the final
    test accuracy (fractions), BERs ascending."""
    by_ber = {}
    for row in rows:
        if row["finished"]:
            by_ber.setdefault(row["ber"], []).append(row["final_test_accuracy"])
    return [{"ber": float(ber), "runs": int(count), "mean": float(mean), "std": float(std),
             "min": min(by_ber[ber]), "max": max(by_ber[ber])}
            for ber, mean, std, count in zip(*summarize(by_ber))]


def write_rows_csv(path, rows, out_dir):
    """Write the rows to `path` as CSV (RESULT_COLUMNS), atomically; refuses the sweep's own results files."""
    path = Path(path)
    owned = {(Path(out_dir) / name).resolve() for name in ("results.csv", "results.h5")}
    if path.resolve() in owned:
        raise ValueError(f"--csv {path} is the sweep's own results file, which its sweep rewrites; expected a path "
                         f"other than {' and '.join(sorted(map(str, owned)))}")
    text = csv_text(rows)
    write_atomic(path, lambda tmp: tmp.write_text(text))
    return path


def add_results_arguments(parser):
    """Add the `results` subcommand's arguments to an argparse parser."""
    parser.description = ("One row per run of a sweep folder, finished or still training (from each run's "
                          "metrics.csv), and the per-BER summary of the finished runs. Reads DIR only.")
    parser.add_argument("dir", metavar="DIR", help="sweep folder (holding runs/ber=*/rep=*)")
    parser.add_argument("--csv", metavar="PATH", help="also write the rows to PATH (atomically) as CSV with the "
                                                      "columns of results.csv; accuracies as fractions")
    parser.add_argument("--json", action="store_true", help="print rows and summary as JSON instead of tables")
    parser.add_argument("--reference", metavar="CSV",
                        help="another implementation's accuracies (columns ber,test_accuracy) to show beside the "
                             "per-BER summary, with the difference")
    parser.add_argument("--markdown", action="store_true", help="the per-BER summary as a Markdown table")
    parser.add_argument("--per-epoch", action="store_true",
                        help="also print every run's test accuracy after each epoch (a Markdown table; in the JSON, "
                             "each run gets a test_accuracy_per_epoch list)")


def run_results_from_args(args, out=None):
    """Print (and with --csv write) the table the parsed `results` arguments ask for; returns the rows."""
    out = out or sys.stdout
    rows = run_rows(args.dir)
    if not rows:
        raise FileNotFoundError(f"no started run under {Path(args.dir) / 'runs'} (expected folders "
                                f"ber=<b>/rep=<r> holding a config.json)")
    if args.csv:
        write_rows_csv(args.csv, rows, args.dir)
    finished = [row for row in rows if row["finished"]]
    curves = test_accuracy_per_epoch(args.dir) if args.per_epoch else {}
    if args.json:
        runs = [{**row, "test_accuracy_per_epoch": curves.get((row["ber"], row["repeat"]), [])} if args.per_epoch
                else row for row in rows]
        print(json.dumps({"runs": runs, "summary": summary_rows(rows)}, indent=1), file=out)
        return rows
    print(rows_table(rows), file=out)
    print(f"\n{len(finished)} of {len(rows)} started runs finished; final test accuracy of the finished runs per BER:",
          file=out)
    reference = read_reference(args.reference) if args.reference else None
    print(summary_table(finished, reference, args.markdown) if finished else "(none yet)", file=out)
    if args.per_epoch:
        print("\n" + per_epoch_table(rows, curves), file=out)
    if args.csv:
        print(f"\nrows written to {args.csv}", file=out)
    return rows
