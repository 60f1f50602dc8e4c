"""Concurrency: processes preparing the same dataset cache at once, and two real sweeps writing into one folder.

(tests/bnn/test_sweep.py already runs two sweeps of a fake trainer into one folder; here the real engine does.)
"""
import csv
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

BUILD_AT_ONCE = """
import sys, time, warnings
import datasets
from datasets import cache
warnings.simplefilter("ignore")
write = cache._write
def counted(*args):
    print("built", flush=True)
    return write(*args)
cache._write = counted
start_at, root, cache_dir = float(sys.argv[1]), sys.argv[2], sys.argv[3]
time.sleep(max(0.0, start_at - time.time()))        # every process starts loading at the same moment
ds = datasets.load("mnist", "train", root=root, cache_dir=cache_dir)
print(ds.meta["images_sha256"], len(ds), flush=True)
"""


def test_processes_preparing_one_cache_at_once_build_it_once(tmp_path, mnist_dir):
    """Three processes load real MNIST train (60,000 images) into an empty cache folder at the same instant:
    one builds, the others wait on the lock and read its file; all see the same verified data."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start_at = time.time() + 15         # past the imports of all three, even on a loaded machine
    procs = [subprocess.Popen([sys.executable, "-c", BUILD_AT_ONCE, str(start_at), str(mnist_dir.parent),
                               str(tmp_path / "cache")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-2000:]
    lines = [out.split("\n") for out, _ in outputs]
    assert sum(line.count("built") for line in lines) == 1, "the cache was built more than once"
    results = {next(l for l in ls if l and l != "built") for ls in lines}
    assert len(results) == 1 and results.pop().endswith(" 60000")
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["mnist-train.h5", "mnist-train.h5.lock"]


@pytest.mark.slow
def test_two_real_sweeps_into_one_folder_train_every_run_once(tmp_path, mnist_subset):
    args = ["-m", "bnn", "sweep", "--model", "lenet4", "--epochs", "1", "--batch-size", "64", "--train-subset", "320",
            "--test-subset", "100", "--ber", "0", "0.01", "0.1", "--repeats", "1", "--seed", "2", "--workers", "0",
            "--threads", "1", "--data-root", str(mnist_subset)]
    env = dict(os.environ, PYTHONPATH=str(REPO), XNOR_MRAM_CACHE=str(tmp_path / "cache"), PYTHONWARNINGS="ignore",
               NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    subprocess.run([sys.executable, *args, "--out", str(tmp_path / "alone")], env=env, check=True,
                   capture_output=True)
    both = [subprocess.Popen([sys.executable, *args, "--out", str(tmp_path / "shared")], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=900) for p in both]
    for p, (out, err) in zip(both, outputs):
        assert p.returncode == 0, err[-2000:]
    progress = [line for out, _ in outputs for line in out.splitlines() if re.match(r"\[\d+/\d+\] ", line)]
    assert any(line.startswith("[ber=0.01/rep=0] epoch 1/1 ") for out, _ in outputs for line in out.splitlines())
    trained = [line for line in progress if "already finished" not in line]
    assert len(trained) == 3, f"every run trained exactly once:\n" + "\n".join(progress)

    def rows(folder):
        with open(tmp_path / folder / "results.csv") as f:
            return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]
    assert rows("shared") == rows("alone")
