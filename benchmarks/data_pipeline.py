"""Dataset pipeline speed: preparing caches, loading them, and batches per second of the iterator.

    python benchmarks/data_pipeline.py [--threads 1 2] [--repeats 3] [--no-jpeg] [--out FILE]

Uses the real data under $XNOR_MRAM_DATA (else ../shared/data): MNIST from the official .gz files, and the
CIFAR-10 JPEG archive (the full 60,000-image decode is timed once, outside the thread loop, since Pillow
decoding is single-threaded; --no-jpeg skips it and times CIFAR-shaped batches on MNIST-sized random data).
Every number is the median of --repeats runs in a fresh cache folder. For each thread count a subprocess
sets OMP/OPENBLAS/MKL/NUMBA thread counts (read at import). Prints a table, writes JSON (default
benchmarks/results/data_pipeline.json). The machine may be shared: the load average is recorded.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TRAINING_BATCHES_PER_S = 469 / 21   # LeNet-4 on MNIST, ~21 s per epoch of 469 batches (DESIGN.md, PyTorch)


def timed(fn, repeats):
    import statistics
    import time
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def batches_per_s(ds, repeats, **kwargs):
    import numpy as np

    import datasets
    count = len(ds) // 128
    seconds = timed(lambda: sum(1 for _ in datasets.batches(ds, 128, np.random.default_rng(0), drop_last=True,
                                                             **kwargs)), repeats)
    return count / seconds


def worker(args):
    import datasets
    root = Path(args.root)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        def prepare():
            cache = tempfile.mkdtemp(dir=tmp)
            for split in ("train", "test"):
                datasets.load("mnist", split, root=root, cache_dir=cache)
        results["mnist prepare train+test from .gz (s)"] = timed(prepare, args.repeats)
        cache = Path(tmp) / "kept"
        datasets.load("mnist", "train", root=root, cache_dir=cache)
        results["mnist load train cache (s)"] = timed(
            lambda: datasets.load("mnist", "train", root=root, cache_dir=cache), args.repeats)
        mnist = datasets.load("mnist", "train", root=root, cache_dir=cache)
        results["mnist batches/s (B=128)"] = batches_per_s(mnist, args.repeats)
        results["mnist batches/s augmented"] = batches_per_s(mnist, args.repeats, augment=True)
        lazy = datasets.load("mnist", "train", root=root, cache_dir=cache, in_memory=False)
        results["mnist batches/s from disk view"] = batches_per_s(lazy, args.repeats)
        if args.jpeg_cache:
            cifar = datasets.load("cifar10-jpeg", "train", root=root, cache_dir=args.jpeg_cache)
            results["cifar10-jpeg load train cache (s)"] = timed(
                lambda: datasets.load("cifar10-jpeg", "train", root=root, cache_dir=args.jpeg_cache), args.repeats)
            results["cifar10 batches/s (B=128)"] = batches_per_s(cifar, args.repeats)
            results["cifar10 batches/s augmented"] = batches_per_s(cifar, args.repeats, augment=True)
            lazy = datasets.load("cifar10-jpeg", "train", root=root, cache_dir=args.jpeg_cache, in_memory=False)
            results["cifar10 batches/s augmented from disk view"] = batches_per_s(lazy, args.repeats, augment=True)
    print(json.dumps(results))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-jpeg", action="store_true")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "data_pipeline.json"))
    parser.add_argument("--root", default=os.environ.get("XNOR_MRAM_DATA") or str(REPO.parent / "shared" / "data"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--jpeg-cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    import time

    import datasets
    report = {"load_average_start": os.getloadavg(), "repeats": args.repeats, "threads": {}}
    with tempfile.TemporaryDirectory() as jpeg_cache:
        if not args.no_jpeg:
            start = time.perf_counter()
            for split in ("train", "test"):
                datasets.load("cifar10-jpeg", split, root=args.root, cache_dir=jpeg_cache)
            report["cifar10-jpeg prepare train+test, 60,000 JPEGs (s, once)"] = time.perf_counter() - start
        for threads in args.threads:
            env = dict(os.environ, PYTHONPATH=str(REPO), **{v: str(threads) for v in (
                "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")})
            command = [sys.executable, __file__, "--worker", "--root", args.root, "--repeats", str(args.repeats)]
            if not args.no_jpeg:
                command += ["--jpeg-cache", jpeg_cache]
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
            report["threads"][threads] = json.loads(out.strip().splitlines()[-1])
    report["load_average_end"] = os.getloadavg()
    report["training_batches_per_s_reference"] = TRAINING_BATCHES_PER_S

    names = list(report["threads"][args.threads[0]])
    print(f"{'measure':48s}" + "".join(f"{f'{t} thread(s)':>16s}" for t in args.threads))
    for name in names:
        print(f"{name:48s}" + "".join(f"{report['threads'][t][name]:16.3f}" for t in args.threads))
    for key, value in report.items():
        if key.startswith("cifar10-jpeg prepare"):
            print(f"{key}: {value:.1f}")
    print(f"training reference: ~{TRAINING_BATCHES_PER_S:.0f} batches/s (LeNet-4, MNIST); load average "
          f"{report['load_average_start'][0]:.2f} -> {report['load_average_end'][0]:.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
