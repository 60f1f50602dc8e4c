"""Benchmark the XNOR-popcount kernels against float32 BLAS on the layer shapes of LeNet-4 and NiN.

For each shape, times of:
- pack: binarizing and packing the float activations (per pixel, channels into words) and the weights;
- xnor gemm: the XNOR-popcount GEMM core on packed words gathered per kernel tap (KH·KW·ceil(C/64) words per row,
  the layout the conv kernel reads), with and without a preallocated int32 output;
- bin fwd: the whole binary forward, float input → float32 NCHW output (packing, gather and padding included);
- f32 i2c+mm: float32 im2col (bnn.kernels.im2col) + BLAS matmul + reshape to NCHW, the same convolution in float;
- f32 mm: the BLAS matmul alone (K = C·KH·KW), with and without a preallocated output.
Speedups: gemm x = f32 mm / xnor gemm (the same with preallocated outputs: out= x); fwd x = f32 i2c+mm / bin fwd.
GOPS count 2 operations per binary multiply-accumulate.  Each thread count (default 1 and 2) runs in a fresh process
so OpenBLAS and Numba both start with it.  Medians of several runs; on a shared machine also the CPU time (1 thread)
and the fastest run (2 threads), with the load average.  Prints tables and writes JSON (atomically).

    .venv/bin/python benchmarks/kernels.py [--threads 1 2] [--repeats 9] [--out benchmarks/results/kernels.json]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path, and benchmarks/mtj.py would shadow the mtj package.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

# name: (batch, in channels, in size, out channels, kernel, padding); stride 1 throughout.  Dense: kernel None.
SHAPES = {
    "lenet4-conv": (128, 20, 12, 50, 5, 0),
    "lenet4-dense": (128, 800, None, 500, None, None),
    "nin-conv5x5": (128, 96, 16, 192, 5, 2),
    "nin-conv1x1": (128, 192, 32, 192, 1, 0),
}


def median_seconds(fn, repeats):
    """{"wall": median wall time, "wall_min": fastest run, "cpu": median process CPU time}, in seconds.

    On a shared machine the wall time of a 1-thread run includes waiting for a core; its CPU time does not, so
    "cpu" is the load-robust figure for 1 thread (with 2 threads it sums both threads).
    """
    fn()   # warm-up: compilation (or cache load) and first-touch of buffers
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"wall": float(np.median(wall)), "wall_min": float(np.min(wall)), "cpu": float(np.median(cpu))}


def gather_words(xp, kh, kw, padding):
    """im2col on packed words, stride 1: (N, H, W, CW) → (N*OH*OW, KH*KW*CW), zero words at padded taps."""
    n, h, w, cw = xp.shape
    padded = np.zeros((n, h + 2 * padding, w + 2 * padding, cw), np.uint64)
    padded[:, padding:padding + h, padding:padding + w] = xp
    oh, ow = h + 2 * padding - kh + 1, w + 2 * padding - kw + 1
    taps = [padded[:, ky:ky + oh, kx:kx + ow] for ky in range(kh) for kx in range(kw)]
    return np.stack(taps, axis=3).reshape(n * oh * ow, kh * kw * cw)


def bench_conv(batch, c, size, o, k, padding, repeats, rng):
    from bnn.kernels import binary_conv2d, im2col, pack_conv_input, pack_conv_weights, xnor_gemm
    x = rng.standard_normal((batch, c, size, size)).astype(np.float32)
    w = rng.standard_normal((o, c, k, k)).astype(np.float32)
    xp, wp = pack_conv_input(x), pack_conv_weights(w)
    a_words, b_words = gather_words(xp, k, k, padding), np.ascontiguousarray(wp.reshape(o, -1))
    k_bits = 64 * a_words.shape[1]   # per-tap word padding holds zeros in both operands: they never count
    cols, w_mat = im2col(x, k, k, 1, padding), np.ascontiguousarray(w.reshape(o, -1).T)
    out_size = size + 2 * padding - k + 1
    gemm_out, matmul_out = np.empty((len(a_words), o), np.int32), np.empty((len(cols), o), np.float32)

    def float_conv():
        out = im2col(x, k, k, 1, padding) @ w_mat
        return np.ascontiguousarray(out.reshape(batch, out_size, out_size, o).transpose(0, 3, 1, 2))

    return {
        "pack": median_seconds(lambda: (pack_conv_input(x), pack_conv_weights(w)), repeats),
        "xnor_gemm": median_seconds(lambda: xnor_gemm(a_words, b_words, k_bits), repeats),
        "xnor_gemm_into": median_seconds(lambda: xnor_gemm(a_words, b_words, k_bits, out=gemm_out), repeats),
        "binary_forward": median_seconds(lambda: binary_conv2d(x, w, 1, padding), repeats),
        "float_im2col_matmul": median_seconds(float_conv, repeats),
        "float_matmul": median_seconds(lambda: cols @ w_mat, repeats),
        "float_matmul_into": median_seconds(lambda: np.matmul(cols, w_mat, out=matmul_out), repeats),
        "macs": batch * out_size * out_size * o * c * k * k,
        "gemm_words": int(a_words.shape[1]),
    }


def bench_dense(batch, features, o, repeats, rng):
    from bnn.kernels import binary_dense, pack_signs, xnor_gemm
    x = rng.standard_normal((batch, features)).astype(np.float32)
    w = rng.standard_normal((o, features)).astype(np.float32)
    (xp, k_bits), (wp, _) = pack_signs(x), pack_signs(w)
    w_t = np.ascontiguousarray(w.T)
    gemm_out, matmul_out = np.empty((batch, o), np.int32), np.empty((batch, o), np.float32)
    matmul = median_seconds(lambda: x @ w_t, repeats)
    return {
        "pack": median_seconds(lambda: (pack_signs(x), pack_signs(w)), repeats),
        "xnor_gemm": median_seconds(lambda: xnor_gemm(xp, wp, k_bits), repeats),
        "xnor_gemm_into": median_seconds(lambda: xnor_gemm(xp, wp, k_bits, out=gemm_out), repeats),
        "binary_forward": median_seconds(lambda: binary_dense(x, w), repeats),
        "float_im2col_matmul": matmul,
        "float_matmul": matmul,
        "float_matmul_into": median_seconds(lambda: np.matmul(x, w_t, out=matmul_out), repeats),
        "macs": batch * features * o,
        "gemm_words": int(xp.shape[1]),
    }


def worker(threads, repeats):
    """Run in a process whose OpenBLAS/Numba thread counts were set by the environment; print JSON."""
    import numba
    numba.set_num_threads(threads)
    rng = np.random.default_rng(0)
    load_before = os.getloadavg()
    results = {}
    for name, (batch, c, size, o, k, padding) in SHAPES.items():
        if k is None:
            results[name] = bench_dense(batch, c, o, repeats, rng)
        else:
            results[name] = bench_conv(batch, c, size, o, k, padding, repeats, rng)
    print(json.dumps({"threads": threads, "load_before": load_before, "load_after": os.getloadavg(),
                      "results": results}))


def run_threads(threads, repeats):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, __file__, "--worker", "--threads", str(threads), "--repeats",
                           str(repeats)], env=env, check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(run, clock):
    columns = [("pack", "pack"), ("xnor gemm", "xnor_gemm"), ("gemm out=", "xnor_gemm_into"),
               ("bin fwd", "binary_forward"), ("f32 i2c+mm", "float_im2col_matmul"), ("f32 mm", "float_matmul"),
               ("mm out=", "float_matmul_into")]
    load = " / ".join(" ".join(f"{v:.2f}" for v in run[key]) for key in ("load_before", "load_after"))
    kind = {"wall": "wall times (medians)", "cpu": "CPU times (medians)", "wall_min": "wall times (fastest run)"}
    lines = [f"threads = {run['threads']}, {kind[clock]} in ms; load average (1, 5, 15 min) "
             f"before / after: {load}",
             f"{'shape':<14}" + "".join(f"{title:>11}" for title, _ in columns)
             + f"{'gemm x':>8}{'out= x':>8}{'fwd x':>7}{'gemm GOPS':>11}{'fwd GOPS':>10}"]
    for name, r in run["results"].items():
        t = {key: r[key][clock] for _, key in columns}
        ops = 2 * r["macs"]   # one XNOR + one popcount-add per binary multiply-accumulate
        lines.append(f"{name:<14}" + "".join(f"{1e3 * t[key]:>11.2f}" for _, key in columns)
                     + f"{t['float_matmul'] / t['xnor_gemm']:>8.1f}"
                     f"{t['float_matmul_into'] / t['xnor_gemm_into']:>8.1f}"
                     f"{t['float_im2col_matmul'] / t['binary_forward']:>7.1f}"
                     f"{ops / t['xnor_gemm'] / 1e9:>11.0f}{ops / t['binary_forward'] / 1e9:>10.0f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "kernels.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.threads[0], args.repeats)
        return
    runs = [run_threads(t, args.repeats) for t in args.threads]
    print("gemm x = f32 mm / xnor gemm; out= x = the same with preallocated outputs; "
          "fwd x = f32 im2col+matmul (to NCHW) / binary forward")
    for run in runs:
        print(table(run, "wall"))
        # the load-robust view: CPU time for one thread; for several, the fastest run (least disturbed by others)
        print(table(run, "cpu" if run["threads"] == 1 else "wall_min"))
    from bnn.checkpoint import write_atomic   # here, not at the top: the kernels run in the worker processes
    record = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "shapes": SHAPES,
              "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out, lambda tmp: tmp.write_text(json.dumps(record, indent=2)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
