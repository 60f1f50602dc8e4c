"""The results of a BER sweep: what its folder holds, how runs become rows, and the tables built from them.

Folder layout of a sweep into DIR (written by bnn.sweep, read here):

    DIR/runs/ber=<b>/rep=<r>/    one run; <b> is repr(float(ber)) (exact, so distinct rates never share a folder)
        config.json              the run's full training config, written before training starts
        result.json              written atomically when the run has finished: its row, per-epoch history, config
        .lock                    fcntl lock held by the process training the run
        metrics.csv              the trainer's per-epoch rows (bnn.train.METRIC_COLUMNS), rewritten after each epoch
        (plus the trainer's checkpoint, from which an interrupted run resumes)
    DIR/results.csv              one row per finished run (RESULT_COLUMNS), rebuilt from every result.json
    DIR/results.h5               the same rows, plus per-run groups with per-epoch history, config and package version
    DIR/results.lock             serializes the rebuilds of results.csv / results.h5

A *record* is a finished run: the dict of result.json (RESULT_COLUMNS, 'ber_index', 'package_version', 'config',
'history'). A *row* is any run with a config.json, finished or not (`run_rows`): RESULT_COLUMNS plus 'finished';
an unfinished run's row comes from its metrics.csv (the epochs done so far, the last and best test accuracy so far,
the seconds so far), so a sweep folder can be tabulated while its sweep is still training. Accuracies are fractions.
"""
import csv
import fcntl
import io
import json
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from .checkpoint import write_atomic

RESULT_COLUMNS = ("ber", "repeat", "seed", "epochs", "epochs_done", "final_test_accuracy", "best_test_accuracy",
                  "seconds")
INTEGER_COLUMNS = ("repeat", "seed", "epochs", "epochs_done")
METRICS = ("final_test_accuracy", "best_test_accuracy")


def run_dir(out_dir, ber, repeat):
    """DIR/runs/ber=<repr(ber)>/rep=<repeat>."""
    return Path(out_dir) / "runs" / f"ber={float(ber)!r}" / f"rep={int(repeat)}"


def run_folders(out_dir):
    """[(ber, repeat, folder)] of every run folder under DIR/runs, sorted by (ber, repeat)."""
    found = []
    for folder in Path(out_dir).glob("runs/ber=*/rep=*"):
        try:
            found.append((float(folder.parent.name[len("ber="):]), int(folder.name[len("rep="):]), folder))
        except ValueError:
            continue    # not a run folder of this layout (e.g. "ber=old"): not ours to read
    return sorted(found, key=lambda item: item[:2])


# ---------------------------------------------------------------------------------------------------------------
# Files: atomic writes, locks, the package version recorded with every result.

def write_text_atomic(path, text):
    write_atomic(path, lambda tmp: tmp.write_text(text))


@contextmanager
def locked(path, blocking=True):
    """Hold an exclusive flock on `path` (created if missing); yields False instead if busy and not blocking."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def package_version():
    """The installed xnor-mram version, else the one in setup.cfg beside the package, else 'unknown'."""
    from importlib import metadata
    try:
        return metadata.version("xnor-mram")
    except metadata.PackageNotFoundError:
        import configparser
        cfg = configparser.ConfigParser()
        cfg.read(Path(__file__).resolve().parents[1] / "setup.cfg")
        return cfg.get("metadata", "version", fallback="unknown")


# ---------------------------------------------------------------------------------------------------------------
# Records (finished runs) and rows (every started run).

def epochs_done(history):
    """Epochs a run has trained, from its per-epoch rows (the last row's 'epoch', 1-based; else their count)."""
    return int(history[-1].get("epoch", len(history))) if history else 0


def planned_epochs(config, default=None):
    """The number of epochs a run's config plans (its 'epochs' field), else `default`."""
    epochs = config.get("epochs") if isinstance(config, dict) else None
    return int(epochs) if isinstance(epochs, int) and not isinstance(epochs, bool) else default


def read_record(path):
    """The record of a result.json. A file without 'epochs' / 'epochs_done' (as a sweep of an older version writes
    them) gets them from its config and history, so every record has all RESULT_COLUMNS."""
    record = json.loads(Path(path).read_text())
    record.setdefault("epochs_done", epochs_done(record["history"]))
    record.setdefault("epochs", planned_epochs(record["config"], record["epochs_done"]))
    return record


def finished_records(out_dir):
    """Every result.json under DIR/runs, sorted by (ber, repeat)."""
    return [read_record(folder / "result.json") for _, _, folder in run_folders(out_dir)
            if (folder / "result.json").exists()]


def unfinished_row(ber, repeat, folder):
    """The row of a started run from its config.json and metrics.csv (None without config.json: not started).

    Accuracies are the last and the best epoch's test accuracy so far, None before the first epoch has ended."""
    if not (folder / "config.json").exists():
        return None
    config = json.loads((folder / "config.json").read_text())
    history = []
    if (folder / "metrics.csv").exists():      # rewritten whole (atomically) after each epoch: never half a row
        with open(folder / "metrics.csv", newline="") as f:
            history = [{k: _number(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(f)]
    accuracies = [row["test_accuracy"] for row in history if "test_accuracy" in row]
    return {"ber": ber, "repeat": repeat, "seed": config.get("seed"), "epochs": planned_epochs(config),
            "epochs_done": epochs_done(history), "final_test_accuracy": accuracies[-1] if accuracies else None,
            "best_test_accuracy": max(accuracies) if accuracies else None,
            "seconds": float(sum(row.get("seconds", 0.0) for row in history)), "finished": False}


def test_accuracy_per_epoch(out_dir):
    """{(ber, repeat): [test accuracy after epoch 1, 2, ...]} of every run under DIR/runs that has ended an epoch,
    from its metrics.csv (finished or not); reads only."""
    curves = {}
    for ber, repeat, folder in run_folders(out_dir):
        if (folder / "metrics.csv").exists():
            with open(folder / "metrics.csv", newline="") as f:
                accuracies = [float(row["test_accuracy"]) for row in csv.DictReader(f)]
            if accuracies:
                curves[ber, repeat] = accuracies
    return curves


def _number(text):
    try:
        return float(text)
    except ValueError:
        return text


def run_rows(out_dir):
    """One row per started run under DIR/runs (finished or not), sorted by (ber, repeat); reads only.

    A row has RESULT_COLUMNS and 'finished'; see the module docstring. Folders without config.json are skipped."""
    rows = []
    for ber, repeat, folder in run_folders(out_dir):
        if (folder / "result.json").exists():
            record = read_record(folder / "result.json")
            rows.append({**{c: record[c] for c in RESULT_COLUMNS}, "finished": True})
        else:
            row = unfinished_row(ber, repeat, folder)
            if row is not None:
                rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------------------------
# results.csv and results.h5.

def csv_text(rows):
    """The rows as CSV text with RESULT_COLUMNS: floats as repr (exact round trip), None as an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else repr(row[c]) if isinstance(row[c], float) else row[c]
                         for c in RESULT_COLUMNS])
    return buffer.getvalue()


def _column_array(values):
    """int64 for whole numbers, float64 for other numbers, UTF-8 strings otherwise."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.float64)
    return np.asarray([str(v) for v in values], dtype=h5py.string_dtype())


def _write_h5(path, records):
    with h5py.File(path, "w") as f:
        f.attrs["package_version"] = package_version()
        f.attrs["columns"] = json.dumps(RESULT_COLUMNS)
        for column in RESULT_COLUMNS:  # the results.csv table, one dataset per column
            f.create_dataset(column, data=np.array([rec[column] for rec in records],
                                                   dtype=np.int64 if column in INTEGER_COLUMNS else np.float64))
        for rec in records:
            group = f.create_group(f"runs/ber={float(rec['ber'])!r}/rep={rec['repeat']}")
            for key in (*RESULT_COLUMNS, "ber_index", "package_version"):
                group.attrs[key] = rec[key]
            group.attrs["config"] = json.dumps(rec["config"])
            history = group.create_group("history")  # one dataset per metrics.csv column, one entry per epoch
            for key in rec["history"][0] if rec["history"] else ():
                values = [row[key] for row in rec["history"]]
                history.create_dataset(key, data=_column_array(values))


def collect_results(out_dir):
    """Rebuild DIR/results.csv and DIR/results.h5 from every finished run (under DIR/results.lock); returns the
    records, sorted by (ber, repeat)."""
    out_dir = Path(out_dir)
    with locked(out_dir / "results.lock"):
        records = finished_records(out_dir)
        write_text_atomic(out_dir / "results.csv", csv_text(records))
        write_atomic(out_dir / "results.h5", lambda tmp: _write_h5(tmp, records))
    return records


def read_results(out_dir, metric="final_test_accuracy"):
    """{ber: array of `metric` over the finished runs}, BERs ascending, from DIR/results.csv (of any version: the
    columns are found by name)."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    path = Path(out_dir) / "results.csv"
    if not path.exists():
        raise FileNotFoundError(f"no sweep results at {path}: run `python -m bnn sweep --out {out_dir}` first")
    by_ber = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            by_ber.setdefault(float(row["ber"]), []).append(float(row[metric]))
    if not by_ber:
        raise ValueError(f"{path} holds no finished runs yet")
    return {ber: np.array(by_ber[ber]) for ber in sorted(by_ber)}


# ---------------------------------------------------------------------------------------------------------------
# Statistics and text tables.

def summarize(results):
    """(bers, means, stds, counts) arrays of shape (B,) from {ber: array of values over repeats}, BERs ascending.

    std is the sample standard deviation (ddof = 1), 0 where a BER has a single run.
    """
    bers = np.array(sorted(results))
    means = np.array([np.mean(results[b]) for b in bers])
    stds = np.array([np.std(results[b], ddof=1) if len(results[b]) > 1 else 0.0 for b in bers])
    counts = np.array([len(results[b]) for b in bers])
    return bers, means, stds, counts


def summary_table(records, reference=None, markdown=False):
    """Table of final test accuracy (percent) per BER: runs, mean, std, min, max; with `reference` ({ber: accuracy
    as a fraction}, e.g. from `read_reference`) also the reference and the difference mean - reference in points.
    markdown: a Markdown table instead of aligned text."""
    by_ber = {}
    for rec in records:
        by_ber.setdefault(rec["ber"], []).append(100.0 * rec["final_test_accuracy"])
    head = ["BER", "runs", "mean %", "std", "min", "max"] + (["reference %", "difference"] if reference else [])
    rows = []
    for ber, mean, std, count in zip(*summarize(by_ber)):
        row = [f"{ber:g}", f"{count:d}", f"{mean:.2f}", f"{std:.2f}", f"{min(by_ber[ber]):.2f}",
               f"{max(by_ber[ber]):.2f}"]
        if reference:
            peer = reference.get(float(ber))
            row += ["-", "-"] if peer is None else [f"{100 * peer:.2f}", f"{mean - 100 * peer:+.2f}"]
        rows.append(row)
    if markdown:
        return "\n".join("| " + " | ".join(row) + " |" for row in [head, ["---"] * len(head)] + rows)
    widths = [max(8 if i == 0 else 4, *(len(row[i]) for row in [head] + rows)) for i in range(len(head))]
    return "\n".join(" ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in [head] + rows)


def read_reference(path):
    """{ber: test accuracy (fraction)} from a CSV with columns `ber` and `test_accuracy`: another implementation's
    results to compare with (lines starting with # are comments)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(row for row in f if not row.startswith("#")))
    if not rows or not {"ber", "test_accuracy"} <= set(rows[0]):
        raise ValueError(f"{path}: expected a CSV with columns ber,test_accuracy (lines starting with # are "
                         f"comments), got {list(rows[0]) if rows else 'no rows'}")
    try:
        return {float(row["ber"]): float(row["test_accuracy"]) for row in rows}
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
