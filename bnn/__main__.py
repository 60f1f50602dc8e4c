"""Command line: python -m bnn {train,demo,summary,export,sweep,results,plot} ...

    python -m bnn train --model lenet4 --dataset mnist --epochs 5 --seed 1 --out runs/lenet4
    python -m bnn train --model nin --quick --out runs/nin   # the model's short CPU recipe (see summary)
    python -m bnn demo                       # a small real experiment: LeNet-4 on MNIST at 4 training BERs
    python -m bnn summary --model lenet4     # layer table (shapes, parameters, memory, MACs) and the recipes
    python -m bnn export runs/lenet4/checkpoint.h5 lenet4-inference.h5

    python -m bnn sweep --model lenet4 --ber 0 0.01 0.1 --repeats 3 --epochs 5 --out runs/sweep   (bnn/sweep.py)
    python -m bnn results runs/sweep --csv live.csv   # every run, also while training         (bnn/results_cli.py)
    python -m bnn plot runs/sweep                                                              (bnn/sweep_plot.py)

--threads N and --debug go before or after the subcommand (`python -m bnn --threads 1 train ...` is
`python -m bnn train --threads 1 ...`). A user's mistake (a bad value, a missing file or folder, missing data, a
diverged run) prints one `error: ...` line on stderr and exits with status 2, as `python -m mtj` and
`python -m datasets` do; a traceback means a bug (or --debug). train, sweep and demo check the dataset's raw files
(downloading the missing ones) before any run starts. Progress bars are drawn only when stderr is a terminal; in a
log, one line per epoch and per finished sweep run. SIGTERM or SIGINT stops train, sweep and demo after the current
batch (bnn.interrupt); they print the command that resumes and exit with 128 + the signal (143, 130).

New subcommands: add a `_add_<name>(subparsers)` that sets `func`, and list it in `SUBCOMMANDS`.
"""
import argparse
import contextlib
import shlex
import sys

from . import interrupt
from .cli_args import (add_common_arguments, dataset_names, model_names, non_negative_int, positive_float,
                       positive_int)


def _set_numba_threads(threads):
    if threads:
        import numba
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def stderr_is_terminal():
    """Whether tqdm bars may be drawn: stderr, where they go, is a terminal. In a log file, a pipe or CI each bar
    would leave hundreds of carriage-return fragments; there the per-epoch log lines stand alone."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):     # replaced by an object without isatty, or closed
        return False


def check_data(name, data_root):
    """Make sure dataset `name`'s raw files are on disk before a job starts, downloading the missing ones (unless
    offline): raises datasets.SourceMissing (three lines: what, where, how to fetch) once, instead of every run of
    the job failing with it."""
    import datasets
    datasets.require(name, root=data_root)


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
    check_data(config.dataset, args.data_root)
    recipe = "quick (CPU) recipe" if args.quick else "reference recipe"
    print(f"training {config.model} on {config.dataset}, the {recipe} with the flags given: "
          f"{_describe_recipe(config)}\n{config.to_dict()}", flush=True)
    result = train(config, args.out, resume=args.resume, progress=not args.no_progress and stderr_is_terminal(),
                   data_root=args.data_root, log=lambda line: print(line, flush=True))
    print(f"final test accuracy {100 * result.final_test_accuracy:.2f} %, best {100 * result.best_test_accuracy:.2f} %"
          f", {result.seconds:.0f} s; outputs in {args.out}/ (metrics.csv, checkpoint.h5, learning_curve.png)")


def _with_resume(argv):
    return argv if "--resume" in argv else argv + ["--resume"]


def _same(argv):
    return argv


def _add_train(sub):
    p = sub.add_parser("train", help="train a model (the model's reference recipe, or --quick, unless overridden)")
    p.add_argument("--model", default="lenet4", choices=model_names())
    p.add_argument("--dataset", choices=dataset_names(), help="default: the model's dataset")
    p.add_argument("--quick", action="store_true",
                   help="start from the model's short CPU recipe instead of the reference one (see `summary`); "
                        "the flags below still win over it")
    p.add_argument("--epochs", type=positive_int, help="default: the recipe's; other lengths scale the lr schedule")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.h5")
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--optimizer", choices=("adam", "sgd"))
    p.add_argument("--lr", type=positive_float)
    p.add_argument("--momentum", type=float, help="SGD momentum")
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--lr-schedule", choices=("constant", "step", "multistep"))
    p.add_argument("--lr-step", type=float, help="epochs between decays (step schedule)")
    p.add_argument("--lr-milestones", type=non_negative_int, nargs="*", help="0-based epochs of the decays (multistep)")
    p.add_argument("--lr-gamma", type=float, help="decay factor")
    p.add_argument("--train-subset", type=positive_int, help="use the first N training images")
    p.add_argument("--test-subset", type=positive_int, help="use the first N test images")
    p.add_argument("--data-root", help="data folder (default: $XNOR_MRAM_DATA, else ~/.cache/xnor-mram)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (there is none anyway when stderr is not a terminal)")
    add_common_arguments(p, suppress=True)
    p.set_defaults(func=_train, stoppable=True, resume_argv=_with_resume)


DEMO_BERS = (0.0, 0.01, 0.1, 0.2)


def _demo(args):
    """The paper's experiment in small: one LeNet-4 run per training BER, each tested without errors."""
    import shutil
    from pathlib import Path

    from .results import summary_table
    from .sweep import default_trainer, sweep
    from .sweep_plot import plot_sweep
    from .train import TrainConfig
    out = Path(args.out)
    check_data("mnist", args.data_root)
    if out.exists():
        shutil.rmtree(out)   # the demo's own folder: start afresh each time
    config = TrainConfig.recipe("lenet4", epochs=1, train_subset=args.train_images, test_subset=args.test_images)
    tested = "all 10,000" if args.test_images is None else f"the first {args.test_images:,}"
    print(f"Demo: binarized LeNet-4 (XNOR-popcount layers) trained for one epoch on the first {args.train_images:,} "
          f"real MNIST training images while every binary activation flips with probability BER = "
          f"{', '.join(f'{b:g}' for b in DEMO_BERS)}; each run is tested error-free on {tested} test images.",
          flush=True)
    trainer = default_trainer(args.data_root, progress=stderr_is_terminal())   # a line (and a bar) per epoch
    records = sweep(config, list(DEMO_BERS), 1, out, workers=0, threads=args.threads, trainer=trainer,
                    log=lambda line: print(line, flush=True))
    print("\n" + summary_table(records))
    png, _ = plot_sweep(out, title="LeNet-4 / MNIST, 1 epoch")
    print(f"\nfigure: {png}\nresults: {out}/results.csv (one run folder per BER under {out}/runs/)\n"
          f"the reproduction (8 BERs x 3 repeats x 8 epochs, beside a PyTorch reimplementation): see docs/results.md")


def _add_demo(sub):
    p = sub.add_parser("demo", help="a small real experiment: LeNet-4 on real MNIST at 4 training BERs, ~2 minutes")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--train-images", type=positive_int, default=20000)
    p.add_argument("--test-images", type=positive_int, help="default: all 10,000")
    p.add_argument("--data-root")
    add_common_arguments(p, suppress=True)
    p.set_defaults(func=_demo, stoppable=True, resume_argv=None)   # the demo starts afresh each time


def _summary(args):
    import numpy as np

    from .models import build
    from .train import TrainConfig
    print(build(args.model, np.random.default_rng(0)).summary())
    print(f"\nreference recipe (train): {_describe_recipe(TrainConfig.recipe(args.model))}\n"
          f"quick recipe (train --quick): {_describe_recipe(TrainConfig.recipe(args.model, quick=True))}")


def _add_summary(sub):
    p = sub.add_parser("summary", help="print a model's layer table and its training recipes")
    p.add_argument("--model", default="lenet4", choices=model_names())
    add_common_arguments(p, threads=False, suppress=True)
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
    add_common_arguments(p, threads=False, suppress=True)
    p.set_defaults(func=_export)


def _add_sweep(sub):
    from .sweep import add_sweep_arguments, run_sweep_from_args
    p = sub.add_parser("sweep", help="train one run per (BER, repeat); results.csv / results.h5")
    add_sweep_arguments(p)   # with --threads and --debug (bnn.cli_args)
    p.set_defaults(func=run_sweep_from_args, stoppable=True, resume_argv=_same)   # a rerun resumes


def _add_results(sub):
    from .results_cli import add_results_arguments, run_results_from_args
    p = sub.add_parser("results", help="one row per run of a sweep folder, also while it trains (reads only)")
    add_results_arguments(p)
    add_common_arguments(p, threads=False, suppress=True)
    p.set_defaults(func=run_results_from_args)


def _add_plot(sub):
    from .sweep_plot import add_plot_arguments, run_plot_from_args
    p = sub.add_parser("plot", help="test accuracy vs BER of a sweep folder (PNG and SVG)")
    add_plot_arguments(p)
    add_common_arguments(p, threads=False, suppress=True)
    p.set_defaults(func=run_plot_from_args)


SUBCOMMANDS = [_add_train, _add_demo, _add_summary, _add_export, _add_sweep, _add_results, _add_plot]


def make_parser():
    """The argparse parser of `python -m bnn` with every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m bnn", description=__doc__.split("\n\n")[0],
                                     epilog="exit status: 0 done; 2 a mistake (one `error: ...` line; --debug: the "
                                            "traceback); 143 / 130 stopped by SIGTERM / SIGINT (train, sweep, demo: "
                                            "the command that resumes is printed)")
    add_common_arguments(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def is_user_error(error):
    """Whether `error` is a user's mistake or the state of their files (one line), rather than a bug (a traceback):
    a bad value, a missing or existing file, no permission, missing data (datasets.SourceMissing is a
    FileNotFoundError), a diverged run, or a sweep whose failed runs all failed so."""
    from .sweep_execute import SweepFailed
    from .train import TrainingDiverged
    user = (ValueError, FileNotFoundError, FileExistsError, PermissionError, TrainingDiverged)
    if isinstance(error, SweepFailed):
        return all(isinstance(failure, user) for _, failure in error.failures)
    return isinstance(error, user)


def resume_hint(args, argv):
    """The line that says how to go on after a stop: the exact command (this interpreter) that resumes."""
    if args.resume_argv is None:
        return f"{args.command} starts afresh each time; run it again with: " \
               f"{shlex.join([sys.executable, '-m', 'bnn', *argv])}"
    return f"resume with: {shlex.join([sys.executable, '-m', 'bnn', *args.resume_argv(argv)])}"


def main(argv=None):
    """Run `python -m bnn ARGV`; returns the exit status (0, 2 for a user's mistake, 128 + signal after a stop).
    argparse exits by itself (status 2) for a flag it refuses."""
    argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]
    args = make_parser().parse_args(argv)
    _set_numba_threads(args.threads)
    stoppable = interrupt.stop_on_signals if getattr(args, "stoppable", False) else contextlib.nullcontext
    try:
        with stoppable():
            args.func(args)
    except interrupt.Interrupted as stop:
        print(f"{stop}\n{resume_hint(args, argv)}", file=sys.stderr, flush=True)
        return stop.exit_status
    except KeyboardInterrupt:       # Ctrl-C in a command that has no safe points to stop at
        if args.debug:
            raise
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug or not is_user_error(error):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
