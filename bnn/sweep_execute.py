"""Executing a BER sweep: its planned runs in a local process pool or as Dask tasks, with progress lines.

Locally a process pool ("spawn": fresh interpreters, no forked Numba thread pools) of `workers` processes, started
with NUMBA_NUM_THREADS = `threads` and OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS = 1 in their
environment (the engine's parallel work runs on Numba's threads and its batch pool; a multi-threaded BLAS under the
pool would oversubscribe the cores); by default workers x threads <= cores. With `scheduler` (a Dask distributed
address or Client) runs are Dask tasks. Every run also calls `numba.set_num_threads(threads)` (default 1 on Dask:
give Dask workers one thread per core).

A sweep makes two passes: the first trains every run no other process holds; the second waits for the runs another
sweep into the same folder was training, then reads their results. results.csv / results.h5 are rebuilt after each
run trained here.

Stopping (SIGTERM / SIGINT under bnn.interrupt.stop_on_signals): local workers share the stop flag, so every running
run stops after its current batch and keeps its last checkpoint, runs not started are dropped, and `sweep` raises
bnn.interrupt.Interrupted once they have all stopped; rerunning the sweep resumes. On Dask the sweep stops waiting and
cancels the runs not started; runs already on a worker go on until they end.
"""
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

from . import interrupt
from .results import collect_results
from .sweep_plan import plan, run_config, whole_number
from .sweep_run import default_trainer, epochs_left, execute_run

BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
THREAD_VARIABLES = ("NUMBA_NUM_THREADS",) + BLAS_THREAD_VARIABLES


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


class Progress:
    """Prints one line per finished run (counts, the run's accuracies and time, elapsed time and ETA), and one per
    failed or stopped run.

    The ETA counts epochs, not runs: a sweep that resumes a run near its end must not take that run's few minutes
    for the cost of a whole one. Rate: the epochs the finished runs trained in this sweep per second of its elapsed
    time (so parallel workers count); work left: the epochs the other runs still had to train when it started.
    """

    def __init__(self, epochs_left, log):
        """epochs_left: {run label: epochs it still had to train when the sweep started} for every planned run."""
        self.total, self.epochs_left, self.log = len(epochs_left), dict(epochs_left), log
        self.done = self.epochs_trained = 0
        self.start = time.perf_counter()

    def update(self, spec, outcome):
        self.done += 1
        trained = self.epochs_left.pop(spec.label)
        rec = outcome.record
        width = len(str(self.total))
        head = f"[{self.done:{width}d}/{self.total}] {spec.label}"
        if outcome.status == "skipped":
            self.log(f"{head}: already finished, test accuracy {rec['final_test_accuracy']:.4f}")
            return
        from .train import format_seconds
        self.epochs_trained += trained
        elapsed = time.perf_counter() - self.start
        left = sum(self.epochs_left.values())
        if not left:
            eta = "ETA 0:00:00"
        elif self.epochs_trained:
            eta = "ETA " + format_seconds(elapsed / self.epochs_trained * left)
        else:
            eta = "ETA unknown"     # only runs resumed after their last epoch so far: no rate yet
        self.log(f"{head}: test accuracy {rec['final_test_accuracy']:.4f} (best {rec['best_test_accuracy']:.4f}), "
                 f"{rec['seconds']:.1f} s | elapsed {format_seconds(elapsed)}, {eta}")

    def failed(self, spec, error):
        self.done += 1
        self.epochs_left.pop(spec.label)
        self.log(f"[{self.done}/{self.total}] {spec.label}: FAILED: {type(error).__name__}: {error}")

    def stopped(self, spec, stop):
        self.log(f"{spec.label}: {stop}")


class SweepFailed(RuntimeError):
    """Some runs raised; `failures` is the list of (RunSpec, exception)."""

    def __init__(self, message, failures):
        super().__init__(message)
        self.failures = failures


def _local_outcomes(specs, trainer, workers, threads, wait):
    """Yield (spec, future) as runs complete in a local process pool; workers == 0 runs them in this process.
    Once a stop is asked for, the runs not started are cancelled and the running ones yielded as they stop."""
    if workers == 0:
        for spec in specs:
            if interrupt.requested():
                return
            yield spec, _Done(lambda spec=spec: execute_run(spec, trainer, threads, wait))
        return
    context = get_context("spawn")
    with thread_environment(threads), ProcessPoolExecutor(workers, mp_context=context, initializer=interrupt.adopt,
                                                          initargs=(interrupt.shared_flag(context),)) as pool:
        futures = {pool.submit(execute_run, spec, trainer, threads, wait): spec for spec in specs}
        try:
            seen = set()
            for future in as_completed(futures):
                seen.add(future)
                yield futures[future], future
                if interrupt.requested():
                    break
            # stopping: cancel() fails for runs already handed to a worker, which stop at their next check
            running = [future for future in futures if future not in seen and not future.cancel()]
            for future in running:
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
            if interrupt.requested():
                client.cancel(list(futures))
                break
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

    repeats:   runs per BER: one number for all, or a list with one per BER (bnn.sweep_plan.plan).
    seed:      base seed of the sweep (run seeds: `run_seed`).
    workers:   local worker processes (default: min(runs, cores)); 0 runs everything in this process.
    threads:   Numba threads per run (default: cores // workers locally, 1 on Dask).
    scheduler: a Dask distributed scheduler address or Client; runs become Dask tasks instead of local processes.
    trainer:   train(config, out_dir, resume=True) -> outcome (default: bnn.train.train); must be picklable.
    make_config: (base_config, ber, seed) -> the run's config (default: run_config).
    log:       called with each progress line.
    Raises SweepFailed (a RuntimeError) naming the failed runs, after the others finished, if any run raised;
    bnn.interrupt.Interrupted after a stop (see the module docstring).
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
    progress = Progress({spec.label: epochs_left(spec) for spec in specs}, log)
    failures, pending = [], specs
    for wait in (False, True):  # first pass: every run not held by another sweep; second: wait for those
        if scheduler is None:
            outcomes = _local_outcomes(pending, trainer, workers, threads, wait)
        else:
            outcomes = _dask_outcomes(pending, trainer, scheduler, threads, wait)
        busy = []
        for spec, future in outcomes:
            try:
                outcome = future.result()
            except interrupt.Interrupted as stop:
                progress.stopped(spec, stop)
                continue
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
        if not pending or interrupt.requested():
            break
    signum = interrupt.requested()
    if signum:
        failed = f", {len(failures)} failed" if failures else ""
        raise interrupt.Interrupted(signum, f"with {progress.done - len(failures)} of {len(specs)} runs finished"
                                            f"{failed}; the runs stopped keep their last checkpoints")
    records = collect_results(out_dir)
    if failures:
        names = ", ".join(f"{spec.label} ({type(error).__name__}: {error})" for spec, error in failures)
        raise SweepFailed(f"{len(failures)} of {len(specs)} runs failed: {names}", failures)
    return records
