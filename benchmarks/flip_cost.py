"""What injecting bit errors costs: a binary layer's training forward pass with and without activation flips.

    .venv/bin/python benchmarks/flip_cost.py [--ber 0.01] [--repeats 41] [--min-seconds 4] [--threads 1 2] [--out FILE]

For each layer shape (LeNet-4's binary conv and dense, NiN's 5x5 and 1x1 binary convs, batch 128) it times
`layer.forward(x, training=True)` with `activation_errors = None` and with `BitErrors(ber, ber)`: the flips are
drawn and XORed into the packed activations, and the same entries of the ±1 input are negated in place for the
backward pass (`bnn.kernels.flips.flip_bits_in_place`).  The two are interleaved in ABBA order, so that a change in
the machine's load hits both alike, for at least --repeats rounds and --min-seconds (fast layers get more rounds)
after two dropped warm-up rounds, per Numba thread count.
The overhead is the ratio of the medians; the ratio of the fastest runs and (1 thread) of the median process CPU
times are given beside it, since the machine may be shared.  The 1-minute load average is recorded before and after
each row.  Prints a table and writes JSON atomically (default benchmarks/results/flip_cost.json).
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402

from bnn.checkpoint import write_atomic  # noqa: E402
from bnn.errors import BitErrors  # noqa: E402
from bnn.layers import BinaryConv2d, BinaryDense, XnorWeights  # noqa: E402

SHAPES = {  # name: (layer factory, input shape)
    "LeNet-4 conv 20->50 5x5, 12x12": (lambda rng: BinaryConv2d(20, 50, 5, rng, XnorWeights()), (128, 20, 12, 12)),
    "LeNet-4 dense 800->500": (lambda rng: BinaryDense(800, 500, rng, XnorWeights()), (128, 800)),
    "NiN conv 96->192 5x5 pad 2, 16x16": (lambda rng: BinaryConv2d(96, 192, 5, rng, XnorWeights(), padding=2),
                                         (128, 96, 16, 16)),
    "NiN conv 192->192 1x1, 8x8": (lambda rng: BinaryConv2d(192, 192, 1, rng, XnorWeights()), (128, 192, 8, 8)),
}
WARMUP_ROUNDS = 2   # compilation (or cache load), first touch of buffers


def timings(layer, x, errors, repeats, min_seconds):
    """Wall and process-CPU seconds of training forward passes without and with `errors`, interleaved ABBA, for at
    least `repeats` rounds and `min_seconds`. Returns {"clean": (wall list, cpu list), "flips": (wall list, cpu
    list)}. The flips edit x in place; it stays a ±1 tensor, so the clean runs time the same work."""
    times = {"clean": ([], []), "flips": ([], [])}
    r, start_all = 0, None
    while r < WARMUP_ROUNDS + repeats or time.perf_counter() - start_all < min_seconds:
        if r == WARMUP_ROUNDS:
            start_all = time.perf_counter()
        for kind in (("clean", "flips") if r % 2 == 0 else ("flips", "clean")):
            layer.activation_errors = errors if kind == "flips" else None
            start, start_cpu = time.perf_counter(), time.process_time()
            layer.forward(x, training=True)
            wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            if r >= WARMUP_ROUNDS:
                times[kind][0].append(wall)
                times[kind][1].append(cpu)
        r += 1
    return times


def measure(name, threads, ber, repeats, min_seconds):
    """One table row: medians, minima and overheads of one layer shape at one thread count."""
    make, shape = SHAPES[name]
    rng = np.random.default_rng(0)
    layer = make(rng)
    x = np.where(rng.standard_normal(shape) >= 0, 1.0, -1.0).astype(np.float32)
    load_before = os.getloadavg()[0]
    t = timings(layer, x, BitErrors(ber, ber), repeats, min_seconds)
    (clean, clean_cpu), (flips, flips_cpu) = t["clean"], t["flips"]
    med = statistics.median
    return dict(layer=name, threads=threads, rounds=len(clean), load_before=load_before, load_after=os.getloadavg()[0],
                clean_median_s=med(clean), flips_median_s=med(flips), clean_min_s=min(clean), flips_min_s=min(flips),
                overhead_median=med(flips) / med(clean) - 1, overhead_min=min(flips) / min(clean) - 1,
                overhead_cpu_median=med(flips_cpu) / med(clean_cpu) - 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ber", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=41)
    parser.add_argument("--min-seconds", type=float, default=4.0)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "flip_cost.json"))
    args = parser.parse_args(argv)

    print(f"BER {args.ber}; >= {args.repeats} ABBA-interleaved rounds and >= {args.min_seconds} s per row; "
          f"overhead = ratio of medians - 1 (of the fastest runs, and of median CPU times, beside it)")
    print(f"{'layer':36s} {'threads':>7s} {'rounds':>6s} {'load':>9s} {'clean ms':>9s} {'flips ms':>9s} "
          f"{'overhead':>9s} {'(min)':>7s} {'(cpu)':>7s}")
    rows = []
    for threads in args.threads:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        for name in SHAPES:
            row = measure(name, threads, args.ber, args.repeats, args.min_seconds)
            rows.append(row)
            print(f"{name:36s} {threads:7d} {row['rounds']:6d} {row['load_before']:4.1f}-{row['load_after']:<4.1f} "
                  f"{1e3 * row['clean_median_s']:9.2f} {1e3 * row['flips_median_s']:9.2f} "
                  f"{100 * row['overhead_median']:8.1f}% {100 * row['overhead_min']:6.1f}% "
                  f"{100 * row['overhead_cpu_median']:6.1f}%")
    worst = max(rows, key=lambda row: row["overhead_median"])
    print(f"largest median overhead: {100 * worst['overhead_median']:.1f}% ({worst['layer']}, "
          f"{worst['threads']} thread(s))")
    record = dict(ber=args.ber, repeats=args.repeats, min_seconds=args.min_seconds, numba_version=numba.__version__,
                  numpy_version=np.__version__, cpus=os.cpu_count(), rows=rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, lambda tmp: tmp.write_text(json.dumps(record, indent=1)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
