"""How much of a BER-trained network's error-free test accuracy is decided by its BatchNorm statistics.

A network trained with bit errors learns its BatchNorm running statistics on corrupted activations: a flipped ±1
input shrinks a binary layer's output by about (1 - 2 BER) and adds noise to it. The test is error-free, so every
BatchNorm after a binary layer normalizes with a mean and variance from inputs it no longer sees. This script
re-evaluates finished runs' checkpoints on the error-free test set three ways:

- saved: the running statistics as training left them (momentum 0.1: about the last 20 batches);
- precise, training input: the statistics averaged over a pass of the training images under the training
  conditions (bit errors and dropout on), i.e. the same statistics without the running average's noise;
- precise, test input: the same pass with the errors and dropout off, i.e. the statistics of the input the
  network sees at test.

Weights are never changed. `saved` vs `precise, training input` is the noise of the last batches;
`precise, training input` vs `precise, test input` is the cost of normalizing with error-corrupted statistics.

    python benchmarks/ber_batchnorm.py RUN [RUN ...] [--images 10000]

RUN: a run folder with checkpoint.h5 (e.g. ../runs/nin-cifar10-50k/runs/ber=0.05/rep=0). Prints a table and
writes benchmarks/results/ber_batchnorm.json.
"""
import argparse
import dataclasses
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path, and benchmarks/mtj.py would shadow the mtj package.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import bnn  # noqa: E402,F401  (first: it makes BLAS single-threaded before NumPy loads)
import numpy as np  # noqa: E402

from bnn import checkpoint  # noqa: E402
from bnn.checkpoint import write_atomic  # noqa: E402
from bnn.train import (TrainConfig, attach_errors, build_model, evaluate, load_split,  # noqa: E402
                       precise_batchnorm)


def evaluate_run(run_dir, images, data_root=None):
    """{run, ber, epoch, images, saved, precise_training_input, precise_test_input} of a run's last checkpoint."""
    ckpt = checkpoint.load(run_dir / "checkpoint.h5")
    config = TrainConfig.from_dict(ckpt.config)
    train_ds, test_ds = load_split(config, "train", data_root), load_split(config, "test", data_root)
    pick = np.random.default_rng(0).permutation(len(train_ds))[:images]   # all classes: the JPEG copy is by class
    subset = dataclasses.replace(train_ds, images=train_ds.images[pick], labels=train_ds.labels[pick])
    row = dict(run=str(run_dir), ber=config.errors.ber, epoch=ckpt.epoch, images=len(subset))
    for name, training_input in (("saved", None), ("precise_training_input", True), ("precise_test_input", False)):
        model = build_model(config, np.random.default_rng(config.seed))
        model.load_state(ckpt.model_state)
        attach_errors(model, config.errors, ckpt.epoch - 1, np.random.default_rng(1))
        if training_input is not None:
            precise_batchnorm(model, subset, config.batch_size, np.random.default_rng(2), training_input)
        row[name] = float(evaluate(model, test_ds, 1000)[1])
        print(f"  {name}: {100 * row[name]:.2f} %", flush=True)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="+", help="run folders holding checkpoint.h5")
    parser.add_argument("--images", type=int, default=10_000, help="training images of the precise-BN pass")
    parser.add_argument("--data-root", help="default: $XNOR_MRAM_DATA")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "ber_batchnorm.json")
    args = parser.parse_args(argv)
    report = dict(command="python benchmarks/ber_batchnorm.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                  rows=[])
    for run_dir in args.runs:
        print(run_dir, flush=True)
        report["rows"].append(evaluate_run(run_dir, args.images, args.data_root))
    print("\n| BER | epoch | saved statistics (%) | precise, training input (%) | precise, test input (%) |")
    print("|---|---|---|---|---|")
    for r in report["rows"]:
        print(f"| {r['ber']:g} | {r['epoch']} | {100 * r['saved']:.2f} | {100 * r['precise_training_input']:.2f} | "
              f"{100 * r['precise_test_input']:.2f} |")
    write_atomic(args.json, lambda tmp: tmp.write_text(json.dumps(report, indent=1)))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    sys.exit(main())
