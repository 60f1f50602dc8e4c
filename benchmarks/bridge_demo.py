"""The MRAM bridge end to end: LeNet-4 on MNIST trained at the BER of a handful of MTJ write drives around the
paper's operating point (pulse 5 tau_D, Delta 40: 2.78 V_c gives WER 1e-6), then accuracy against drive with the WER
on a second axis.

    python benchmarks/bridge_demo.py --out /work/runs/bridge_lenet4 [--drive 1.25 1.5 ...] [--epochs 1]
        [--train-subset 10000] [--test-subset 2000] [--repeats 1] [--workers 2]

What `python -m bnn sweep --model lenet4 --mtj-drive ... --mtj-pulse 5` does once wired into the CLI: bnn.bridge turns
the drives into per-direction ErrorConfigs, bnn.sweep trains them (resumable; rerun to continue), and the figure is
written to OUT/accuracy_vs_drive.png (+ .svg). MNIST's official order is already shuffled, so the first n images
are a fair subset.
"""
import argparse
import functools
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path, and benchmarks/mtj.py would shadow the mtj package.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

DRIVES = (1.25, 1.5, 1.75, 2.0, 2.5, 2.78)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--drive", type=float, nargs="+", default=list(DRIVES), help="drives in units of V_c")
    parser.add_argument("--pulse", type=float, default=5.0, help="pulse width in units of tau_D")
    parser.add_argument("--delta", type=float, default=40.0)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-subset", type=int, default=10_000)
    parser.add_argument("--test-subset", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--data-root", default="/work/shared/data")
    args = parser.parse_args(argv)

    from bnn import bridge
    from bnn.sweep import default_trainer, summary_table, sweep
    from bnn.train import TrainConfig

    runs = bridge.runs(bridge.operating_points(args.drive, args.pulse, delta=args.delta))
    for label, errors, record in runs:
        print(f"{label}: WER {record['wer_p_to_ap']:.3g} -> BER +1->-1 {errors.ber_pos_to_neg:.3g}, "
              f"-1->+1 {errors.ber_neg_to_pos:.3g}", flush=True)
    base = TrainConfig.recipe("lenet4", epochs=args.epochs, train_subset=args.train_subset,
                              test_subset=args.test_subset)
    records = sweep(base, bridge.sweep_keys(runs), args.repeats, args.out, workers=args.workers,
                    trainer=default_trainer(args.data_root), make_config=bridge.make_config(runs),
                    log=functools.partial(print, flush=True))
    bridge.write_operating_points(args.out, runs)
    print(summary_table(records))
    print(f"figure: {bridge.plot_accuracy_vs_drive(args.out, title='LeNet-4 / MNIST')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
