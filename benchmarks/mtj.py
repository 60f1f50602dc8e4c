"""Benchmark the MTJ calculator, check its error estimates, and validate it against the macrospin Monte Carlo.

    .venv/bin/python benchmarks/mtj.py [--threads 1 2] [--repeats 3] [--trajectories 20000 40000 120000]
                                       [--out benchmarks/results/mtj.json]
    .venv/bin/python benchmarks/mtj.py --cli [--before DIR] [--repeats 5] [--out benchmarks/results/mtj_cli.json]
    .venv/bin/python benchmarks/mtj.py --resolution [--out benchmarks/results/mtj_resolution.json]

Default mode: in a fresh process per thread count T (BLAS single-threaded, as importing mtj sets it; mtj's drive
threads = T; Numba threads = T), medians of --repeats with caches cleared before each run: the Fokker-Planck WER on a
200 × 200 (drive 1-4 V_c, pulse 0.5-50 τ_D) grid at Δ = 40 (goal < 1 s at 2 threads), Table 1 and Figure 5 data,
and macrospin trajectories per second at Δ = 40, 5 τ_D. Then, once, with the largest T: macrospin WER with 95 %
Clopper-Pearson intervals at Δ = 40, 5 τ_D, drives 1.5, 1.75, 2.0 V_c against the Fokker-Planck WER and Sun's
closed form.

--cli: wall and CPU time (user + system, of the child) of whole commands, median of --repeats: `python -m mtj
table1`, `python -m mtj map` (200 × 200, with and without the PNG), and the same grid through a script that imports
mtj first, all with no thread variables set. --before DIR runs the same commands from another checkout (e.g. `git
archive <commit> mtj | tar -x -C DIR`), once as is and once with OPENBLAS_NUM_THREADS=1 set by hand; where DIR's
CLI has no `map`, its grid goes through the script only.

--resolution: the solver's error estimates against its 80-bit twin (`mtj.extended`) on Δ = 20-80, drives −0.5 to 6,
pulses 0.05-500 τ_D, both hemispheres: for every point the error, the estimate and their ratio (must stay < 1), and
per regime the largest ratios of the error to each term of the estimate (the measurements behind the constants of
`mtj.propagation`). Takes a few minutes.

Every mode prints a table and writes JSON atomically, with the machine's load average before and after.
"""
import argparse
import json
import os
import statistics
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
GRID = "np.linspace(1.0, 4.0, 200)[:, None], np.geomspace(0.5, 50.0, 200)[None, :]"


def median_seconds(fn, repeats, before=None):
    times = []
    for _ in range(repeats):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def clear_caches():
    from mtj import activation, propagation
    propagation.clear_caches()
    activation._slow_mode.cache_clear()
    activation._equilibrium_hemispheres.cache_clear()


def worker(repeats, threads, agreement_trajectories):
    """Run in a child process whose thread counts are fixed by its environment; print one JSON object."""
    import numpy as np

    from mtj import precessional_wer, write_error_rate
    from mtj.macrospin import simulate_wer
    from mtj.paper import figure5, table1

    drive, pulse = eval(GRID)
    result = {"grid_200x200_s": median_seconds(
        lambda: write_error_rate(drive, pulse, below_resolution="nan", threads=threads), repeats, clear_caches)}
    progress(result)
    result["table1_s"] = median_seconds(table1, repeats, clear_caches)
    progress(result)
    rows = table1()
    result["figure5_s"] = median_seconds(lambda: figure5(rows=rows), repeats, clear_caches)
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
    """Show each number as it arrives; stdout carries only the JSON."""
    key, value = list(result.items())[-1]
    print(f"[{os.environ.get('NUMBA_NUM_THREADS')} threads] {key}: {value}", file=sys.stderr, flush=True)


def library_mode(args):
    runs = {}
    for threads in args.threads:
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   NUMBA_NUM_THREADS=str(threads), PYTHONPATH=str(REPO))
        command = [sys.executable, __file__, "--worker", "--repeats", str(args.repeats), "--worker-threads",
                   str(threads), "--trajectories", *map(str, args.trajectories)]
        if threads == max(args.threads):
            command.append("--agreement")
        output = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
        runs[threads] = json.loads(output.strip().splitlines()[-1])
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
    return {"repeats": args.repeats, "runs": runs}


def timed(command, env, cwd):
    """(wall s, CPU s of the child) of one command, its output discarded; raises if it fails."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime


def cli_mode(args):
    """Whole commands, wall and CPU: this checkout and (--before) another one."""
    grid_script = ("import mtj, numpy as np\n"  # as python -m mtj does: mtj (and its BLAS setting) before NumPy
                   "from mtj.wer import write_error_rate\n"
                   f"drive, pulse = {GRID}\n"
                   "write_error_rate(drive, pulse, below_resolution='nan')\n")
    trees = {"after": REPO}
    if args.before:  # the other checkout as a user runs it, and with one BLAS thread set by hand
        trees |= {"before": Path(args.before).resolve(), "before_blas1": Path(args.before).resolve()}
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for label, tree in trees.items():
            env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                                    "MKL_NUM_THREADS", "PYTHONPATH")}
            env["PYTHONPATH"] = str(tree)  # the user's environment: no thread settings of their own
            if label == "before_blas1":
                env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
            commands = {"table1": [sys.executable, "-m", "mtj", "table1"],
                        "grid_200x200_script": [sys.executable, "-c", grid_script]}
            if (tree / "mtj" / "__main__.py").read_text().count('"map"'):
                out = str(Path(scratch) / f"map_{label}")
                commands["map_200x200_csv"] = [sys.executable, "-m", "mtj", "map", "--out", out, "--no-png"]
                commands["map_200x200_csv_png"] = [sys.executable, "-m", "mtj", "map", "--out", out]
            results[label] = {}
            for name, command in commands.items():
                runs = [timed(command, env, scratch) for _ in range(args.repeats)]
                results[label][name] = {"wall_s": statistics.median(r[0] for r in runs),
                                        "cpu_s": statistics.median(r[1] for r in runs),
                                        "runs": [list(r) for r in runs], "command": " ".join(command[1:])}
                print(f"{label:>12} {name:<22} wall {results[label][name]['wall_s']:6.2f} s   CPU "
                      f"{results[label][name]['cpu_s']:6.2f} s", flush=True)
    return {"repeats": args.repeats, "trees": {k: str(v) for k, v in trees.items()}, "commands": results}


def resolution_mode(args):
    """Error estimates against the extended-precision twin; see the module doc."""
    import numpy as np

    from mtj import extended, propagation
    from mtj.legendre import n_terms_for

    if not extended.AVAILABLE:
        raise SystemExit("numpy.longdouble is plain double on this machine: no reference to measure against")
    eps = np.finfo(float).eps
    pulses = np.concatenate([np.geomspace(0.05, 0.5, 4), np.geomspace(0.7, 500.0, 18)])
    points, worst = [], {}
    for delta in (20.0, 40.0, 60.0, 80.0):
        for drive in (-0.5, 0.0, 0.3, 0.6, 0.8, 1.0, 1.3, 2.0, 3.0, 4.5, 6.0):
            n = n_terms_for(delta, drive)
            for upper in (True, False):
                problem = propagation.problem(delta, drive, 0.0, n, upper)
                shown = pulses[pulses <= problem.settle_time] if problem.continuation else pulses
                value, rounding, truncation = propagation.hemisphere_probability(delta, drive, 0.0, shown, n, upper)
                reference = extended.hemisphere_probability(delta, drive, 0.0, shown, n, upper).astype(float)
                error = np.abs(value - reference)
                if problem.continuation:
                    r, _ = propagation.propagate_from(problem, problem.r0, shown)
                    regime, scale = "plain (high barrier)", np.abs(r).sum(axis=0)
                else:
                    r, _ = propagation.propagate_from(problem, problem.r0, shown)
                    regime, scale = "deviation", np.abs(r - problem.r_eq[:, None]).sum(axis=0)
                for k, tau in enumerate(shown):
                    points.append({"delta": delta, "drive": drive, "upper": upper, "pulse": float(tau),
                                   "value": float(value[k]), "error": float(error[k]),
                                   "estimate": float(rounding[k] + truncation[k]),
                                   "ratio": float(error[k] / (rounding[k] + truncation[k]))})
                entry = worst.setdefault(regime, {"error_over_estimate": 0.0})
                entry["error_over_estimate"] = max(entry["error_over_estimate"],
                                                   float((error / (rounding + truncation)).max()))
                terms = {}  # each term's ratio where that term is the one that matters
                if problem.slow_rate is not None and (shown >= 1.0).any():
                    terms["drift: error / (eps ‖A‖₁ τ), τ >= 1, with a barrier"] = error[shown >= 1.0] / (
                        eps * problem.norm * shown[shown >= 1.0])
                if problem.continuation and (shown < 0.1).any():
                    terms["plain: error / (eps ‖r‖₁), τ < 0.1"] = error[shown < 0.1] / (eps * scale[shown < 0.1])
                if not problem.continuation and problem.slow_rate is None:
                    switching = scale >= problem.stationary_scale
                    terms["deviation: error / (eps ‖d‖₁) while switching"] = error[switching] / (eps * scale[switching])
                    if upper:
                        terms["stationary: error / (eps Σ|w r_eq|), τ >= 200"] = error[shown >= 200] / (
                            eps * problem.stationary_scale)
                for name, ratios in terms.items():
                    if ratios.size:
                        worst.setdefault("terms", {})[name] = max(worst.get("terms", {}).get(name, 0.0),
                                                                  float(ratios.max()))
            print(f"Δ = {delta:g}, drive {drive:g}: worst error/estimate so far "
                  f"{max(p['ratio'] for p in points):.3f}", flush=True)
    ratios = np.array([p["ratio"] for p in points])
    print(f"\n{len(points)} points; error/estimate: max {ratios.max():.3f}, median {np.median(ratios):.3g}")
    for regime, entry in worst.items():
        print(f"  {regime}: " + ", ".join(f"{k} {v:.3g}" for k, v in entry.items()))
    return {"points": len(points), "max_error_over_estimate": float(ratios.max()),
            "median_error_over_estimate": float(np.median(ratios)), "by_regime": worst, "all": points}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trajectories", type=int, nargs=3, default=[20000, 40000, 120000],
                        help="macrospin trajectories at drives 1.5, 1.75, 2.0 (0 0 0 skips the agreement run)")
    parser.add_argument("--cli", action="store_true", help="time whole python -m mtj commands")
    parser.add_argument("--before", help="with --cli: another checkout to time the same way")
    parser.add_argument("--resolution", action="store_true", help="error estimates against extended precision")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--agreement", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.repeats, args.worker_threads, args.trajectories if args.agreement and any(args.trajectories)
               else None)
        return
    mode, default_out = ((cli_mode, "mtj_cli.json") if args.cli else (resolution_mode, "mtj_resolution.json")
                         if args.resolution else (library_mode, "mtj.json"))
    load_before = os.getloadavg()
    record = mode(args)
    load_after = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} on "
          f"{os.cpu_count()} cores; after: {load_after[0]:.2f}")
    record = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "load_average_before": load_before,
              "load_average_after": load_after, "cpu_count": os.cpu_count(), **record}
    out = args.out or REPO / "benchmarks" / "results" / default_out
    out.parent.mkdir(parents=True, exist_ok=True)
    from bnn.checkpoint import write_atomic
    write_atomic(out, lambda tmp: tmp.write_text(json.dumps(record, indent=1)))
    print(f"written {out}")


if __name__ == "__main__":
    main()
