"""Stress run: a long LeNet-4 BER sweep in one process, with its resident memory sampled, to show that memory does
not grow from run to run (no leak across runs: caches, h5py handles, Numba, matplotlib, the sweep's bookkeeping).

    python benchmarks/stress_sweep.py [--bers 10] [--repeats 2] [--train-subset 3000] [--test-subset 1000]
                                      [--threads 1] [--out benchmarks/results/stress_sweep.json]

The sweep (bnn.sweep, workers=0: every run in this process) trains `bers x repeats` one-epoch runs on real MNIST
(--data-root). A thread reads VmRSS from /proc/self/status every --interval seconds; the sweep's progress lines
mark where each run ends. Reported per run: RSS at its end, peak RSS during it, open file descriptors.

Verdict: memory is bounded if the peak RSS of the second half of the runs exceeds that of the first half by at most
--tolerance MiB: a leak grows without bound, while garbage that waits for Python's cyclic collector makes a sawtooth
(found here: each run's learning-curve figure is freed only by a full collection). --collect runs gc.collect()
after every run, which removes the sawtooth, so the end-of-run RSS then shows what each run really keeps. The slope
of the end-of-run RSS over runs 3..N (runs 1-2 warm up: JIT code, dataset arrays) is reported too. Prints a table,
writes JSON and a PNG curve (RSS against time, runs shaded). The machine may be shared: the load average is
recorded at start and end.
"""
import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def rss_mib(pid="self"):
    """Resident set size of a process in MiB, from /proc/<pid>/status (VmRSS, reported in kB)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS line in /proc/{pid}/status")


def open_fds():
    return len(os.listdir("/proc/self/fd"))


class Sampler:
    """Samples (seconds since start, RSS MiB) every `interval` seconds in a daemon thread."""

    def __init__(self, interval):
        self.interval, self.samples, self.start = interval, [], time.perf_counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            self.samples.append((time.perf_counter() - self.start, rss_mib()))
            self.stop.wait(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def slope_per_run(values):
    """Least-squares slope of `values` against their index (MiB per run)."""
    import numpy as np
    x = np.arange(len(values), dtype=float)
    return float(np.polyfit(x, np.asarray(values, float), 1)[0]) if len(values) > 1 else 0.0


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t, rss = zip(*result["samples"])
    fig, ax = plt.subplots(figsize=(9, 4))
    previous = 0.0
    for i, run in enumerate(result["runs"]):
        ax.axvspan(previous, run["end_s"], color="0.92" if i % 2 else "0.85", lw=0)
        previous = run["end_s"]
    ax.plot(t, rss, color="C0", lw=1, label="VmRSS, sampled")
    ax.plot([r["end_s"] for r in result["runs"]], [r["rss_end_mib"] for r in result["runs"]], "o", color="C3",
            ms=4, label="end of each run")
    ax.set_xlabel("time since the sweep started (s); shading alternates per run")
    ax.set_ylabel("resident memory (MiB)")
    collected = ", gc.collect() after each run" if result["collect"] else ""
    ax.set_title(f"{len(result['runs'])}-run LeNet-4 sweep in one process{collected}: peak "
                 f"{result['peak_first_second_half_mib'][0]:.0f} / {result['peak_first_second_half_mib'][1]:.0f} MiB "
                 f"in the first / second half", fontsize=10)
    ax.set_ylim(0, max(rss) * 1.15)
    ax.legend(loc="lower right")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bers", type=int, default=10, help="BER points, spread over [0, 0.2] (default 10)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--train-subset", type=int, default=3000)
    parser.add_argument("--test-subset", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1, help="Numba threads (BLAS stays at 1)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between RSS samples")
    parser.add_argument("--tolerance", type=float, default=16.0,
                        help="MiB by which the second half's peak may exceed the first half's")
    parser.add_argument("--collect", action="store_true", help="gc.collect() after every run")
    parser.add_argument("--data-root", type=Path, default=os.environ.get("XNOR_MRAM_DATA") or REPO.parent / "shared" / "data",
                        help="folder holding mnist/ (default $XNOR_MRAM_DATA, else ../shared/data)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "stress_sweep.json")
    args = parser.parse_args(argv)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")      # before numpy loads, as `python -m bnn` does
    sys.path.insert(0, str(REPO))
    import numpy as np

    from bnn import sweep
    from bnn.train import TrainConfig

    base = TrainConfig.recipe("lenet4", epochs=1, train_subset=args.train_subset, test_subset=args.test_subset)
    bers = np.round(np.linspace(0, 0.2, args.bers), 6).tolist()
    load_start = os.getloadavg()
    ends = []

    def log(line):
        if args.collect:
            gc.collect()
        ends.append((time.perf_counter(), rss_mib(), open_fds(), line))
        print(line, flush=True)

    with tempfile.TemporaryDirectory(prefix="stress-sweep-") as out_dir, Sampler(args.interval) as sampler:
        rss_before = rss_mib()
        sweep.sweep(base, bers, args.repeats, out_dir, seed=0, workers=0, threads=args.threads, log=log,
                    trainer=sweep.default_trainer(args.data_root))
    runs, previous = [], 0.0
    for when, rss, fds, line in ends:
        end = when - sampler.start
        peak = max((r for t, r in sampler.samples if previous <= t <= end), default=rss)
        runs.append(dict(end_s=round(end, 2), rss_end_mib=round(rss, 1), rss_peak_mib=round(peak, 1), open_fds=fds,
                         line=line))
        previous = end
    settled = [r["rss_end_mib"] for r in runs[2:]]
    slope = slope_per_run(settled)
    half = len(runs) // 2
    peaks = [max(r["rss_peak_mib"] for r in part) for part in (runs[:half], runs[half:])]
    result = dict(
        command=" ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        runs_planned=len(bers) * args.repeats, bers=bers, repeats=args.repeats, train_subset=args.train_subset,
        test_subset=args.test_subset, threads=args.threads, rss_before_mib=round(rss_before, 1),
        collect=args.collect, slope_mib_per_run=round(slope, 3), peak_first_second_half_mib=peaks,
        bounded=peaks[1] <= peaks[0] + args.tolerance, tolerance_mib=args.tolerance,
        fds_first_last=[runs[0]["open_fds"], runs[-1]["open_fds"]],
        seconds=round(sampler.samples[-1][0], 1), load_average_start=load_start, load_average_end=os.getloadavg(),
        runs=runs, samples=[(round(t, 2), round(r, 1)) for t, r in sampler.samples])
    print(f"\n{'run':>4} {'end (s)':>8} {'RSS end':>8} {'RSS peak':>8} {'fds':>4}")
    for i, run in enumerate(runs, 1):
        print(f"{i:4d} {run['end_s']:8.1f} {run['rss_end_mib']:8.1f} {run['rss_peak_mib']:8.1f} {run['open_fds']:4d}")
    print(f"\nRSS before the sweep {rss_before:.1f} MiB; peak RSS first / second half {peaks[0]:.1f} / "
          f"{peaks[1]:.1f} MiB -> {'bounded' if result['bounded'] else 'GROWING'} (tolerance {args.tolerance} MiB); "
          f"end-of-run slope over runs 3..{len(runs)} {slope:+.3f} MiB/run; gc.collect after runs: {args.collect}; "
          f"open fds "
          f"{result['fds_first_last'][0]} -> {result['fds_first_last'][1]}; load average {load_start[0]:.1f} -> "
          f"{result['load_average_end'][0]:.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, args.out)
    plot(result, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0 if result["bounded"] else 1


if __name__ == "__main__":
    sys.exit(main())
