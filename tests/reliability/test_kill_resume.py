"""Kill and resume: training and a sweep run in a subprocess that is SIGKILLed at random points (mid-cache-build,
mid-epoch, mid-checkpoint-write, mid-result-write), then rerun until done. The final metrics, parameters, optimizer
state and random state must equal those of an uninterrupted run with the same seed, bit for bit.

The runs are tiny (the first 320 training and 100 test images of real MNIST, 2 epochs of 5 batches). CI chains
3 kills per kind (training, sweep); `--fuzz-long` chains 12 per kind, at points drawn from a fresh seed.
The subprocess kills itself at its N-th event of a kind (tests/reliability/killable.py): a real SIGKILL (no cleanup
runs), at points that are reproducible from the seed.

Stop and resume: the test sends SIGTERM, then SIGINT, to a training run and to a sweep with a worker process, each
paused at a chosen batch (killable.py --pause / --pause-worker), so the stops land at reproducible points. Each stops
after its batch with status 143 or 130 and prints the command that resumes; that command, run as printed, ends where
the uninterrupted run ends, bit for bit.
"""
import csv
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bnn import checkpoint
from bnn import sweep as sw
from bnn.models import build

REPO = Path(__file__).resolve().parents[2]
KILLABLE = Path(__file__).with_name("killable.py")
TRAIN_IMAGES, TEST_IMAGES, BATCH, EPOCHS = 320, 100, 64, 2      # as the mnist_subset fixture
LOSSES_PER_EPOCH = -(-TRAIN_IMAGES // BATCH) + 1          # training batches + one test batch (evaluate uses 1000)
COMMON = ["--model", "lenet4", "--epochs", str(EPOCHS), "--batch-size", str(BATCH),
          "--train-subset", str(TRAIN_IMAGES), "--test-subset", str(TEST_IMAGES)]

pytestmark = pytest.mark.slow


def checkpoint_arrays():
    """Datasets written per checkpoint of LeNet-4 with Adam: parameters and buffers, then m and v per parameter."""
    model = build("lenet4", np.random.default_rng(0))
    return len(model.state()) + 2 * len(model.params())


def environment(cache):
    return dict(os.environ, PYTHONPATH=str(REPO), XNOR_MRAM_CACHE=str(cache), PYTHONWARNINGS="ignore",
                **{name: "1" for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                          "MKL_NUM_THREADS")})


def run(args, cache, kill=None):
    """Run `python -m bnn ARGS` through killable.py; returns True if it was killed, False if it finished."""
    command = [sys.executable, str(KILLABLE), *(["--kill", kill] if kill else []), "--", *args]
    done = subprocess.run(command, env=environment(cache), capture_output=True, text=True, timeout=900)
    if done.returncode == -signal.SIGKILL and kill:
        return True
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return False


def without_seconds(rows):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def assert_same_checkpoint(a_path, b_path):
    a, b = checkpoint.load(a_path), checkpoint.load(b_path)
    for name, array in a.model_state.items():
        np.testing.assert_array_equal(b.model_state[name], array, err_msg=name)
    for slot, arrays in a.optimizer_arrays.items():
        for name, array in arrays.items():
            np.testing.assert_array_equal(b.optimizer_arrays[slot][name], array, err_msg=f"{slot}/{name}")
    assert (a.epoch, a.optimizer_scalars, a.rng_state, a.config) == (b.epoch, b.optimizer_scalars, b.rng_state,
                                                                      b.config)
    assert without_seconds(a.history) == without_seconds(b.history)


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def kills(long):
    """(rng, kill points per kind): a fixed seed in CI, a fresh one (printed) in long mode. Three in CI, so every
    phase (cache / batch / checkpoint for training, batch / checkpoint / result for a sweep) is hit once."""
    seed = int(np.random.SeedSequence().entropy % 2 ** 32) if long else 20261129
    print(f"kill points drawn with seed {seed}")
    return np.random.default_rng(seed), (12 if long else 3)


def interrupted(args, cache, kinds, budget, rng, available, progress):
    """Kill runs of `args` at up to `budget` points, then run it to the end; returns the number of kills.

    Kinds cycle through `kinds`; each point N is drawn from 1..available()[kind], the events of that kind the
    next process must still go through, so every point kills. progress() (finished work) must never decrease."""
    kills, seen = 0, progress()
    while kills < budget:
        kind = kinds[kills % len(kinds)]
        events = available()[kind]
        if events == 0:
            break
        n = int(rng.integers(1, events + 1))
        assert run(args, cache, kill=f"{kind}:{n}"), f"{kind}:{n} of {events} did not kill the process"
        kills += 1
        now = progress()
        assert now >= seen, f"the kill at {kind}:{n} lost finished work ({seen} -> {now})"
        seen = now
    run(args, cache)
    return kills


def test_training_killed_anywhere_resumes_to_the_same_run(tmp_path, mnist_subset, kills):
    data = mnist_subset
    rng, count = kills
    args = ["train", *COMMON, "--seed", "5", "--resume", "--no-progress", "--data-root", str(data)]
    whole = tmp_path / "whole"
    run([*args, "--out", str(whole)], tmp_path / "cache-whole")
    done, attempt = 0, 0
    while done < count:
        folder, cache = tmp_path / f"killed-{attempt}", tmp_path / f"cache-{attempt}"
        ckpt = folder / "checkpoint.h5"

        def epochs_done():
            return checkpoint.load(ckpt).epoch if ckpt.exists() else 0

        def available():
            left = EPOCHS - epochs_done()
            missing = sum(not (cache / f"mnist-{split}.h5").exists() for split in ("train", "test"))
            return {"cache": 3 * missing, "batch": LOSSES_PER_EPOCH * left, "checkpoint": checkpoint_arrays() * left}
        done += interrupted([*args, "--out", str(folder)], cache, ["cache", "batch", "checkpoint"], count - done,
                            rng, available, epochs_done)
        attempt += 1
        assert_same_checkpoint(whole / "checkpoint.h5", ckpt)
        assert without_seconds(read_csv(folder / "metrics.csv")) == without_seconds(read_csv(whole / "metrics.csv"))
        assert not [p.name for p in cache.iterdir() if p.suffix == ".tmp"], "a temporary cache file is left"


def test_sweep_killed_anywhere_resumes_to_the_same_results(tmp_path, mnist_subset, kills):
    data = mnist_subset
    rng, count = kills
    args = ["sweep", *COMMON, "--ber", "0", "0.05", "--repeats", "1", "--seed", "3", "--workers", "0",
            "--threads", "1", "--data-root", str(data)]
    whole = tmp_path / "whole"
    run([*args, "--out", str(whole)], tmp_path / "cache-whole")
    runs = sorted(p.parent.relative_to(whole) for p in whole.glob("runs/*/*/result.json"))
    assert len(runs) == 2
    done, attempt = 0, 0
    while done < count:
        folder = tmp_path / f"killed-{attempt}"

        def epochs_done():
            return sum(EPOCHS if (folder / r / "result.json").exists() else
                       checkpoint.load(folder / r / "checkpoint.h5").epoch if (folder / r / "checkpoint.h5").exists()
                       else 0 for r in runs)

        def available():
            left = EPOCHS * len(runs) - epochs_done()
            unfinished = sum(not (folder / r / "result.json").exists() for r in runs)
            return {"batch": LOSSES_PER_EPOCH * left, "checkpoint": checkpoint_arrays() * left,
                    "result": 3 * unfinished}
        done += interrupted([*args, "--out", str(folder)], tmp_path / f"cache-{attempt}",
                            ["batch", "checkpoint", "result"], count - done, rng, available, epochs_done)
        attempt += 1
        assert without_seconds(read_csv(folder / "results.csv")) == without_seconds(read_csv(whole / "results.csv"))
        for r in runs:
            assert_same_checkpoint(whole / r / "checkpoint.h5", folder / r / "checkpoint.h5")
            a, b = (json.loads((base / r / "result.json").read_text()) for base in (whole, folder))
            assert without_seconds(a["history"]) == without_seconds(b["history"]) and a["config"] == b["config"]


# --- SIGTERM / SIGINT: stop at a safe point, resume with the printed command -----------------------------------------

def stopped(args, cache, pause, signum, log, where="--pause"):
    """Run `python -m bnn ARGS` through killable.py, paused at event `pause` (in this process, or with
    where="--pause-worker" in its sweep workers); once it says so, send it `signum`. Returns (exit status, its
    stdout and stderr)."""
    command = [sys.executable, str(KILLABLE), where, pause, "--", *args]
    with open(log, "w") as output:
        process = subprocess.Popen(command, env=environment(cache), stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while f"paused at {pause}" not in log.read_text():
            assert process.poll() is None, f"{command} ended ({process.returncode}) before {pause}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"{command} did not reach {pause}"
            time.sleep(0.05)
        process.send_signal(signum)
        process.wait(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, log.read_text()


def resume_command(output):
    """The command the stopped process printed after `resume with: `, as an argument list."""
    lines = [line for line in output.splitlines() if line.startswith("resume with: ")]
    assert len(lines) == 1, output
    return shlex.split(lines[0][len("resume with: "):])


def test_training_stopped_by_sigterm_then_sigint_resumes_to_the_same_run(tmp_path, mnist_subset):
    cache = tmp_path / "cache"
    args = ["train", *COMMON, "--seed", "5", "--threads", "1", "--data-root", str(mnist_subset)]
    whole, out = tmp_path / "whole", tmp_path / "stopped"
    run([*args, "--out", str(whole)], cache)
    first = [*args, "--out", str(out)]

    status, output = stopped(first, cache, "batch:3", signal.SIGTERM, tmp_path / "1.log")   # epoch 1, batch 3
    assert status == 128 + signal.SIGTERM == 143, output
    assert f"stopped by SIGTERM during epoch 1 of 2 in {out}: that epoch is dropped; no checkpoint was written " \
           f"yet" in output
    assert "Traceback" not in output and "\r" not in output, "no traceback, and no progress bar off a terminal"
    resume = resume_command(output)
    assert resume == [sys.executable, "-m", "bnn", *first, "--resume"]
    assert sorted(p.name for p in out.iterdir()) == [], "nothing written before the first epoch ended"

    # the resumed run, stopped in its second epoch (event 6 is epoch 1's test batch)
    status, output = stopped(resume[3:], cache, f"batch:{LOSSES_PER_EPOCH + 2}", signal.SIGINT, tmp_path / "2.log")
    assert status == 128 + signal.SIGINT == 130, output
    assert f"stopped by SIGINT during epoch 2 of 2 in {out}: that epoch is dropped; the last good checkpoint " \
           f"(epoch 1) is {out / 'checkpoint.h5'}" in output
    assert resume_command(output) == resume, "--resume is not given twice"
    assert checkpoint.load(out / "checkpoint.h5").epoch == 1
    assert sorted(p.name for p in out.iterdir()) == ["best.h5", "checkpoint.h5", "metrics.csv"]

    subprocess.run(resume, env=environment(cache), check=True, capture_output=True, timeout=900)
    for name in ("checkpoint.h5", "best.h5"):
        assert_same_checkpoint(whole / name, out / name)
    assert without_seconds(read_csv(out / "metrics.csv")) == without_seconds(read_csv(whole / "metrics.csv"))


def test_sweep_with_a_worker_process_stopped_by_signals_resumes_to_the_same_results(tmp_path, mnist_subset):
    """The signals go to the sweep's parent process, which passes the stop on to its worker."""
    cache = tmp_path / "cache"
    args = ["sweep", *COMMON, "--ber", "0", "0.05", "--repeats", "1", "--seed", "3", "--workers", "1",
            "--threads", "1", "--data-root", str(mnist_subset)]
    whole, out = tmp_path / "whole", tmp_path / "stopped"
    run([*args, "--out", str(whole)], cache)
    first, runs = [*args, "--out", str(out)], [sw.run_dir(out, ber, 0) for ber in (0.0, 0.05)]

    # SIGTERM in the first run's epoch 2, batch 2: the second run, queued for the worker, never starts
    status, output = stopped(first, cache, f"batch:{LOSSES_PER_EPOCH + 2}", signal.SIGTERM, tmp_path / "1.log",
                             where="--pause-worker")
    assert status == 143, output
    assert f"ber=0 rep=0: stopped by SIGTERM during epoch 2 of 2 in {runs[0]}: that epoch is dropped; the last " \
           f"good checkpoint (epoch 1)" in output
    assert "stopped by SIGTERM with 0 of 2 runs finished" in output and "Traceback" not in output
    assert resume_command(output) == [sys.executable, "-m", "bnn", *first], "a sweep resumes by rerunning it"
    assert checkpoint.load(runs[0] / "checkpoint.h5").epoch == 1 and not (runs[1] / "checkpoint.h5").exists()

    # SIGINT in the second run's epoch 1, batch 3, after the first run ended its epoch 2 (6 events)
    status, output = stopped(first, cache, f"batch:{LOSSES_PER_EPOCH + 3}", signal.SIGINT, tmp_path / "2.log",
                             where="--pause-worker")
    assert status == 130, output
    assert "[1/2] ber=0 rep=0: test accuracy" in output and "ber=0.05 rep=0: stopped by SIGINT during epoch 1" in output
    assert (runs[0] / "result.json").exists() and not (runs[1] / "checkpoint.h5").exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")], "a half-written file is left"

    subprocess.run(resume_command(output), env=environment(cache), check=True, capture_output=True, timeout=900)
    assert without_seconds(read_csv(out / "results.csv")) == without_seconds(read_csv(whole / "results.csv"))
    for folder in runs:
        reference = whole / folder.relative_to(out)
        assert_same_checkpoint(reference / "checkpoint.h5", folder / "checkpoint.h5")
        a, b = (json.loads((base / "result.json").read_text()) for base in (reference, folder))
        assert without_seconds(a["history"]) == without_seconds(b["history"]) and a["config"] == b["config"]
