"""Seconds per NiN training epoch on CIFAR-10-sized input (batch 128), this engine vs a PyTorch CPU yardstick.

    python benchmarks/train_nin.py [--threads 1 2] [--repeats 3] [--batches 20] [--ops] [--torch-python PY]
                                   [--out FILE]

For each engine and thread count a fresh subprocess (BLAS, Numba and PyTorch read their thread counts at start)
trains the binarized NiN of bnn.models.nin on random (128, 3, 32, 32) batches: 2 warm-up steps, then `--batches`
timed steps (forward, loss, backward, Adam, weight constraints), `--repeats` times. The median step time x the number
of batches gives seconds per epoch for 50,000 images (the full training set, 391 batches) and 10,000 images (the
authors' subset, 79 batches); evaluation is not included. For this engine the per-layer forward/backward seconds per
step (Model.timings, median over repeats) show where the time goes.

The yardstick is the same network in PyTorch (the public XNOR-Net code's structure): sign with the hard-tanh STE,
weights alpha * sign(W) with the full derivative, the same BatchNorm/dropout/pooling sequence, float32, channels-first,
torch.nn.functional.conv2d (oneDNN) for every conv. It runs with `--torch-python` (default /work/torchvenv/bin/python,
a venv holding torch; PyTorch is not a dependency of this project) and is skipped with a message if `import torch`
fails there. Writes JSON (default benchmarks/results/train_nin.json) and prints a table; the machine may be shared,
so the load average before and after is recorded.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path, and benchmarks/mtj.py would shadow the mtj package.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

BATCH = 128
EPOCH_IMAGES = (50_000, 10_000)
TORCH_PYTHON = "/work/torchvenv/bin/python"


def bnn_worker(args):
    from collections import defaultdict

    import numba
    import numpy as np

    from bnn.layers import softmax_cross_entropy
    from bnn.models import nin
    from bnn.optim import make_optimizer

    numba.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    model = nin(rng)
    model.constrain()
    optimizer = make_optimizer("adam", model.params(), 0.01, 1e-5)
    x = rng.standard_normal((BATCH, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)

    def step():
        loss, dlogits = softmax_cross_entropy(model.forward(x), y)
        model.backward(dlogits)
        optimizer.step(model.grads())
        model.constrain()

    model.train()
    for _ in range(2):
        step()
    step_times, cpu_times, layer_times = [], [], []
    for _ in range(args.repeats):
        model.timings = defaultdict(float)
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.batches):
            step()
        step_times.append((time.perf_counter() - start) / args.batches)
        cpu_times.append((time.process_time() - cpu) / args.batches)
        layer_times.append({f"{name}.{phase}": t / args.batches for (name, phase), t in model.timings.items()})
        model.timings = None
    layers = {key: statistics.median(r[key] for r in layer_times) for key in layer_times[0]}
    return dict(step_seconds=step_times, step_cpu_seconds=cpu_times, layers=layers)


def torch_worker(args):
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    class SignSTE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * (x.abs() < 1).to(grad.dtype)

    class XnorWeight(torch.autograd.Function):
        """alpha * sign(W) per output unit; gradient of both factors (the reference code's, before its n-scale)."""
        @staticmethod
        def forward(ctx, w):
            n = w[0].numel()
            alpha = w.abs().flatten(1).mean(1).view(-1, *([1] * (w.dim() - 1)))
            sign = torch.where(w >= 0, 1.0, -1.0).to(w.dtype)
            ctx.save_for_backward(w, sign, alpha)
            ctx.n = n
            return sign * alpha

        @staticmethod
        def backward(ctx, grad):
            w, sign, alpha = ctx.saved_tensors
            dims = tuple(range(1, w.dim()))
            return alpha * (w.abs() <= 1).to(grad.dtype) * grad + sign * (sign * grad).sum(dims, keepdim=True) / ctx.n

    class BinConv(nn.Module):
        def __init__(self, c_in, c_out, k, dropout=0.0):
            super().__init__()
            self.drop = nn.Dropout(dropout) if dropout else None
            self.bn = nn.BatchNorm2d(c_in, eps=1e-4, momentum=0.1)
            self.weight = nn.Parameter(torch.randn(c_out, c_in, k, k) * 0.05)
            self.bias = nn.Parameter(torch.zeros(c_out))
            self.padding = k // 2

        def forward(self, x):
            self.bn.weight.data.clamp_(min=0.01)
            x = SignSTE.apply(self.bn(x))
            if self.drop is not None:
                x = self.drop(x)
            return F.relu(F.conv2d(x, XnorWeight.apply(self.weight), self.bias, padding=self.padding))

    model = nn.Sequential(
        nn.Conv2d(3, 192, 5, padding=2), nn.BatchNorm2d(192, eps=1e-4, momentum=0.1, affine=False), nn.ReLU(),
        BinConv(192, 160, 1), BinConv(160, 96, 1), nn.MaxPool2d(3, 2, 1),
        BinConv(96, 192, 5, 0.5), BinConv(192, 192, 1), BinConv(192, 192, 1), nn.AvgPool2d(3, 2, 1),
        BinConv(192, 192, 3, 0.5), BinConv(192, 192, 1),
        nn.BatchNorm2d(192, eps=1e-4, momentum=0.1, affine=False), nn.Conv2d(192, 10, 1), nn.ReLU(),
        nn.AvgPool2d(8), nn.Flatten())
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-5)
    x = torch.randn(BATCH, 3, 32, 32)
    y = torch.randint(0, 10, (BATCH,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        with torch.no_grad():   # the XNOR-Net weight constraint: mean-centre over the input axes, clip to [-1, 1]
            for module in model:
                if isinstance(module, BinConv):
                    w = module.weight
                    w.sub_(w.mean(dim=1, keepdim=True)).clamp_(-1, 1)

    model.train()
    for _ in range(2):
        step()
    step_times, cpu_times = [], []
    for _ in range(args.repeats):
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.batches):
            step()
        step_times.append((time.perf_counter() - start) / args.batches)
        cpu_times.append((time.process_time() - cpu) / args.batches)
    return dict(step_seconds=step_times, step_cpu_seconds=cpu_times, torch_version=torch.__version__)


def cpu_seconds(f, repeats=3):
    """Median process CPU seconds of f() over `repeats` calls after one warm-up call."""
    f()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        f()
        times.append(time.process_time() - start)
    return statistics.median(times)


def bnn_ops_worker(args):
    """CPU seconds of the step's hot operations at NiN's sizes (batch 128), this engine."""
    import numba
    import numpy as np

    from bnn.kernels.bitpack import pack_conv_input, pack_conv_weights
    from bnn.kernels.conv import binary_conv2d_packed
    from bnn.layers.activation import relu_forward, sign_backward, sign_forward
    from bnn.layers.batchnorm import batchnorm_backward, batchnorm_forward
    from bnn.layers.conv import conv2d_backward_chunked
    from bnn.layers.pool import maxpool_backward, maxpool_forward

    numba.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 192, 32, 32)).astype(np.float32)
    gamma, beta = np.ones(192, np.float32), np.zeros(192, np.float32)
    _, bn_cache = batchnorm_forward(x, gamma, beta, np.zeros(192, np.float32), np.ones(192, np.float32), 0.1, 1e-4,
                                    True)
    x96 = np.ascontiguousarray(x[:, :96])
    pooled, pool_cache = maxpool_forward(x96, 3, 2, 1)
    x4 = np.where(rng.standard_normal((BATCH, 96, 16, 16)) >= 0, 1, -1).astype(np.float32)
    w4 = np.where(rng.standard_normal((192, 96, 5, 5)) >= 0, 1, -1).astype(np.float32)
    d4 = rng.standard_normal((BATCH, 192, 16, 16)).astype(np.float32)
    packed, packed_w = pack_conv_input(x4), pack_conv_weights(w4)
    return {
        "sign forward (128x192x32x32)": cpu_seconds(lambda: sign_forward(x)),
        "sign backward": cpu_seconds(lambda: sign_backward(x, x)),
        "relu forward": cpu_seconds(lambda: relu_forward(x)),
        "batchnorm forward (affine)": cpu_seconds(
            lambda: batchnorm_forward(x, gamma, beta, np.zeros(192, np.float32), np.ones(192, np.float32), 0.1,
                                      1e-4, True)),
        "batchnorm backward": cpu_seconds(lambda: batchnorm_backward(x, bn_cache)),
        "maxpool 3/2 forward (128x96x32x32)": cpu_seconds(lambda: maxpool_forward(x96, 3, 2, 1)),
        "maxpool 3/2 backward": cpu_seconds(lambda: maxpool_backward(pooled, pool_cache)),
        "conv4 forward (XNOR, packed)": cpu_seconds(lambda: binary_conv2d_packed(packed, packed_w, 96, 1, 2)),
        "conv4 backward (im2col, 2 GEMMs, col2im)": cpu_seconds(lambda: conv2d_backward_chunked(d4, x4, w4, 1, 2)),
    }


def torch_ops_worker(args):
    """The same operations in PyTorch (conv4: forward and forward + backward, oneDNN)."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    x = torch.randn(BATCH, 192, 32, 32)
    gamma, beta = torch.ones(192, requires_grad=True), torch.zeros(192, requires_grad=True)
    x_grad = x.clone().requires_grad_()
    x96 = x[:, :96].contiguous().requires_grad_()
    x4, w4 = torch.randn(BATCH, 96, 16, 16, requires_grad=True), torch.randn(192, 96, 5, 5, requires_grad=True)

    def backward(y):
        y.backward(torch.ones_like(y))

    return {
        "sign forward (128x192x32x32)": cpu_seconds(lambda: torch.where(x >= 0, 1.0, -1.0)),
        "sign backward": cpu_seconds(lambda: x * (x.abs() < 1)),
        "relu forward": cpu_seconds(lambda: F.relu(x)),
        "batchnorm forward (affine)": cpu_seconds(
            lambda: F.batch_norm(x, None, None, gamma.detach(), beta.detach(), training=True, eps=1e-4)),
        "batchnorm forward + backward": cpu_seconds(
            lambda: backward(F.batch_norm(x_grad, None, None, gamma, beta, training=True, eps=1e-4))),
        "maxpool 3/2 forward (128x96x32x32)": cpu_seconds(lambda: F.max_pool2d(x96.detach(), 3, 2, 1)),
        "maxpool 3/2 forward + backward": cpu_seconds(lambda: backward(F.max_pool2d(x96, 3, 2, 1))),
        "conv4 forward (float)": cpu_seconds(lambda: F.conv2d(x4.detach(), w4.detach(), padding=2)),
        "conv4 forward + backward": cpu_seconds(lambda: backward(F.conv2d(x4, w4, padding=2))),
    }


def run_worker(python, engine, threads, args):
    """One worker subprocess; returns its JSON result, or None with a message if it could not run. Each engine gets
    its own threading setup: PyTorch `threads` intra-op threads; this engine `threads` Numba threads and
    single-threaded BLAS, as `python -m bnn` runs it (its batch pool makes the parallel BLAS calls; a
    multi-threaded BLAS under it would oversubscribe the cores)."""
    blas = threads if engine.startswith("torch") else 1
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(blas),
               OPENBLAS_NUM_THREADS=str(blas), MKL_NUM_THREADS=str(blas))
    command = [python, str(Path(__file__).resolve()), "--worker", engine, "--threads-now", str(threads),
               "--repeats", str(args.repeats), "--batches", str(args.batches)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        print(f"{engine} with {threads} thread(s) failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def torch_available(python):
    if not Path(python).exists():
        return False, f"{python} not found"
    done = subprocess.run([python, "-c", "import torch"], capture_output=True, text=True)
    return done.returncode == 0, done.stderr.strip().splitlines()[-1] if done.returncode else ""


def summarize(result):
    step = statistics.median(result["step_seconds"])
    cpu = statistics.median(result["step_cpu_seconds"])
    return dict(result, median_step_seconds=step, median_step_cpu_seconds=cpu,
                **{f"epoch_seconds_{n}": step * -(-n // BATCH) for n in EPOCH_IMAGES},
                **{f"epoch_cpu_seconds_{n}": cpu * -(-n // BATCH) for n in EPOCH_IMAGES})


def table(results):
    """Wall-clock and CPU seconds. On a loaded machine the wall time mostly measures the load; with 1 thread the
    CPU time is what the step costs an otherwise idle core (up to cache sharing)."""
    lines = [f"{'engine':<8} {'threads':>7} {'s/batch':>8} {'s/epoch 50k':>12} {'s/epoch 10k':>12} "
             f"{'CPU s/batch':>12} {'CPU s/epoch 50k':>16}"]
    for r in results:
        lines.append(f"{r['engine']:<8} {r['threads']:>7} {r['median_step_seconds']:>8.3f} "
                     f"{r['epoch_seconds_50000']:>12.0f} {r['epoch_seconds_10000']:>12.0f} "
                     f"{r['median_step_cpu_seconds']:>12.3f} {r['epoch_cpu_seconds_50000']:>16.0f}")
    return "\n".join(lines)


def layer_table(result, top=16):
    layers = sorted(result["layers"].items(), key=lambda kv: -kv[1])
    total = sum(result["layers"].values())
    lines = [f"per-layer seconds per step, this engine, {result['threads']} thread(s) "
             f"(sum {total:.3f} s of {result['median_step_seconds']:.3f} s per step)"]
    lines += [f"  {name:<18} {seconds:8.4f}  {100 * seconds / total:5.1f} %" for name, seconds in layers[:top]]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, default=20, help="timed training steps per repeat")
    parser.add_argument("--torch-python", default=TORCH_PYTHON)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "train_nin.json")
    parser.add_argument("--ops", action="store_true", help="also time the hot operations alone (CPU seconds, 1 thread)")
    parser.add_argument("--worker", choices=("bnn", "torch", "bnn-ops", "torch-ops"), help=argparse.SUPPRESS)
    parser.add_argument("--threads-now", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.threads = args.threads_now
        workers = {"bnn": bnn_worker, "torch": torch_worker, "bnn-ops": bnn_ops_worker, "torch-ops": torch_ops_worker}
        result = workers[args.worker](args)
        print(json.dumps(result))
        return 0
    has_torch, why = torch_available(args.torch_python)
    if not has_torch:
        print(f"PyTorch yardstick skipped: cannot import torch with {args.torch_python} ({why})")
    load_before = os.getloadavg()
    results = []
    for threads in args.threads:
        for engine, python in (("bnn", sys.executable), ("torch", args.torch_python)):
            if engine == "torch" and not has_torch:
                continue
            result = run_worker(python, engine, threads, args)
            if result is not None:
                results.append(summarize(dict(result, engine=engine, threads=threads)))
                print(table(results[-1:]).splitlines()[-1], flush=True)
    ops = {}
    if args.ops:
        for engine, python in (("bnn-ops", sys.executable), ("torch-ops", args.torch_python)):
            if engine == "bnn-ops" or has_torch:
                ops[engine] = run_worker(python, engine, 1, args)
    record = dict(batch=BATCH, batches=args.batches, repeats=args.repeats, load_before=load_before,
                  load_after=os.getloadavg(), cpu_count=os.cpu_count(), results=results, ops=ops)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=2))
    os.replace(tmp, args.out)
    print(table(results))
    for r in results:
        if r["engine"] == "bnn":
            print(layer_table(r))
    for engine, timings in ops.items():
        print(f"{engine}: CPU seconds, 1 thread")
        for name, seconds in (timings or {}).items():
            print(f"  {name:<36} {seconds:7.3f}")
    print(f"load average before {load_before}, after {record['load_after']}; written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
