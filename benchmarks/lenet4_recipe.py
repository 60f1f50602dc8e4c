"""Where the 60-epoch LeNet-4 reference recipe ends, and why its last epoch is below its best.

Reads one or more finished runs of `python -m bnn train --model lenet4 --out DIR` (the reference recipe: Adam lr
0.01, lr / 10 every 15 epochs, 60 epochs) and reports, per run:

- the last and the best epoch's test accuracy, and the mean and standard deviation of the test accuracy over each
  15-epoch lr stage (does a stage lose what the one before gained, or do single epochs scatter around a level?);
- the last (and best) checkpoint re-evaluated after recomputing the BatchNorm statistics over the whole training set
  ("precise BN": running averages with momentum 0.1 remember only the last ~20 batches);
- the binomial standard error of an accuracy measured on 10,000 test images.

    python benchmarks/lenet4_recipe.py DIR [DIR ...] [--metrics-only CSV ...]

Prints a table and writes benchmarks/results/lenet4_recipe.json.
"""
import argparse
import csv
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
from bnn.train import TrainConfig, build_model, evaluate, load_split, precise_batchnorm  # noqa: E402

STAGE = 15   # epochs per lr stage of the reference recipe


def stage_statistics(accuracies):
    """[(first epoch, last epoch, mean %, std %, min %, max %)] of the test accuracy per 15-epoch lr stage."""
    rows = []
    for start in range(0, len(accuracies), STAGE):
        stage = 100 * np.asarray(accuracies[start:start + STAGE])
        std = stage.std(ddof=1) if len(stage) > 1 else float("nan")    # a stage still running may have one epoch
        rows.append((start + 1, start + len(stage), stage.mean(), std, stage.min(), stage.max()))
    return rows


def evaluate_checkpoint(path, data_root=None):
    """(epoch, test accuracy as saved, test accuracy after precise BN) of a checkpoint."""
    ckpt = checkpoint.load(path)
    config = TrainConfig.from_dict(ckpt.config)
    model = build_model(config, np.random.default_rng(config.seed))
    model.load_state(ckpt.model_state)
    train_ds, test_ds = load_split(config, "train", data_root), load_split(config, "test", data_root)
    _, saved = evaluate(model, test_ds, config.batch_size)
    precise_batchnorm(model, train_ds, config.batch_size, np.random.default_rng(0))
    _, precise = evaluate(model, test_ds, config.batch_size)
    return ckpt.epoch, float(saved), float(precise)


def read_accuracies(metrics_csv):
    with open(metrics_csv) as f:
        return [float(row["test_accuracy"]) for row in csv.DictReader(f)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="*", help="run folders (metrics.csv, checkpoint.h5, best.h5)")
    parser.add_argument("--metrics-only", type=Path, nargs="*", default=[],
                        help="metrics.csv files of runs whose checkpoints are gone (stage statistics only)")
    parser.add_argument("--data-root", help="default: $XNOR_MRAM_DATA")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "lenet4_recipe.json")
    args = parser.parse_args(argv)
    report = dict(command="python benchmarks/lenet4_recipe.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                  runs=[])
    n_test = 10_000
    for source in [*args.runs, *args.metrics_only]:
        metrics = source / "metrics.csv" if source.is_dir() else source
        accuracies = read_accuracies(metrics)
        run = dict(source=str(source), epochs=len(accuracies), last=accuracies[-1], best=max(accuracies),
                   best_epoch=1 + int(np.argmax(accuracies)),
                   stages=[dict(zip(("first", "last", "mean", "std", "min", "max"), map(float, row)))
                           for row in stage_statistics(accuracies)])
        print(f"\n{source}: last epoch {100 * run['last']:.2f} %, best {100 * run['best']:.2f} % (epoch "
              f"{run['best_epoch']})")
        print("| epochs | mean test accuracy (%) | std | min | max |\n|---|---|---|---|---|")
        for s in run["stages"]:
            print(f"| {s['first']:.0f}-{s['last']:.0f} | {s['mean']:.3f} | {s['std']:.3f} | {s['min']:.2f} | "
                  f"{s['max']:.2f} |")
        if source.is_dir():
            for name in ("checkpoint.h5", "best.h5"):
                if (source / name).exists():
                    epoch, saved, precise = evaluate_checkpoint(source / name, args.data_root)
                    run[name] = dict(epoch=epoch, test_accuracy=saved, precise_bn_test_accuracy=precise)
                    print(f"{name} (epoch {epoch}): {100 * saved:.2f} %, with BatchNorm statistics recomputed over "
                          f"the training set {100 * precise:.2f} %")
        p = run["last"]
        run["binomial_standard_error"] = float(np.sqrt(p * (1 - p) / n_test))
        print(f"binomial standard error of an accuracy of {100 * p:.2f} % on {n_test:,} images: "
              f"{100 * run['binomial_standard_error']:.3f} points")
        report["runs"].append(run)
    write_atomic(args.json, lambda tmp: tmp.write_text(json.dumps(report, indent=1)))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    sys.exit(main())
