"""One run of a BER sweep, as a worker executes it: lock the run folder, skip or resume, train, write result.json.

A run is trained only under the exclusive fcntl lock of its folder's .lock file, so two sweeps started into one
folder never train a run twice; the kernel releases the lock when a process dies, so a killed sweep leaves no stale
lock (on a cluster the folder must be on a shared filesystem whose flock works across machines). config.json is
written before training and result.json atomically after it; a rerun skips a run with a result.json and resumes one
with only a config.json (the trainer resumes from its checkpoint), after checking that the folder holds this very
run (same seed, same config), never another sweep's.

What the sweep knows about the training engine (bnn.train) is in `default_trainer` and `run_summary`: a trainer is
any picklable `trainer(config, out_dir, resume=True)` returning an object with final_test_accuracy,
best_test_accuracy, seconds and history (one dict per epoch, accuracies as fractions); a run's config has
`epochs`, its planned epochs (the progress lines' ETA counts epochs).
"""
import csv
import dataclasses
import functools
import gc
import json
from pathlib import Path

from . import interrupt
from .results import (epochs_done, locked, package_version, planned_epochs, read_record, unfinished_row,
                      write_text_atomic)


def default_trainer(data_root=None, progress=False):
    """The engine's `train(config, out_dir, resume=...)` reading data from `data_root` (None: its default), printing
    one line per epoch that starts with the run's folder (`ber=0.01/rep=0`); progress: also a tqdm bar per epoch
    (for runs in the process that owns the terminal)."""
    return functools.partial(train_logging_epochs, data_root=None if data_root is None else str(data_root),
                             progress=progress)


def train_logging_epochs(config, out_dir, resume, data_root=None, progress=False):
    """bnn.train.train with a per-epoch log line prefixed by the run (a module-level function: workers unpickle it)."""
    from .train import train
    run = f"{Path(out_dir).parent.name}/{Path(out_dir).name}"
    return train(config, out_dir, resume=resume, data_root=data_root, progress=progress,
                 log=lambda line: print(f"[{run}] {line}", flush=True))


def run_summary(outcome):
    """(final_test_accuracy, best_test_accuracy, seconds, history) of a TrainResult.

    history: list of per-epoch dicts of numbers (the rows of metrics.csv); accuracies are fractions.
    """
    return (float(outcome.final_test_accuracy), float(outcome.best_test_accuracy), float(outcome.seconds),
            [dict(row) for row in outcome.history])


def config_record(config):
    """The config as plain JSON data (dicts, lists, numbers, strings): what config.json and result.json hold."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """status: 'ran' (trained now), 'skipped' (finished before), or 'busy' (another process holds the run)."""
    status: str
    record: dict | None


def set_numba_threads(threads):
    """Let Numba's parallel loops started from the calling thread use at most `threads` threads."""
    import numba
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def _check_same(spec, what, found, expected):
    if found != expected:
        raise ValueError(f"{spec.directory} holds a run with a different {what} than this sweep plans "
                         f"(found {found!r}, expected {expected!r}); use another output folder")


def read_result(spec):
    """The finished run's record from result.json, or None if it has not finished. Raises if it is another run's."""
    path = spec.directory / "result.json"
    if not path.exists():
        return None
    record = read_record(path)
    _check_same(spec, "seed", record["seed"], spec.seed)
    _check_same(spec, "config", record["config"], config_record(spec.config))
    return record


def epochs_left(spec):
    """Epochs the run has still to train: none once it has a result.json, else its planned epochs less those its
    folder's metrics.csv records (a resumed run continues after them)."""
    if (spec.directory / "result.json").exists():
        return 0
    try:
        row = unfinished_row(spec.ber, spec.repeat, spec.directory)
    except (OSError, ValueError, ArithmeticError, csv.Error):   # a damaged folder fails its own run, not the sweep
        row = None
    return max(spec.config.epochs - (row["epochs_done"] if row else 0), 0)


def execute_run(spec, trainer, threads, wait=False):
    """Train one run unless it is finished or busy; returns a RunOutcome. Resumes from the trainer's checkpoint.

    wait: block until another process holding the run releases it (then read its result) instead of returning 'busy'.
    Raises bnn.interrupt.Interrupted if the sweep is stopping (before the run starts, or from the trainer).
    """
    interrupt.check("before it started")
    set_numba_threads(threads)
    spec.directory.mkdir(parents=True, exist_ok=True)
    with locked(spec.directory / ".lock", blocking=wait) as got_lock:
        if not got_lock:
            return RunOutcome("busy", None)
        record = read_result(spec)
        if record is not None:
            return RunOutcome("skipped", record)
        config = config_record(spec.config)
        config_path = spec.directory / "config.json"
        if config_path.exists():  # an interrupted run: resume only if it is the same run
            try:
                found = json.loads(config_path.read_text())
            except ValueError as error:   # config.json is written atomically: damaged by something else
                raise ValueError(f"{config_path} is not valid JSON ({error}); it should hold the run's config. "
                                 "Delete the run folder to train this run from scratch") from error
            _check_same(spec, "config", found, config)
        else:
            write_text_atomic(config_path, json.dumps(config, indent=2))
        final, best, seconds, history = run_summary(trainer(spec.config, spec.directory, resume=True))
        # A finished run leaves 50-130 MiB in reference cycles (its model, the learning-curve figure) that Python's
        # full collection reaches rarely: without this, a long in-process sweep grows from 375 to 1000 MiB
        # (benchmarks/stress_sweep.py; flat at ~255 MiB with it).
        gc.collect()
        done = epochs_done(history)
        record = {"ber": spec.ber, "repeat": spec.repeat, "seed": spec.seed, "epochs": planned_epochs(config, done),
                  "epochs_done": done, "final_test_accuracy": final, "best_test_accuracy": best, "seconds": seconds,
                  "ber_index": spec.ber_index, "package_version": package_version(), "config": config,
                  "history": history}
        write_text_atomic(spec.directory / "result.json", json.dumps(record, indent=1))
        return RunOutcome("ran", record)
