"""Seconds per MNIST epoch of LeNet-4 (batch 128), broken down by layer, and peak memory.

    python benchmarks/train_lenet.py [--threads 1:1 2:1 2:2] [--repeats 3] [--batches 100] [--full-epoch] [--out FILE]

--threads lists NUMBA:BLAS thread pairs (default 1:1 2:1 2:2; `python -m bnn` runs BLAS single-threaded, i.e. N:1).
For each pair a fresh subprocess (BLAS and Numba read their thread counts at import) trains on real MNIST
from the recipe's initial state: `--batches` timed training steps (forward, loss, backward, Adam, constrain) after
5 warm-up steps, repeated `--repeats` times; the median step time x 469 steps + the measured test-set evaluation
is the epoch estimate. CPU (process) time per step is recorded too: on a shared, overloaded machine it is the
better estimate of what one thread needs (wall time then mostly measures waiting for a core). `--full-epoch` also times one real epoch through bnn.train.train. Prints a table, writes
JSON (default benchmarks/results/train_lenet.json). The machine may be shared: the load average is recorded.
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def worker(args):
    import resource
    import statistics
    import tempfile
    import time
    from collections import defaultdict

    import numpy as np

    import datasets
    from bnn.layers import softmax_cross_entropy
    from bnn.optim import make_optimizer
    from bnn.train import TrainConfig, build_model, evaluate, train

    config = TrainConfig.recipe("lenet4")
    rng = np.random.default_rng(0)
    model = build_model(config, rng)
    model.constrain()
    optimizer = make_optimizer("adam", model.params(), config.lr, config.weight_decay)
    train_ds, test_ds = datasets.load("mnist", "train"), datasets.load("mnist", "test")
    batches = datasets.batches(train_ds, 128, rng, drop_last=True)

    def step():
        x, y = next(batches)
        loss, dlogits = softmax_cross_entropy(model.forward(x), y)
        model.backward(dlogits)
        start = time.perf_counter()
        optimizer.step(model.grads())
        model.constrain()
        model.timings["optimizer", "step+constrain"] += time.perf_counter() - start

    model.timings = defaultdict(float)
    for _ in range(5):
        step()
    step_times, cpu_times, per_layer = [], [], []
    for _ in range(args.repeats):
        model.timings = defaultdict(float)
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(args.batches):
            step()
        step_times.append((time.perf_counter() - start) / args.batches)
        cpu_times.append((time.process_time() - cpu_start) / args.batches)
        per_layer.append({f"{k[0]} {k[1]}": v / args.batches for k, v in model.timings.items()})
    start = time.perf_counter()
    evaluate(model, test_ds)
    eval_seconds = time.perf_counter() - start
    step_seconds = statistics.median(step_times)
    layers = {key: statistics.median(p[key] for p in per_layer) for key in per_layer[0]}
    result = dict(threads=args.threads_now, step_ms=1000 * step_seconds,
                  step_cpu_ms=1000 * statistics.median(cpu_times), eval_seconds=eval_seconds,
                  epoch_seconds_estimate=step_seconds * 469 + eval_seconds,
                  layer_ms={k: 1000 * v for k, v in sorted(layers.items(), key=lambda kv: -kv[1])})
    if args.full_epoch:
        with tempfile.TemporaryDirectory() as tmp:
            history = train(TrainConfig.recipe("lenet4", epochs=1), tmp, plot=False).history
        result["full_epoch_seconds"] = history[0]["seconds"]
        result["full_epoch_test_accuracy"] = history[0]["test_accuracy"]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", nargs="+", default=["1:1", "2:1", "2:2"], help="NUMBA:BLAS thread pairs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--full-epoch", action="store_true")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "train_lenet.json"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads-now", default="1:1", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    results = []
    for threads in args.threads:
        numba_threads, blas_threads = threads.split(":")
        env = dict(os.environ, OPENBLAS_NUM_THREADS=blas_threads, OMP_NUM_THREADS=blas_threads,
                   MKL_NUM_THREADS=blas_threads, NUMBA_NUM_THREADS=numba_threads, PYTHONPATH=str(REPO))
        cmd = [sys.executable, __file__, "--worker", "--threads-now", threads, "--repeats", str(args.repeats),
               "--batches", str(args.batches)] + (["--full-epoch"] if args.full_epoch else [])
        load_before = os.getloadavg()[0]
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        result["load_average_before"] = load_before
        result["load_average_after"] = os.getloadavg()[0]
        results.append(result)
    for r in results:
        print(f"\n== Numba:BLAS threads {r['threads']}: step {r['step_ms']:.1f} ms (median of {args.repeats} x {args.batches} "
              f"batches), test evaluation {r['eval_seconds']:.2f} s, epoch estimate {r['epoch_seconds_estimate']:.1f} s"
              + (f", measured epoch {r['full_epoch_seconds']:.1f} s" if "full_epoch_seconds" in r else "")
              + f", CPU time per step {r['step_cpu_ms']:.1f} ms (all threads; with one thread this is the step's"
                f" time on an idle core: epoch {r['step_cpu_ms'] * 469 / 1000:.1f} s of training)"
              + f", peak RSS {r['peak_rss_mb']:.0f} MB, load {r['load_average_before']:.2f} -> "
                f"{r['load_average_after']:.2f}")
        print(f"{'step':<28}{'ms/batch':>10}{'share':>8}")
        total = sum(r["layer_ms"].values())
        for name, ms in r["layer_ms"].items():
            if ms >= 0.05 * total / 10:
                print(f"{name:<28}{ms:>10.2f}{100 * ms / total:>7.1f}%")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(dict(cpu_count=os.cpu_count(), results=results), indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
