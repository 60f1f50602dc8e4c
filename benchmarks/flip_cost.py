"""What injecting bit errors costs: a binary layer's training forward pass with and without activation flips.

    python benchmarks/flip_cost.py [--ber 0.01] [--repeats 15] [--threads 1 2] [--out FILE]

For each layer shape (LeNet-4's binary conv and dense, NiN's 5x5 and 1x1 binary convs, batch 128) it times
`layer.forward(x, training=True)` with `activation_errors = None` and with `BitErrors(ber, ber)`: the flip mask is
drawn and XORed into the packed activations, and the flipped activations are unpacked again for the backward pass.
--repeats interleaved runs of each after a warm-up, per Numba thread count; the overhead is computed
from the fastest runs (the least disturbed by other processes) and, for comparison, from the medians. Prints a table, writes JSON (default
benchmarks/results/flip_cost.json) with the load average, since the machine may be shared.
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

from bnn.errors import BitErrors  # noqa: E402
from bnn.layers import BinaryConv2d, BinaryDense, XnorWeights  # noqa: E402

SHAPES = {  # name: (layer factory, input shape)
    "LeNet-4 conv 20->50 5x5, 12x12": (lambda rng: BinaryConv2d(20, 50, 5, rng, XnorWeights()), (128, 20, 12, 12)),
    "LeNet-4 dense 800->500": (lambda rng: BinaryDense(800, 500, rng, XnorWeights()), (128, 800)),
    "NiN conv 96->192 5x5 pad 2, 16x16": (lambda rng: BinaryConv2d(96, 192, 5, rng, XnorWeights(), padding=2),
                                         (128, 96, 16, 16)),
    "NiN conv 192->192 1x1, 8x8": (lambda rng: BinaryConv2d(192, 192, 1, rng, XnorWeights()), (128, 192, 8, 8)),
}


def timings(layer, x, errors, repeats):
    """Seconds of `repeats` training forward passes without and with `errors`, interleaved so that a change in the
    machine's load hits both alike. Returns (clean times, flipped times)."""
    clean, flipped = [], []
    for _ in range(repeats + 1):   # the first round compiles and warms caches; it is dropped
        for model, times in ((None, clean), (errors, flipped)):
            layer.activation_errors = model
            start = time.perf_counter()
            layer.forward(x, training=True)
            times.append(time.perf_counter() - start)
    return clean[1:], flipped[1:]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ber", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "flip_cost.json"))
    args = parser.parse_args(argv)

    rows = []
    print(f"load average {os.getloadavg()[0]:.1f}; BER {args.ber}; {args.repeats} interleaved runs each; "
          f"overhead from the fastest runs (least disturbed by other processes) and from the medians")
    print(f"{'layer':36s} {'threads':>7s} {'clean ms':>9s} {'flips ms':>9s} {'overhead':>9s} {'(median)':>9s}")
    for threads in args.threads:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        for name, (make, shape) in SHAPES.items():
            rng = np.random.default_rng(0)
            layer = make(rng)
            x = np.where(rng.standard_normal(shape) >= 0, 1.0, -1.0).astype(np.float32)
            clean, flipped = timings(layer, x, BitErrors(args.ber, args.ber), args.repeats)
            overhead = min(flipped) / min(clean) - 1
            overhead_median = statistics.median(flipped) / statistics.median(clean) - 1
            rows.append(dict(layer=name, threads=threads, clean_min_s=min(clean), flips_min_s=min(flipped),
                             clean_median_s=statistics.median(clean), flips_median_s=statistics.median(flipped),
                             overhead=overhead, overhead_median=overhead_median))
            print(f"{name:36s} {threads:7d} {1e3 * min(clean):9.2f} {1e3 * min(flipped):9.2f} "
                  f"{100 * overhead:8.1f}% {100 * overhead_median:8.1f}%")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(dict(ber=args.ber, repeats=args.repeats, load_average=os.getloadavg()[0],
                                              rows=rows), indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
