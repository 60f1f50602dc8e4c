"""Command line: python -m bnn {train,demo,summary,export,sweep,results,plot} ...

    python -m bnn train --model lenet4 --dataset mnist --epochs 5 --seed 1 --out runs/lenet4
    python -m bnn train --model nin --quick --out runs/nin   # the model's short CPU recipe (see summary)
    python -m bnn demo                       # a small real experiment: LeNet-4 on MNIST at 4 training BERs
    python -m bnn summary --model lenet4     # layer table (shapes, parameters, memory, MACs) and the recipes
    python -m bnn export runs/lenet4/checkpoint.h5 lenet4-inference.h5

    python -m bnn sweep --model lenet4 --ber 0 0.01 0.1 --repeats 3 --epochs 5 --out runs/sweep   (bnn/sweep.py)
    python -m bnn results runs/sweep --csv live.csv   # every run, also while training         (bnn/results_cli.py)
    python -m bnn plot runs/sweep                                                              (bnn/sweep_plot.py)

BLAS reads its thread count when numpy loads, so the single-thread default is set before anything imports numpy.
New subcommands: add a `_add_<name>(subparsers)` that sets `func`, and list it in `SUBCOMMANDS`.
"""
import argparse
import sys


def _set_numba_threads(threads):
    if threads:
        import numba
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def _config_from_args(args):
    from .train import TrainConfig
    overrides = {key: getattr(args, key) for key in ("dataset", "batch_size", "optimizer", "lr", "momentum",
                                                     "weight_decay", "lr_schedule", "lr_step", "lr_gamma",
                                                     "train_subset", "test_subset", "seed")
                 if getattr(args, key) is not None}
    if args.lr_milestones is not None:
        overrides["lr_milestones"] = tuple(args.lr_milestones)
    return TrainConfig.recipe(args.model, epochs=args.epochs, quick=args.quick, **overrides)


def _describe_recipe(config):
    """One line: a TrainConfig's optimizer, batch, epochs and lr schedule."""
    schedule = {"constant": "constant lr",
                "step": f"lr x{config.lr_gamma:g} every {config.lr_step:g} epochs",
                "multistep": f"lr x{config.lr_gamma:g} at epochs {', '.join(map(str, config.lr_milestones))} "
                             f"(0-based)"}[config.lr_schedule]
    return (f"{config.optimizer} lr {config.lr:g}, weight decay {config.weight_decay:g}, batch {config.batch_size}, "
            f"{config.epochs} epochs, {schedule}")


def _train(args):
    from .train import train
    config = _config_from_args(args)
    recipe = "quick (CPU) recipe" if args.quick else "reference recipe"
    print(f"training {config.model} on {config.dataset}, the {recipe} with the flags given: "
          f"{_describe_recipe(config)}\n{config.to_dict()}", flush=True)
    result = train(config, args.out, resume=args.resume, progress=not args.no_progress, data_root=args.data_root,
                   log=lambda line: print(line, flush=True))
    print(f"final test accuracy {100 * result.final_test_accuracy:.2f} %, best {100 * result.best_test_accuracy:.2f} %"
          f", {result.seconds:.0f} s; outputs in {args.out}/ (metrics.csv, checkpoint.h5, learning_curve.png)")


def _add_train(sub):
    p = sub.add_parser("train", help="train a model (the model's reference recipe, or --quick, unless overridden)")
    p.add_argument("--model", default="lenet4")
    p.add_argument("--dataset", help="default: the model's dataset")
    p.add_argument("--quick", action="store_true",
                   help="start from the model's short CPU recipe instead of the reference one (see `summary`); "
                        "the flags below still win over it")
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


DEMO_BERS = (0.0, 0.01, 0.1, 0.2)


def _demo(args):
    """The paper's experiment in small: one LeNet-4 run per training BER, each tested without errors."""
    import functools
    import shutil
    from pathlib import Path

    from .results import summary_table
    from .sweep import sweep
    from .sweep_plot import plot_sweep
    from .train import TrainConfig, train
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)   # the demo's own folder: start afresh each time
    config = TrainConfig.recipe("lenet4", epochs=1, train_subset=args.train_images, test_subset=args.test_images)
    tested = "all 10,000" if args.test_images is None else f"the first {args.test_images:,}"
    print(f"Demo: binarized LeNet-4 (XNOR-popcount layers) trained for one epoch on the first {args.train_images:,} "
          f"real MNIST training images while every binary activation flips with probability BER = "
          f"{', '.join(f'{b:g}' for b in DEMO_BERS)}; each run is tested error-free on {tested} test images.",
          flush=True)
    trainer = functools.partial(train, data_root=args.data_root, progress=True)   # a progress bar per epoch
    records = sweep(config, list(DEMO_BERS), 1, out, workers=0, trainer=trainer,
                    log=lambda line: print(line, flush=True))
    print("\n" + summary_table(records))
    png, _ = plot_sweep(out, title="LeNet-4 / MNIST, 1 epoch")
    print(f"\nfigure: {png}\nresults: {out}/results.csv (one run folder per BER under {out}/runs/)\n"
          f"the reproduction (6 BERs x 3 repeats x 3 epochs): see docs/results.md")


def _add_demo(sub):
    p = sub.add_parser("demo", help="a small real experiment: LeNet-4 on real MNIST at 4 training BERs, ~2 minutes")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--train-images", type=int, default=20000)
    p.add_argument("--test-images", type=int, help="default: all 10,000")
    p.add_argument("--data-root")
    p.set_defaults(func=_demo)


def _summary(args):
    import numpy as np

    from .models import build
    from .train import TrainConfig
    print(build(args.model, np.random.default_rng(0)).summary())
    print(f"\nreference recipe (train): {_describe_recipe(TrainConfig.recipe(args.model))}\n"
          f"quick recipe (train --quick): {_describe_recipe(TrainConfig.recipe(args.model, quick=True))}")


def _add_summary(sub):
    p = sub.add_parser("summary", help="print a model's layer table and its training recipes")
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


def _add_sweep(sub):
    from .sweep import add_sweep_arguments, run_sweep_from_args
    p = sub.add_parser("sweep", help="train one run per (BER, repeat); results.csv / results.h5")
    add_sweep_arguments(p)
    p.set_defaults(func=run_sweep_from_args)


def _add_results(sub):
    from .results_cli import add_results_arguments, run_results_from_args
    p = sub.add_parser("results", help="one row per run of a sweep folder, also while it trains (reads only)")
    add_results_arguments(p)
    p.set_defaults(func=run_results_from_args)


def _add_plot(sub):
    from .sweep_plot import add_plot_arguments, run_plot_from_args
    p = sub.add_parser("plot", help="test accuracy vs BER of a sweep folder (PNG and SVG)")
    add_plot_arguments(p)
    p.set_defaults(func=run_plot_from_args)


SUBCOMMANDS = [_add_train, _add_demo, _add_summary, _add_export, _add_sweep, _add_results, _add_plot]


def make_parser():
    """The argparse parser of `python -m bnn` with every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m bnn", description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", dest="global_threads", type=int,
                        help="Numba threads (default: all cores); BLAS gets 1 unless OPENBLAS_NUM_THREADS is set")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv=None):
    args = make_parser().parse_args(argv)
    _set_numba_threads(args.global_threads)
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
