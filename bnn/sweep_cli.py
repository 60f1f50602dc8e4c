"""The sweep's command line: `python -m bnn sweep ...` from flags, a TOML file with [sweep] and [train] tables (flags
win), or MTJ operating points (--mtj-drive / --mtj-pulse, mapped to flip probabilities by bnn.bridge).
"""
import argparse
import functools
from pathlib import Path

from .cli_args import (add_common_arguments, dataset_names, model_names, non_negative_int, positive_float,
                       positive_int, probability)
from .results import summary_table
from .sweep_execute import sweep
from .sweep_plan import base_config, run_config
from .sweep_run import default_trainer

SWEEP_DEFAULTS = {"ber": None, "repeats": 1, "seed": 0, "out": None, "workers": None, "threads": None,
                  "scheduler": None, "data_root": None}
TRAIN_FLAGS = ("model", "dataset", "quick", "epochs", "batch_size", "lr", "train_subset", "test_subset")

EXAMPLE_TOML = """\
[sweep]                  # keys as the flags: ber, repeats, seed, out, workers, threads, scheduler, data_root
ber = [0, 0.001, 0.01, 0.02, 0.05, 0.1, 0.2]
repeats = 3
out = "runs/lenet4-ber"
[train]                  # any bnn.train.TrainConfig field; the model's recipe fills the rest
model = "lenet4"
quick = false            # true: start from the model's CPU recipe instead of the reference one
epochs = 5
[train.errors]           # any bnn.errors.ErrorConfig field except the rates the sweep sets
rounding = "deterministic"
"""


def add_sweep_arguments(parser):
    """Add the `sweep` subcommand's arguments to an argparse parser."""
    parser.description = "Train one run per (BER, repeat) into OUT/runs; results in OUT/results.csv and .h5."
    parser.epilog = "A TOML file may replace the flags (flags given as well win):\n\n" + EXAMPLE_TOML
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--config", metavar="FILE", help="TOML file with [sweep] and [train] tables")
    parser.add_argument("--ber", type=probability, nargs="+", help="training bit error rates, e.g. 0 0.001 0.01 0.1")
    parser.add_argument("--repeats", type=positive_int, nargs="+",
                        help="runs per BER: one number for all, or one per BER (default 1)")
    parser.add_argument("--seed", type=non_negative_int,
                        help="base seed; run seeds derive from it, the BER index and the repeat (default 0)")
    parser.add_argument("--out", metavar="DIR", help="sweep folder (rerun into it to skip finished runs and resume)")
    parser.add_argument("--workers", type=non_negative_int,
                        help="local worker processes (default: min(runs, cores); 0: this process)")
    # --threads (Numba threads per run; default cores // workers, 1 on Dask) and --debug. SUPPRESS: the same flag
    # given before the subcommand (python -m bnn --threads N sweep) is not overwritten by a None default.
    add_common_arguments(parser, suppress=True)
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask distributed scheduler, e.g. tcp://host:8786")
    parser.add_argument("--data-root", help="folder with the raw datasets (default: $XNOR_MRAM_DATA)")
    training = parser.add_argument_group("training (the model's recipe fills every field not given)")
    training.add_argument("--model", choices=model_names(), help="default: lenet4")
    training.add_argument("--dataset", choices=dataset_names(), help="default: the model's")
    training.add_argument("--quick", action=argparse.BooleanOptionalAction,
                          help="start from the model's short CPU recipe instead of the reference one (the other "
                               "training flags still win over it)")
    training.add_argument("--epochs", type=positive_int,
                          help="epochs per run (the recipe's lr schedule is scaled to them)")
    training.add_argument("--batch-size", type=positive_int)
    training.add_argument("--lr", type=positive_float)
    training.add_argument("--train-subset", type=positive_int, help="train on the first N training images")
    training.add_argument("--test-subset", type=positive_int, help="test on the first N test images")
    add_bridge_arguments(parser)


def add_bridge_arguments(parser):
    """Add the MTJ operating-point flags (`runs_from_args` reads them) to an argparse parser."""
    group = parser.add_argument_group(
        "MTJ operating points (instead of --ber: each drive becomes a run at the WER of that write)")
    group.add_argument("--mtj-drive", type=float, nargs="+", metavar="I",
                       help="write drives, in units of V_c (or volts with --mtj-volts)")
    group.add_argument("--mtj-pulse", type=float, metavar="T",
                       help="write pulse width, in units of tau_D (or ns with --mtj-ns)")
    group.add_argument("--mtj-delta", type=float, metavar="D", help="thermal stability of both directions "
                                                                      "(default: 40, the paper's inferred value)")
    group.add_argument("--mtj-volts", action="store_true", help="--mtj-drive is in volts (with V_c = 0.3 V)")
    group.add_argument("--mtj-ns", action="store_true", help="--mtj-pulse is in ns (with tau_D = 1 ns)")
    group.add_argument("--mtj-ap-to-p-vc", type=float, metavar="V",
                       help="V_c of the AP->P direction in volts, if it differs from P->AP's 0.3 V")
    group.add_argument("--mtj-switch-fraction", type=float, default=1.0, metavar="F",
                       help="fraction of writes that switch the cell (1: BER = WER, the paper's model; 0.5: random "
                            "old bits)")


def runs_from_args(args, base=None):
    """bnn.bridge.runs [(label, ErrorConfig, record)] from parsed `add_bridge_arguments` flags, or None if
    --mtj-drive was not given. base: the sweep's base ErrorConfig (default ErrorConfig())."""
    if args.mtj_drive is None:
        if args.mtj_pulse is not None or args.mtj_delta is not None:
            raise ValueError("--mtj-pulse / --mtj-delta need --mtj-drive")
        return None
    if args.mtj_pulse is None:
        raise ValueError("--mtj-drive needs --mtj-pulse T (the write pulse width)")
    ap_to_p = None
    if args.mtj_ap_to_p_vc is not None:
        from mtj import MTJParams
        ap_to_p = MTJParams(v_c_volts=args.mtj_ap_to_p_vc)
    from . import bridge   # imports the Numba kernels (through bnn.errors): only when a sweep uses it
    records = bridge.operating_points(args.mtj_drive, args.mtj_pulse, delta=args.mtj_delta, ap_to_p=ap_to_p,
                                      unit="volts" if args.mtj_volts else "vc",
                                      pulse_unit="ns" if args.mtj_ns else "tau",
                                      switch_fraction=args.mtj_switch_fraction)
    return bridge.runs(records, base)


def load_toml(path):
    """The TOML file as a dict (tomllib on Python 3.11+, tomli before); a ValueError naming the file if it is not
    valid TOML (the parser's own message names only the line and column)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    with open(path, "rb") as f:
        try:
            return tomllib.load(f)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path} is not a valid TOML file: {error}") from error


def settings_from_args(args):
    """(sweep settings dict with SWEEP_DEFAULTS' keys, [train] table) from parsed flags over the TOML file."""
    document = load_toml(args.config) if args.config else {}
    for key, allowed in ((None, {"sweep", "train"}), ("sweep", set(SWEEP_DEFAULTS))):
        table = document if key is None else document.get(key, {})
        unknown = sorted(set(table) - allowed)
        if unknown:
            where = f"[{key}] of " if key else ""
            raise ValueError(f"unknown keys {unknown} in {where}{args.config}; expected some of {sorted(allowed)}")
    settings = {**SWEEP_DEFAULTS, **document.get("sweep", {})}
    settings.update({k: getattr(args, k) for k in SWEEP_DEFAULTS if getattr(args, k, None) is not None})
    if settings["out"] is None:
        raise ValueError("a sweep needs --out (or `out = ...` in the [sweep] table of --config)")
    from_mtj = getattr(args, "mtj_drive", None) is not None
    if (settings["ber"] is None) != from_mtj:
        raise ValueError("a sweep needs --ber (or `ber = [...]` in the [sweep] table of --config), or else "
                         "--mtj-drive with --mtj-pulse (MTJ operating points); not both")
    train_table = {**document.get("train", {}),
                   **{k: getattr(args, k) for k in TRAIN_FLAGS if getattr(args, k) is not None}}
    return settings, train_table


def train_source(args):
    """Where the sweep's [train] table came from, for error messages: the --config file and/or the training flags."""
    flags = [f"--{'no-' if getattr(args, key) is False else ''}{key.replace('_', '-')}" for key in TRAIN_FLAGS
             if getattr(args, key, None) is not None]
    parts = ([f"the [train] table of {args.config}"] if args.config else []) + \
        ([f"the flags {' '.join(flags)}"] if flags else [])
    return " with ".join(parts) or "the default training config"


def run_sweep_from_args(args, trainer=None):
    """Run the sweep the parsed `sweep` arguments describe; prints progress and a summary table.

    With the default trainer and local runs, the dataset's raw files are checked (and the missing ones downloaded)
    before any run starts: datasets.SourceMissing then stops the sweep once, not every run. On Dask the data root
    is the workers', which this process cannot see.
    """
    from . import bridge
    settings, train_table = settings_from_args(args)
    out = Path(settings["out"])
    base = base_config(train_table, source=train_source(args))
    if trainer is None and settings["scheduler"] is None:
        import datasets
        datasets.require(base.dataset, root=settings["data_root"])
    bridge_runs = runs_from_args(args, base.errors)
    if bridge_runs is None:
        keys, make_config = settings["ber"], run_config
    else:  # each MTJ operating point becomes a run at its per-direction write error rates
        keys, make_config = bridge.sweep_keys(bridge_runs), bridge.make_config(bridge_runs)
        for label, errors, _ in bridge_runs:
            print(f"{label}: BER +1->-1 {errors.ber_pos_to_neg:.3g}, -1->+1 {errors.ber_neg_to_pos:.3g}", flush=True)
        bridge.write_operating_points(out, bridge_runs)
    records = sweep(base, keys, settings["repeats"], out, seed=settings["seed"], workers=settings["workers"],
                    threads=settings["threads"], scheduler=settings["scheduler"],
                    trainer=trainer or default_trainer(settings["data_root"]), make_config=make_config,
                    log=functools.partial(print, flush=True))
    print(summary_table(records))
    print(f"results: {out / 'results.csv'}, {out / 'results.h5'}; plot them with `python -m bnn plot {out}`; "
          f"while a sweep is running: `python -m bnn results {out}`")
    if bridge_runs is not None:
        print(f"accuracy against write drive: {bridge.plot_accuracy_vs_drive(out)}")
    return records
