"""Step 3: the XNOR-popcount matrix product against a float matmul: the same numbers, and the speed of each.

A dense layer computes Y = X·Wᵀ for X (M, K) and W (N, K). With ±1 entries, every element of Y is a dot product
of two ±1 rows (step 1), so with rows packed into ceil(K/64) words (step 2):

    Y[i, j] = K − 2·Σ_w popcount(Xp[i, w] XOR Wp[j, w]).

That is `bnn.kernels.xnor_gemm(Xp, Wp, K)`, an int32 (M, N) result that must equal the float matmul of the signs
*exactly* (integers, no rounding), which this script checks against the NumPy twin and against float64 matmul.

Speed. One 64-bit XOR + popcount does the work of 64 multiply-adds, and the operands are 32× smaller than float32
(the memory traffic of a layer drops by as much). A float32 matmul runs on a tuned BLAS with SIMD fused
multiply-adds, so the real speed-up on a CPU is far below 64 and depends on the CPU (VPOPCNTQ on AVX-512 helps a
lot). The timing table below is a measurement on your machine, on one core (both BLAS and Numba limited to one thread),
best of several timings; the careful numbers, with 1 and 2 threads, live in benchmarks/kernels.py.
"""
import os
import timeit

# One thread for both contestants, fixed before NumPy loads its BLAS: a like-for-like comparison per core, and one
# that a busy machine cannot turn into a measurement of thread scheduling.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[variable] = "1"

import numpy as np  # noqa: E402

from _common import fact, save_figure, setup  # noqa: E402

args = setup(__doc__)

from bnn.kernels import pack_signs, xnor_gemm  # noqa: E402
from bnn.kernels import reference  # noqa: E402

rng = np.random.default_rng(3)

# Correctness: odd sizes, K not a multiple of 64, a batch of 1.
for m, n, k in ((1, 1, 1), (5, 3, 63), (7, 9, 64), (4, 11, 65), (33, 17, 1000)):
    x = rng.normal(size=(m, k)).astype(np.float32)
    w = rng.normal(size=(n, k)).astype(np.float32)
    xp, _ = pack_signs(x)
    wp, _ = pack_signs(w)
    fast = xnor_gemm(xp, wp, k)
    twin = reference.xnor_gemm(xp, wp, k)                        # unpack bit by bit, integer matmul
    as_float = np.where(x >= 0, 1.0, -1.0) @ np.where(w >= 0, 1.0, -1.0).T
    fact(f"M={m:2d} N={n:2d} K={k:4d}: xnor_gemm == NumPy twin == float matmul of the signs, exactly",
         np.array_equal(fast, twin) and np.array_equal(fast, as_float))


def best_seconds(fn, repeats):
    """Seconds per call: the best of `repeats` timings of a loop long enough (>= 20 ms) to time reliably.
    The minimum, not the median: on a shared machine the slow runs measure the other programs, not fn."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()               # also the warm-up: Numba compilation, caches
    number = max(1, number // 10)               # autorange aims at 0.2 s per timing; 20 ms is enough here
    return min(timer.repeat(repeats, number)) / number


sizes = [(64, 256, 512), (128, 512, 1024)] if args.quick else \
        [(64, 256, 512), (128, 512, 1024), (256, 1024, 2048), (512, 2048, 4096)]
repeats = 3 if args.quick else 7
print(f"\n{'M':>5} {'N':>5} {'K':>5}  {'float32 BLAS':>12}  {'pack + XNOR':>12}  {'XNOR only':>10}  "
      "speed-up (XNOR only)")
rows = []
for m, n, k in sizes:
    x = rng.normal(size=(m, k)).astype(np.float32)
    w = rng.normal(size=(n, k)).astype(np.float32)
    xs, ws = np.where(x >= 0, 1, -1).astype(np.float32), np.where(w >= 0, 1, -1).astype(np.float32)
    xp, _ = pack_signs(x)
    wp, _ = pack_signs(w)
    t_float = best_seconds(lambda: xs @ ws.T, repeats)
    t_packed = best_seconds(lambda: xnor_gemm(pack_signs(x)[0], pack_signs(w)[0], k), repeats)
    t_xnor = best_seconds(lambda: xnor_gemm(xp, wp, k), repeats)
    rows.append((m, n, k, t_float, t_packed, t_xnor))
    print(f"{m:>5} {n:>5} {k:>5}  {1e3 * t_float:>9.2f} ms  {1e3 * t_packed:>9.2f} ms  {1e3 * t_xnor:>7.2f} ms  "
          f"{t_float / t_xnor:.2f}×")
print("memory of the operands: 64 values take 2048 bits as float32, 64 bits packed: 32× less")

import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(6.5, 4))
macs = np.array([m * n * k for m, n, k, *_ in rows], float)
labels = ["float32 matmul (BLAS)", "pack + XNOR-popcount", "XNOR-popcount only"]
for col, label, marker in zip((3, 4, 5), labels, "osd"):
    ax.plot(macs, macs / np.array([r[col] for r in rows]) / 1e9, marker=marker, label=label)
ax.set(xscale="log", yscale="log", xlabel="multiply-accumulates per product (M·N·K)",
       ylabel="billions of ±1 MACs per second", title="Binary matrix product on one core of this machine")
ax.grid(alpha=0.3)
ax.legend()
save_figure(fig, args.figure)
