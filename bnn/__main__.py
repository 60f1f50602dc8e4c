"""Command line: python -m bnn {train,demo,summary,export} ...

    python -m bnn train --model lenet4 --dataset mnist --epochs 5 --seed 1 --out runs/lenet4
    python -m bnn demo                       # a small real experiment: LeNet-4 on a part of MNIST, ~1 minute
    python -m bnn summary --model lenet4     # layer table: shapes, parameters, memory, MACs
    python -m bnn export runs/lenet4/checkpoint.h5 lenet4-inference.h5

Thread counts are read by BLAS and Numba when they load, so --threads is applied before numpy is imported.
New subcommands: add a `_add_<name>(subparsers)` that sets `func`, and list it in `SUBCOMMANDS`.
"""
import argparse
import os
import sys


def _set_threads(threads):
    if threads:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            os.environ[name] = str(threads)


def _config_from_args(args):
    from .train import TrainConfig
    overrides = {key: getattr(args, key) for key in ("dataset", "batch_size", "optimizer", "lr", "momentum",
                                                     "weight_decay", "lr_schedule", "lr_step", "lr_gamma",
                                                     "train_subset", "test_subset", "seed")
                 if getattr(args, key) is not None}
    if args.lr_milestones is not None:
        overrides["lr_milestones"] = tuple(args.lr_milestones)
    return TrainConfig.recipe(args.model, epochs=args.epochs, **overrides)


def _train(args):
    from .train import train
    config = _config_from_args(args)
    print(f"training {config.model} on {config.dataset}: {config.to_dict()}", flush=True)
    result = train(config, args.out, resume=args.resume, progress=not args.no_progress, data_root=args.data_root,
                   log=lambda line: print(line, flush=True))
    print(f"final test accuracy {100 * result.final_test_accuracy:.2f} %, best {100 * result.best_test_accuracy:.2f} %"
          f", {result.seconds:.0f} s; outputs in {args.out}/ (metrics.csv, checkpoint.h5, learning_curve.png)")


def _add_train(sub):
    p = sub.add_parser("train", help="train a model (the model's reference recipe unless overridden)")
    p.add_argument("--model", default="lenet4")
    p.add_argument("--dataset", help="default: the model's dataset")
    p.add_argument("--epochs", type=int, help="default: the recipe's; other lengths scale the lr schedule")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.h5")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--optimizer", choices=("adam", "sgd"))
    p.add_argument("--lr", type=float)
    p.add_argument("--momentum", type=float, help="SGD momentum")
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--lr-schedule", choices=("constant", "step", "multistep"))
    p.add_argument("--lr-step", type=float, help="epochs between decays (step schedule)")
    p.add_argument("--lr-milestones", type=int, nargs="*", help="0-based epochs of the decays (multistep)")
    p.add_argument("--lr-gamma", type=float, help="decay factor")
    p.add_argument("--train-subset", type=int, help="use the first N training images")
    p.add_argument("--test-subset", type=int, help="use the first N test images")
    p.add_argument("--data-root", help="data folder (default: $XNOR_MRAM_DATA, else ~/.cache/xnor-mram)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)


def _demo(args):
    import shutil
    from pathlib import Path

    from .train import TrainConfig, train
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)   # the demo's own folder: start afresh each time
    config = TrainConfig.recipe("lenet4", epochs=1, train_subset=args.train_images)
    print(f"Demo: binarized LeNet-4 (XNOR-popcount layers) trained for one epoch on the first {args.train_images:,} "
          f"real MNIST training images, tested on all 10,000 test images.", flush=True)
    result = train(config, out, progress=True, data_root=args.data_root, log=lambda line: print(line, flush=True))
    print(f"\ntest accuracy: {100 * result.final_test_accuracy:.2f} % after 1 epoch ({result.seconds:.0f} s)\n"
          f"outputs: {out}/metrics.csv, {out}/checkpoint.h5, {out}/learning_curve.png\n"
          f"full recipe (60 epochs, >= 99 %): python -m bnn train --model lenet4 --out runs/lenet4")


def _add_demo(sub):
    p = sub.add_parser("demo", help="a small real experiment: LeNet-4 on real MNIST, about a minute")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--train-images", type=int, default=30000)
    p.add_argument("--data-root")
    p.set_defaults(func=_demo)


def _summary(args):
    import numpy as np

    from .models import build
    print(build(args.model, np.random.default_rng(0)).summary())


def _add_summary(sub):
    p = sub.add_parser("summary", help="print a model's layer table")
    p.add_argument("--model", default="lenet4")
    p.set_defaults(func=_summary)


def _export(args):
    import numpy as np

    from . import checkpoint
    from .export import export_model
    from .train import TrainConfig, build_model
    ckpt = checkpoint.load(args.checkpoint)
    model = build_model(TrainConfig.from_dict(ckpt.config), np.random.default_rng(0))
    model.load_state(ckpt.model_state)
    export_model(model, args.output)
    print(f"wrote {args.output} (epoch {ckpt.epoch} of {ckpt.config['model']})")


def _add_export(sub):
    p = sub.add_parser("export", help="write a checkpoint's binary weights (packed bits) for inference")
    p.add_argument("checkpoint")
    p.add_argument("output")
    p.set_defaults(func=_export)


SUBCOMMANDS = [_add_train, _add_demo, _add_summary, _add_export]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bnn", description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, help="BLAS and Numba threads (default: their own defaults)")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    args = parser.parse_args(argv)
    _set_threads(args.threads)
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
