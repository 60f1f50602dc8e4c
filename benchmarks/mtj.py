"""Benchmark the MTJ calculator and validate it against the macrospin Monte Carlo.

    .venv/bin/python benchmarks/mtj.py [--threads 1 2] [--repeats 3] [--trajectories 20000 40000 120000]
                                       [--out benchmarks/results/mtj.json]

Timings (medians of --repeats, caches cleared before each run, each thread count in a fresh process so that
OpenBLAS and Numba start with it): the Fokker-Planck WER on a 200 × 200 (drive, pulse) grid (goal < 5 s), Table 1
and Figure 5 data (goal < 10 s together), and macrospin trajectories per second at Δ = 40, 5 τ_D (2000 Heun steps
each, noise generation included). Then, once, with the largest thread count: macrospin WER with 95 % Clopper-Pearson
intervals at the paper's Δ = 40, 5 τ_D and drives 1.5, 1.75, 2.0 V_c against the Fokker-Planck WER and Sun's
precessional closed form. Prints tables, writes JSON atomically. The machine may be shared: load is recorded.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# This file is named mtj.py and a script's own folder comes first on sys.path: drop it so `import mtj` finds the
# package, not this file.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

AGREEMENT_DRIVES = (1.5, 1.75, 2.0)
PAPER_DELTA, PAPER_PULSE = 40.0, 5.0


def median_seconds(fn, repeats, before=None):
    import numpy as np
    times = []
    for _ in range(repeats):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def worker(repeats, agreement_trajectories):
    """Run in a child process whose thread counts are fixed by its environment; print one JSON object."""
    import numpy as np

    from mtj import precessional_wer, write_error_rate
    from mtj.macrospin import simulate_wer
    from mtj.paper import figure5, table1
    from mtj.wer import _problem

    drive = np.linspace(1.0, 4.0, 200)[:, None]
    pulse = np.geomspace(0.5, 50.0, 200)[None, :]
    result = {
        "grid_200x200_s": median_seconds(lambda: write_error_rate(drive, pulse, below_resolution="nan"), repeats,
                                         _problem.cache_clear),
    }
    progress(result)
    result["table1_s"] = median_seconds(table1, repeats, _problem.cache_clear)
    progress(result)
    rows = table1()
    result["figure5_s"] = median_seconds(lambda: figure5(rows=rows), repeats, _problem.cache_clear)
    result["table1_plus_figure5_s"] = result["table1_s"] + result["figure5_s"]
    progress(result)

    simulate_wer(1.5, 0.1, PAPER_DELTA, np.random.default_rng(0), 10)  # compile or load the Numba cache
    n = 4000
    seconds = median_seconds(lambda: simulate_wer(1.75, PAPER_PULSE, PAPER_DELTA, np.random.default_rng(1), n),
                             repeats)
    result["macrospin_trajectories_per_s"] = n / seconds
    progress(result)
    rng = np.random.default_rng(2)
    draw = lambda: rng.standard_normal((n, 2000, 3), dtype=np.float32)  # noqa: E731
    result["noise_only_trajectories_per_s"] = n / median_seconds(draw, repeats)

    if agreement_trajectories:
        rng = np.random.default_rng(20261129)
        points = []
        for drive_i, count in zip(AGREEMENT_DRIVES, agreement_trajectories):
            start = time.perf_counter()
            mc = simulate_wer(drive_i, PAPER_PULSE, PAPER_DELTA, rng, count)
            fp = float(write_error_rate(drive_i, PAPER_PULSE, PAPER_DELTA))
            points.append({"drive": drive_i, "pulse": PAPER_PULSE, "delta": PAPER_DELTA, "trajectories": count,
                           "errors": mc.errors, "mc_wer": mc.wer, "ci95": [mc.ci_low, mc.ci_high], "fp_wer": fp,
                           "sun_wer": float(precessional_wer(drive_i, PAPER_PULSE, PAPER_DELTA)),
                           "fp_inside_ci": mc.contains(fp), "seconds": time.perf_counter() - start})
            print(f"agreement: {points[-1]}", file=sys.stderr, flush=True)
        result["agreement"] = points
    print(json.dumps(result))


def progress(result):
    """Show each number as it arrives (runs take minutes on a loaded machine); stdout carries only the JSON."""
    key, value = list(result.items())[-1]
    print(f"[{os.environ.get('OMP_NUM_THREADS')} threads] {key}: {value}", file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trajectories", type=int, nargs=3, default=[20000, 40000, 120000],
                        help="macrospin trajectories at drives 1.5, 1.75, 2.0 (0 0 0 skips the agreement run)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "mtj.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--agreement", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.repeats, args.trajectories if args.agreement and any(args.trajectories) else None)
        return

    load_before = os.getloadavg()
    runs = {}
    for threads in args.threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads), PYTHONPATH=str(REPO))
        command = [sys.executable, __file__, "--worker", "--repeats", str(args.repeats),
                   "--trajectories", *map(str, args.trajectories)]
        if threads == max(args.threads):
            command.append("--agreement")
        output = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
        runs[threads] = json.loads(output.strip().splitlines()[-1])

    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} "
          f"on {os.cpu_count()} cores; after: {os.getloadavg()[0]:.2f}")
    print(f"{'threads':>7} {'grid 200x200 s':>15} {'table1 s':>9} {'figure5 s':>10} {'table+fig s':>12} "
          f"{'macrospin traj/s':>17} {'noise-only traj/s':>18}")
    for threads, run in runs.items():
        print(f"{threads:>7} {run['grid_200x200_s']:>15.2f} {run['table1_s']:>9.2f} {run['figure5_s']:>10.2f} "
              f"{run['table1_plus_figure5_s']:>12.2f} {run['macrospin_trajectories_per_s']:>17.0f} "
              f"{run['noise_only_trajectories_per_s']:>18.0f}")
    agreement = runs[max(args.threads)].get("agreement", [])
    if agreement:
        print(f"\nmacrospin vs Fokker-Planck, Δ = {PAPER_DELTA:g}, pulse {PAPER_PULSE:g} τ_D, 95 % Clopper-Pearson")
        print(f"{'drive':>6} {'trajectories':>12} {'errors':>7} {'MC WER':>10} {'95% CI':>23} {'FP WER':>10} "
              f"{'inside':>6} {'Sun WER':>10}")
        for p in agreement:
            print(f"{p['drive']:>6.2f} {p['trajectories']:>12} {p['errors']:>7} {p['mc_wer']:>10.3e} "
                  f"[{p['ci95'][0]:.3e}, {p['ci95'][1]:.3e}] {p['fp_wer']:>10.3e} {str(p['fp_inside_ci']):>6} "
                  f"{p['sun_wer']:>10.3e}")
    record = {"load_average_before": load_before, "load_average_after": os.getloadavg(), "cpu_count": os.cpu_count(),
              "repeats": args.repeats, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=args.out.parent, suffix=".json")
    with os.fdopen(handle, "w") as file:
        json.dump(record, file, indent=2)
    os.replace(temp, args.out)
    print(f"\nwritten {args.out}")


if __name__ == "__main__":
    main()
