"""BER sweeps: one independent training run per (bit error rate, repeat), in parallel, resumable, shareable.

A sweep trains the same base config once per (BER, repeat) pair, each run with the training-time BER replaced and its
own seed, and collects the results. Runs are tested without errors (the error config's default).

    python -m bnn sweep --model lenet4 --ber 0 0.001 0.01 0.02 0.05 0.1 0.2 --repeats 3 --epochs 5 --out DIR
    python -m bnn sweep --config sweep.toml          # the same as a file: see EXAMPLE_TOML
    python -m bnn plot DIR                           # DIR/ber_accuracy.png and .svg (bnn.sweep_plot)

Folder layout of a sweep into DIR:

    DIR/runs/ber=<b>/rep=<r>/    one run; <b> is repr(float(ber)) (exact, so distinct rates never share a folder)
        config.json              the run's full training config, written before training starts
        result.json              written atomically when the run has finished: summary row, per-epoch history, config
        .lock                    fcntl lock held by the process training the run
        (plus whatever the trainer writes: metrics.csv and its checkpoint, from which an interrupted run resumes)
    DIR/results.csv              one row per finished run (RESULT_COLUMNS), rebuilt from every result.json
    DIR/results.h5               the same rows, plus per-run groups with per-epoch history, config and package version
    DIR/results.lock             serializes the rebuilds of results.csv / results.h5

Seeds. Run (BER index i, repeat r) of a sweep with base seed s trains with the integer

    SeedSequence(s, spawn_key=(i, r)).generate_state(1, uint64)[0] >> 1     (63 bits, fits int64)

which is the state of `SeedSequence(s).spawn(...)[i].spawn(...)[r]`: independent streams for every run, reproducible
from (s, i, r) alone, and unchanged when repeats are added or BERs appended to the list. The index is the position
in the sweep's BER list, so reordering the list changes the seeds; a rerun that would give an existing finished or
started run a different seed or config raises instead of mixing two sweeps in one folder.

Rerunning a sweep skips finished runs and resumes interrupted ones (the trainer resumes from its checkpoint).
Two sweeps started into one folder never train a run twice: a run is trained only under its exclusive lock, a sweep
that finds a run locked comes back to it after its other runs and waits for the lock, then reads the result. Locks
are released by the kernel when a process dies, so a killed sweep leaves no stale lock. (On a cluster, DIR must be on
a shared filesystem whose flock works across machines.)

Parallelism. Locally a process pool ("spawn": fresh interpreters, no forked Numba thread pools) of `workers`
processes, started with NUMBA_NUM_THREADS = `threads` and OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS = 1
in their environment (the engine's parallel work runs on Numba's threads and its batch pool; a multi-threaded BLAS
under the pool would oversubscribe the cores); by default workers x threads <= cores. With
`scheduler` (a Dask distributed address or Client) runs are Dask tasks. Every run also calls
`numba.set_num_threads(threads)` (default 1 on Dask: give Dask workers one thread per core).
"""
import argparse
import csv
import dataclasses
import fcntl
import functools
import gc
import io
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

import h5py
import numpy as np

from .checkpoint import write_atomic

RESULT_COLUMNS = ("ber", "repeat", "seed", "final_test_accuracy", "best_test_accuracy", "seconds")
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
THREAD_VARIABLES = ("NUMBA_NUM_THREADS",) + BLAS_THREAD_VARIABLES


# ---------------------------------------------------------------------------------------------------------------
# What the sweep knows about the training engine (bnn.train): these functions and nothing else.

def run_config(base, ber, seed):
    """The training config of one run: `base` (a TrainConfig) with its seed and its training-time BER replaced.

    The only place that knows which config fields a sweep varies. Raises ValueError if the base's error config has
    rates that would override `errors.ber` (per-direction, per-layer or scheduled), since the sweep would not vary them.
    """
    errors = base.errors
    overriding = {name: getattr(errors, name) for name in ("ber_pos_to_neg", "ber_neg_to_pos", "layer_bers")
                  if getattr(errors, name) is not None}
    if errors.schedule:
        overriding["schedule"] = errors.schedule
    if overriding:
        raise ValueError(f"a BER sweep sets errors.ber, but the base config's errors also set {overriding}, "
                         f"which would override it; expected none of them")
    return dataclasses.replace(base, seed=seed, errors=dataclasses.replace(errors, ber=ber))


def base_config(train_table, source=None):
    """The sweep's base TrainConfig from a [train] table / flags dict: the model's recipe (the reference one, or the
    CPU one if `quick` is true; its lr schedule scaled to `epochs`), then every other key as a TrainConfig field
    ("errors" as a table of ErrorConfig fields).

    source: where the table came from (e.g. "the [train] table of sweep.toml"); a bad key or value is then a
    ValueError that says so as well (the message alone names only the key and the value).
    """
    try:
        return _base_config(train_table)
    except (ValueError, TypeError) as error:
        if source is None:
            raise
        raise ValueError(f"in {source}: {error}") from error


def _base_config(train_table):
    from bnn.train import TrainConfig
    table = dict(train_table)
    recipe = TrainConfig.recipe(table.pop("model", "lenet4"), epochs=table.pop("epochs", None),
                                quick=table.pop("quick", False))
    errors = table.get("errors", {})
    if "seed" in table or isinstance(errors, dict) and "ber" in errors:   # a non-table is from_dict's to name
        raise ValueError("a sweep sets every run's seed and errors.ber itself: give the base seed as the sweep's "
                         f"`seed` and the rates as its `ber` list, not in the training config {train_table}")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(table) - fields)
    if unknown:
        raise ValueError(f"unknown training config keys {unknown}; expected some of {sorted(fields | {'quick'})}")
    return TrainConfig.from_dict({**recipe.to_dict(), **table})


def default_trainer(data_root=None):
    """The engine's `train(config, out_dir, resume=...)` reading data from `data_root` (None: its default), printing
    one line per epoch that starts with the run's folder (`ber=0.01/rep=0`)."""
    return functools.partial(train_logging_epochs, data_root=None if data_root is None else str(data_root))


def train_logging_epochs(config, out_dir, resume, data_root=None):
    """bnn.train.train with a per-epoch log line prefixed by the run (a module-level function: workers unpickle it)."""
    from bnn.train import train
    run = f"{Path(out_dir).parent.name}/{Path(out_dir).name}"
    return train(config, out_dir, resume=resume, data_root=data_root,
                 log=lambda line: print(f"[{run}] {line}", flush=True))


def run_summary(outcome):
    """(final_test_accuracy, best_test_accuracy, seconds, history) of a TrainResult.

    history: list of per-epoch dicts of numbers (the rows of metrics.csv); accuracies are fractions.
    """
    return (float(outcome.final_test_accuracy), float(outcome.best_test_accuracy), float(outcome.seconds),
            [dict(row) for row in outcome.history])


# ---------------------------------------------------------------------------------------------------------------
# Planning: which runs, which seeds, which folders.

def run_seed(base_seed, ber_index, repeat):
    """The seed of run (ber_index, repeat): see the module docstring. Returns a non-negative int < 2**63."""
    for name, value in (("base_seed", base_seed), ("ber_index", ber_index), ("repeat", repeat)):
        if int(value) != value or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    state = np.random.SeedSequence(int(base_seed), spawn_key=(int(ber_index), int(repeat))).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def run_dir(out_dir, ber, repeat):
    """DIR/runs/ber=<repr(ber)>/rep=<repeat>."""
    return Path(out_dir) / "runs" / f"ber={float(ber)!r}" / f"rep={int(repeat)}"


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One planned run: everything a worker needs (picklable)."""
    ber_index: int
    ber: float
    repeat: int
    seed: int
    config: object
    directory: Path

    @property
    def label(self):
        return f"ber={self.ber:g} rep={self.repeat}"


def check_bers(bers):
    """The BER list as floats; raises ValueError unless it is non-empty, duplicate-free and within [0, 1]."""
    bers = [float(b) for b in bers]
    if not bers:
        raise ValueError("a sweep needs at least one BER, got an empty list")
    for b in bers:
        if not 0.0 <= b <= 1.0:
            raise ValueError(f"every BER must be a probability in [0, 1], got {b}")
    if len(set(bers)) != len(bers):
        raise ValueError(f"BERs must be distinct, got {bers}")
    return bers


def whole_number(name, value, minimum):
    """`value` as an int, or a ValueError naming it unless it is a whole number >= minimum (a TOML 1e400 is inf)."""
    whole = isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer())
    if not whole or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def repeats_per_ber(repeats, bers):
    """`repeats` (one whole number for every BER, or a list of one per BER) as a list of ints, one per BER."""
    if isinstance(repeats, (list, tuple)):
        if len(repeats) == 1:
            repeats = repeats[0]
        elif len(repeats) != len(bers):
            raise ValueError(f"repeats must be one number or one per BER ({len(bers)}), got {len(repeats)}: "
                             f"{list(repeats)}")
        else:
            return [whole_number("repeats", r, 1) for r in repeats]
    return [whole_number("repeats", repeats, 1)] * len(bers)


def plan(base_config, bers, repeats, out_dir, seed=0, make_config=run_config):
    """The list of RunSpecs of a sweep, repeat-major: the first repeat of every BER, then the second, ...

    repeats: runs per BER, one number for all or a list with one per BER. Repeat-major order means a sweep cut short
    (or whose runs take hours) has a whole accuracy-vs-BER curve before it has a second run of any BER.
    """
    bers = check_bers(bers)
    counts, seed = repeats_per_ber(repeats, bers), whole_number("seed", seed, 0)
    specs = []
    for r in range(max(counts)):
        for i, ber in enumerate(bers):
            if r < counts[i]:
                s = run_seed(seed, i, r)
                specs.append(RunSpec(i, ber, r, s, make_config(base_config, ber, s), run_dir(out_dir, ber, r)))
    return specs


# ---------------------------------------------------------------------------------------------------------------
# Files: atomic writes and locks.

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


def config_record(config):
    """The config as plain JSON data (dicts, lists, numbers, strings)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


# ---------------------------------------------------------------------------------------------------------------
# One run, executed in a worker.

@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """status: 'ran' (trained now), 'skipped' (finished before), or 'busy' (another process holds the run)."""
    status: str
    record: dict | None


@contextmanager
def thread_environment(threads):
    """Set Numba's thread count to `threads` and BLAS/OpenMP's to 1 for processes started inside the block (spawned
    workers read them before importing NumPy or Numba); the caller's values are restored afterwards."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({"NUMBA_NUM_THREADS": str(threads), **{name: "1" for name in BLAS_THREAD_VARIABLES}})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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
    record = json.loads(path.read_text())
    _check_same(spec, "seed", record["seed"], spec.seed)
    _check_same(spec, "config", record["config"], config_record(spec.config))
    return record


def execute_run(spec, trainer, threads, wait=False):
    """Train one run unless it is finished or busy; returns a RunOutcome. Resumes from the trainer's checkpoint.

    wait: block until another process holding the run releases it (then read its result) instead of returning 'busy'.
    """
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
            _check_same(spec, "config", json.loads(config_path.read_text()), config)
        else:
            write_text_atomic(config_path, json.dumps(config, indent=2))
        final, best, seconds, history = run_summary(trainer(spec.config, spec.directory, resume=True))
        # A finished run leaves 50-130 MiB in reference cycles (its model, the learning-curve figure) that Python's
        # full collection reaches rarely: without this, a long in-process sweep grew from 375 to 1000 MiB
        # (benchmarks/stress_sweep.py; flat at ~255 MiB with it).
        gc.collect()
        record = {"ber": spec.ber, "repeat": spec.repeat, "seed": spec.seed, "final_test_accuracy": final,
                  "best_test_accuracy": best, "seconds": seconds, "ber_index": spec.ber_index,
                  "package_version": package_version(), "config": config, "history": history}
        write_text_atomic(spec.directory / "result.json", json.dumps(record, indent=1))
        return RunOutcome("ran", record)


# ---------------------------------------------------------------------------------------------------------------
# Collecting: results.csv and results.h5 from every finished run in the folder.

def finished_records(out_dir):
    """Every result.json under DIR/runs, sorted by (ber, repeat)."""
    records = [json.loads(p.read_text()) for p in Path(out_dir).glob("runs/ber=*/rep=*/result.json")]
    return sorted(records, key=lambda rec: (rec["ber"], rec["repeat"]))


def _csv_text(records):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for rec in records:
        writer.writerow([repr(rec[c]) if isinstance(rec[c], float) else rec[c] for c in RESULT_COLUMNS])
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
                                                   dtype=np.int64 if column in ("repeat", "seed") else np.float64))
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
    records (dicts with RESULT_COLUMNS, 'ber_index', 'package_version', 'config', 'history')."""
    out_dir = Path(out_dir)
    with locked(out_dir / "results.lock"):
        records = finished_records(out_dir)
        write_text_atomic(out_dir / "results.csv", _csv_text(records))
        write_atomic(out_dir / "results.h5", lambda tmp: _write_h5(tmp, records))
    return records


# ---------------------------------------------------------------------------------------------------------------
# Orchestration.

def available_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def local_parallelism(runs, workers, threads, cores):
    """(workers, threads per worker) for `runs` local runs on `cores` cores; None picks the default.

    Default workers: min(runs, cores), so no more processes than runs; default threads: cores // workers (at least 1),
    so workers x threads <= cores whenever workers <= cores. workers == 0 means "in this process" and gets all cores.
    """
    workers = whole_number("workers", min(runs, cores) if workers is None else workers, 0)
    threads = whole_number("threads", max(1, cores // max(workers, 1)) if threads is None else threads, 1)
    return workers, threads


class Progress:
    """Prints one line per finished run: counts, the run's accuracies and time, elapsed time and ETA."""

    def __init__(self, total, log):
        self.total, self.log = total, log
        self.done = self.trained = 0
        self.start = time.perf_counter()

    def update(self, spec, outcome):
        self.done += 1
        rec = outcome.record
        width = len(str(self.total))
        head = f"[{self.done:{width}d}/{self.total}] {spec.label}"
        if outcome.status == "skipped":
            self.log(f"{head}: already finished, test accuracy {rec['final_test_accuracy']:.4f}")
            return
        from .train import format_seconds
        self.trained += 1
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.trained * (self.total - self.done)
        self.log(f"{head}: test accuracy {rec['final_test_accuracy']:.4f} (best {rec['best_test_accuracy']:.4f}), "
                 f"{rec['seconds']:.1f} s | elapsed {format_seconds(elapsed)}, ETA {format_seconds(eta)}")

    def failed(self, spec, error):
        self.done += 1
        self.log(f"[{self.done}/{self.total}] {spec.label}: FAILED: {type(error).__name__}: {error}")


def _local_outcomes(specs, trainer, workers, threads, wait):
    """Yield (spec, future) as runs complete in a local process pool; workers == 0 runs them in this process."""
    if workers == 0:
        for spec in specs:
            yield spec, _Done(lambda spec=spec: execute_run(spec, trainer, threads, wait))
        return
    with thread_environment(threads), ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(execute_run, spec, trainer, threads, wait): spec for spec in specs}
        try:
            for future in as_completed(futures):
                yield futures[future], future
        finally:
            for future in futures:
                future.cancel()


def _dask_outcomes(specs, trainer, scheduler, threads, wait):
    """Yield (spec, future) as runs complete on a Dask distributed cluster (address or Client)."""
    from distributed import Client, as_completed as dask_completed
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = {client.submit(execute_run, spec, trainer, threads, wait, pure=False): spec for spec in specs}
        for future in dask_completed(futures):
            yield futures[future], future
    finally:
        if client is not scheduler:
            client.close()


class _Done:
    """A future-like wrapper that runs the call when its result is asked for (the in-process path)."""

    def __init__(self, call):
        self.call = call

    def result(self):
        return self.call()


def sweep(base_config, bers, repeats, out_dir, *, seed=0, workers=None, threads=None, scheduler=None,
          trainer=None, make_config=run_config, log=print):
    """Train `repeats` runs of `base_config` at every BER in `bers` into `out_dir`.

    Returns every finished record in out_dir (this sweep's and those of other sweeps into the same folder), sorted by
    (ber, repeat): dicts with RESULT_COLUMNS, 'ber_index', 'package_version', 'config' and 'history'.

    seed:      base seed of the sweep (run seeds: `run_seed`).
    workers:   local worker processes (default: min(runs, cores)); 0 runs everything in this process.
    threads:   Numba threads per run (default: cores // workers locally, 1 on Dask).
    scheduler: a Dask distributed scheduler address or Client; runs become Dask tasks instead of local processes.
    trainer:   train(config, out_dir, resume=True) -> outcome (default: bnn.train.train); must be picklable.
    make_config: (base_config, ber, seed) -> the run's config (default: run_config).
    log:       called with each progress line.
    Raises RuntimeError naming the failed runs, after the others finished, if any run raised.
    """
    out_dir = Path(out_dir)
    specs = plan(base_config, bers, repeats, out_dir, seed, make_config)
    trainer = trainer or default_trainer()
    out_dir.mkdir(parents=True, exist_ok=True)
    if scheduler is None:
        workers, threads = local_parallelism(len(specs), workers, threads, available_cores())
    elif threads is None:
        threads = 1
    elif int(threads) != threads or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    progress, failures, pending = Progress(len(specs), log), [], specs
    for wait in (False, True):  # first pass: every run not held by another sweep; second: wait for those
        if scheduler is None:
            outcomes = _local_outcomes(pending, trainer, workers, threads, wait)
        else:
            outcomes = _dask_outcomes(pending, trainer, scheduler, threads, wait)
        busy = []
        for spec, future in outcomes:
            try:
                outcome = future.result()
            except Exception as error:  # one failed run must not cost the others
                failures.append((spec, error))
                progress.failed(spec, error)
                continue
            if outcome.status == "busy":
                busy.append(spec)
                continue
            progress.update(spec, outcome)
            if outcome.status == "ran":
                collect_results(out_dir)
        pending = busy
        if not pending:
            break
    records = collect_results(out_dir)
    if failures:
        names = ", ".join(f"{spec.label} ({type(error).__name__}: {error})" for spec, error in failures)
        raise RuntimeError(f"{len(failures)} of {len(specs)} runs failed: {names}")
    return records


def summarize(results):
    """(bers, means, stds, counts) arrays of shape (B,) from {ber: array of values over repeats}, BERs ascending.

    std is the sample standard deviation (ddof = 1), 0 where a BER has a single run.
    """
    bers = np.array(sorted(results))
    means = np.array([np.mean(results[b]) for b in bers])
    stds = np.array([np.std(results[b], ddof=1) if len(results[b]) > 1 else 0.0 for b in bers])
    counts = np.array([len(results[b]) for b in bers])
    return bers, means, stds, counts


def summary_table(records):
    """Text table of final test accuracy (percent) per BER: runs, mean, std, min, max."""
    by_ber = {}
    for rec in records:
        by_ber.setdefault(rec["ber"], []).append(100.0 * rec["final_test_accuracy"])
    lines = [f"{'BER':>8} {'runs':>4} {'mean %':>7} {'std':>6} {'min':>7} {'max':>7}"]
    for ber, mean, std, count in zip(*summarize(by_ber)):
        lines.append(f"{ber:8g} {count:4d} {mean:7.2f} {std:6.2f} {min(by_ber[ber]):7.2f} {max(by_ber[ber]):7.2f}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# Command line: `python -m bnn sweep ...` (flags, or a TOML file with [sweep] and [train] tables; flags win).

SWEEP_DEFAULTS = {"ber": None, "repeats": 1, "seed": 0, "out": None, "workers": None, "threads": None,
                  "scheduler": None, "data_root": None}
TRAIN_FLAGS = ("model", "dataset", "quick", "epochs", "batch_size", "lr", "train_subset", "test_subset")

EXAMPLE_TOML = """\
[sweep]                  # keys as the flags: ber, repeats, seed, out, workers, threads, scheduler, data_root
ber = [0, 0.001, 0.01, 0.02, 0.05, 0.1, 0.2]
repeats = 3
out = "runs/lenet4-ber"
[train]                  # any bnn.train.TrainConfig field; the model's recipe fills the rest
model = "lenet4"
quick = false            # true: start from the model's CPU recipe instead of the reference one
epochs = 5
[train.errors]           # any bnn.errors.ErrorConfig field except the rates the sweep sets
rounding = "deterministic"
"""


def add_sweep_arguments(parser):
    """Add the `sweep` subcommand's arguments to an argparse parser."""
    parser.description = "Train one run per (BER, repeat) into OUT/runs; results in OUT/results.csv and .h5."
    parser.epilog = "A TOML file may replace the flags (flags given as well win):\n\n" + EXAMPLE_TOML
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--config", metavar="FILE", help="TOML file with [sweep] and [train] tables")
    parser.add_argument("--ber", type=float, nargs="+", help="training bit error rates, e.g. 0 0.001 0.01 0.1")
    parser.add_argument("--repeats", type=int, nargs="+",
                        help="runs per BER: one number for all, or one per BER (default 1)")
    parser.add_argument("--seed", type=int, help="base seed; run seeds derive from it, the BER index and the repeat "
                                                 "(default 0)")
    parser.add_argument("--out", metavar="DIR", help="sweep folder (rerun into it to skip finished runs and resume)")
    parser.add_argument("--workers", type=int, help="local worker processes (default: min(runs, cores); 0: this "
                                                    "process)")
    # SUPPRESS: a parent parser's --threads (python -m bnn --threads N sweep) is not overwritten by a None default
    parser.add_argument("--threads", type=int, default=argparse.SUPPRESS,
                        help="Numba threads per run (default: cores // workers; 1 on Dask)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask distributed scheduler, e.g. tcp://host:8786")
    parser.add_argument("--data-root", help="folder with the raw datasets (default: $XNOR_MRAM_DATA)")
    training = parser.add_argument_group("training (the model's recipe fills every field not given)")
    training.add_argument("--model", help="model name, e.g. lenet4")
    training.add_argument("--dataset", help="dataset name (default: the model's)")
    training.add_argument("--quick", action=argparse.BooleanOptionalAction,
                          help="start from the model's short CPU recipe instead of the reference one (the other "
                               "training flags still win over it)")
    training.add_argument("--epochs", type=int, help="epochs per run (the recipe's lr schedule is scaled to them)")
    training.add_argument("--batch-size", type=int)
    training.add_argument("--lr", type=float)
    training.add_argument("--train-subset", type=int, help="train on the first N training images")
    training.add_argument("--test-subset", type=int, help="test on the first N test images")
    from .bridge import add_bridge_arguments
    add_bridge_arguments(parser)


def load_toml(path):
    """The TOML file as a dict (tomllib on Python 3.11+, tomli before)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)


def settings_from_args(args):
    """(sweep settings dict with SWEEP_DEFAULTS' keys, [train] table) from parsed flags over the TOML file."""
    document = load_toml(args.config) if args.config else {}
    for key, allowed in ((None, {"sweep", "train"}), ("sweep", set(SWEEP_DEFAULTS))):
        table = document if key is None else document.get(key, {})
        unknown = sorted(set(table) - allowed)
        if unknown:
            where = f"[{key}] of " if key else ""
            raise ValueError(f"unknown keys {unknown} in {where}{args.config}; expected some of {sorted(allowed)}")
    settings = {**SWEEP_DEFAULTS, **document.get("sweep", {})}
    settings.update({k: getattr(args, k) for k in SWEEP_DEFAULTS if getattr(args, k, None) is not None})
    if settings["out"] is None:
        raise ValueError("a sweep needs --out (or `out = ...` in the [sweep] table of --config)")
    from_mtj = getattr(args, "mtj_drive", None) is not None
    if (settings["ber"] is None) != from_mtj:
        raise ValueError("a sweep needs --ber (or `ber = [...]` in the [sweep] table of --config), or else "
                         "--mtj-drive with --mtj-pulse (MTJ operating points); not both")
    train_table = {**document.get("train", {}),
                   **{k: getattr(args, k) for k in TRAIN_FLAGS if getattr(args, k) is not None}}
    return settings, train_table


def train_source(args):
    """Where the sweep's [train] table came from, for error messages: the --config file and/or the training flags."""
    flags = [f"--{'no-' if getattr(args, key) is False else ''}{key.replace('_', '-')}" for key in TRAIN_FLAGS
             if getattr(args, key, None) is not None]
    parts = ([f"the [train] table of {args.config}"] if args.config else []) + \
        ([f"the flags {' '.join(flags)}"] if flags else [])
    return " with ".join(parts) or "the default training config"


def run_sweep_from_args(args, trainer=None):
    """Run the sweep the parsed `sweep` arguments describe; prints progress and a summary table."""
    from . import bridge
    settings, train_table = settings_from_args(args)
    out = Path(settings["out"])
    base = base_config(train_table, source=train_source(args))
    bridge_runs = bridge.runs_from_args(args, base.errors)
    if bridge_runs is None:
        keys, make_config = settings["ber"], run_config
    else:  # each MTJ operating point becomes a run at its per-direction write error rates
        keys, make_config = bridge.sweep_keys(bridge_runs), bridge.make_config(bridge_runs)
        for label, errors, _ in bridge_runs:
            print(f"{label}: BER +1->-1 {errors.ber_pos_to_neg:.3g}, -1->+1 {errors.ber_neg_to_pos:.3g}", flush=True)
        bridge.write_operating_points(out, bridge_runs)
    records = sweep(base, keys, settings["repeats"], out, seed=settings["seed"], workers=settings["workers"],
                    threads=settings["threads"], scheduler=settings["scheduler"],
                    trainer=trainer or default_trainer(settings["data_root"]), make_config=make_config,
                    log=functools.partial(print, flush=True))
    print(summary_table(records))
    print(f"results: {out / 'results.csv'}, {out / 'results.h5'}; plot them with `python -m bnn plot {out}`")
    if bridge_runs is not None:
        print(f"accuracy against write drive: {bridge.plot_accuracy_vs_drive(out)}")
    return records
