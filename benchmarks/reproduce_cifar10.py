"""The CIFAR-10 reproduction on a CPU budget: binarized NiN trained with a fixed BER on every binary activation
(tested error-free), on a class-balanced subset of the JPEG copy; and an AlexNet smoke run on a 2-class subset.

    python benchmarks/reproduce_cifar10.py subset --out /work/runs/cifar10            # build the subset archive
    python benchmarks/reproduce_cifar10.py nin --out /work/runs/cifar10 --ber 0 0.1    # train (resumable)
    python benchmarks/reproduce_cifar10.py table --out /work/runs/cifar10              # results table + JSON
    python benchmarks/reproduce_cifar10.py alexnet --out /work/runs/cifar10 --ber 0.05 # AlexNet end to end

Why a subset archive: `TrainConfig.train_subset` keeps the first n images in the dataset's order, and the image-folder
copy is sorted by class, so its first 10,000 images would be two classes. The authors' setting trains on the first
10,000 images of the official (shuffled) training set, about 1,000 per class; here the first `--train-per-class`
files of every class (by file name) stand in for it. The subset is written as a tar.gz in the same
`cifar10-jpeg/{train,test}/<class>/NNNN.jpg` layout (JPEG bytes copied unchanged) under `<out>/data`, which
then serves as the data root of `bnn.train.train`.
"""
import argparse
import csv
import io
import json
import os
import sys
import tarfile
import time
from collections import defaultdict
from pathlib import Path, PurePosixPath

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path, and benchmarks/mtj.py would shadow the mtj package.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from bnn.checkpoint import write_atomic  # noqa: E402

SOURCE = Path("/work/shared/data/cifar10-jpeg/cifar10-jpeg.tar.gz")
BERS = (0.0, 0.01, 0.05, 0.1)
# The default CPU schedule: Adam lr 0.01 for 2 epochs, then x0.1 for the third (the reference's decays, compressed).
EPOCHS, MILESTONES = 3, (2,)


def subset_archive(out):
    return Path(out) / "data" / "cifar10-jpeg" / "cifar10-jpeg.tar.gz"


def make_subset(source, dest, train_per_class, test_per_class):
    """Write the first n files (by name) of every class of each split of `source` to the tar.gz `dest`, atomically.
    Returns {split: images}."""
    wanted = {"train": train_per_class, "test": test_per_class}
    with tarfile.open(source, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        by_class = defaultdict(list)
        for m in members:
            parts = PurePosixPath(m.name).parts
            if len(parts) >= 3 and parts[-3] in wanted:
                by_class[parts[-3], parts[-2]].append(m)
        chosen = [m for (split, _), ms in sorted(by_class.items())
                  for m in sorted(ms, key=lambda m: m.name)[:wanted[split]]]
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
        with tarfile.open(tmp, "w:gz") as out:
            for m in chosen:
                out.addfile(m, io.BytesIO(tar.extractfile(m).read()))
    os.replace(tmp, dest)
    counts = defaultdict(int)
    for m in chosen:
        counts[PurePosixPath(m.name).parts[-3]] += 1
    return dict(counts)


def nin_config(ber, seed=0, epochs=EPOCHS, milestones=MILESTONES):
    from bnn.errors import ErrorConfig
    from bnn.train import TrainConfig
    return TrainConfig.recipe("nin", epochs=epochs, lr_milestones=tuple(milestones), seed=seed,
                              errors=ErrorConfig(ber=ber))


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2)))


def run_dir(out, ber, seed=0):
    return Path(out) / "nin" / (f"ber{ber:g}" if seed == 0 else f"ber{ber:g}_seed{seed}")


def train_nin(out, bers, seed=0, epochs=EPOCHS, milestones=MILESTONES):
    import bnn.train
    for ber in bers:
        config = nin_config(ber, seed, epochs, milestones)
        print(f"NiN BER {ber:g}: {config}", flush=True)
        result = bnn.train.train(config, run_dir(out, ber, seed), resume=True, data_root=Path(out) / "data",
                       log=lambda line: print(f"[ber {ber:g}] {line}", flush=True))
        print(f"NiN BER {ber:g}: final test accuracy {result.final_test_accuracy:.4f}, {result.seconds:.0f} s",
              flush=True)


def table(out, seeds=(0, 1), epochs=EPOCHS, milestones=MILESTONES):
    """Rows (dicts) of the runs under out/nin (any epochs done), written to out/nin/results.json; prints Markdown
    tables: one row per run, then the mean per BER over the runs that finished all epochs."""
    rows = []
    for ber in BERS:
        for seed in seeds:
            metrics = run_dir(out, ber, seed) / "metrics.csv"
            if not metrics.exists():
                continue
            with open(metrics) as f:
                history = list(csv.DictReader(f))
            last = history[-1]
            rows.append(dict(ber=ber, seed=seed, epochs=int(last["epoch"]), test_accuracy=float(last["test_accuracy"]),
                             test_accuracy_per_epoch=[float(r["test_accuracy"]) for r in history],
                             train_accuracy=float(last["train_accuracy"]),
                             seconds=sum(float(r["seconds"]) for r in history)))
    write_json(Path(out) / "nin" / "results.json",
               dict(schedule=dict(epochs=epochs, milestones=list(milestones)), runs=rows))
    print("| BER | seed | test accuracy (%) | train accuracy (%) | epochs done | test accuracy per epoch (%) | seconds |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        per_epoch = " / ".join(f"{100 * a:.1f}" for a in r["test_accuracy_per_epoch"])
        print(f"| {r['ber']:g} | {r['seed']} | {100 * r['test_accuracy']:.2f} | {100 * r['train_accuracy']:.2f} "
              f"| {r['epochs']} | {per_epoch} | {r['seconds']:.0f} |")
    print()
    print("| BER | finished runs | mean test accuracy (%) | runs (%) |")
    print("|---|---|---|---|")
    for ber in BERS:
        done = [100 * r["test_accuracy"] for r in rows if r["ber"] == ber and r["epochs"] == epochs]
        if done:
            print(f"| {ber:g} | {len(done)} | {np.mean(done):.2f} | {' / '.join(f'{a:.1f}' for a in done)} |")
    plot_curves(rows, Path(out) / "nin" / "test_accuracy_per_epoch.png")
    return rows


def plot_curves(rows, path):
    """Test accuracy (error-free) after every epoch, one line per run, colored by training BER."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.8))
    colors = dict(zip(BERS, plt.cm.viridis(np.linspace(0, 0.85, len(BERS)))))
    for r in rows:
        epochs = np.arange(1, len(r["test_accuracy_per_epoch"]) + 1)
        ax.plot(epochs, 100 * np.array(r["test_accuracy_per_epoch"]), "o" + "-:--"[r["seed"] % 3],
                color=colors[r["ber"]], label=f"BER {r['ber']:g}, seed {r['seed']}")
    ax.set(xlabel="epoch", ylabel="test accuracy (%), tested error-free", title="NiN on CIFAR-10 (JPEG copy)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=130, format="png"))
    plt.close(fig)
    print(f"figure: {path}")


def alexnet_smoke(out, ber, input_size, batches, batch_size, seed):
    """AlexNet (small input) on 2 CIFAR-10 classes drawn from `seed`, upscaled to input_size: a few training batches
    with BER `ber` on every binary activation, then an error-free evaluation. Writes out/alexnet/smoke.json."""
    import datasets
    from bnn.errors import ErrorConfig
    from bnn.layers import softmax_cross_entropy
    from bnn.models import RECIPES, alexnet
    from bnn.optim import make_optimizer
    from bnn.train import attach_errors, evaluate

    root = Path(out) / "data"
    options = dict(classes=2, seed=seed, size=input_size)
    train_ds = datasets.load("cifar10-jpeg", "train", root=root, **options)
    test_ds = datasets.load("cifar10-jpeg", "test", root=root, **options)
    rng = np.random.default_rng(seed)
    model = alexnet(rng, num_classes=2, input_size=input_size)
    model.constrain()
    recipe = RECIPES["alexnet"]
    optimizer = make_optimizer(recipe["optimizer"], model.params(), recipe["lr"], recipe["weight_decay"])
    attach_errors(model, ErrorConfig(ber=ber), epoch=0, rng=rng)
    model.train()
    losses, start = [], time.perf_counter()
    for step, (x, y) in enumerate(datasets.batches(train_ds, batch_size, rng)):
        if step == batches:
            break
        loss, dlogits = softmax_cross_entropy(model.forward(x), y)
        model.backward(dlogits)
        optimizer.step(model.grads())
        model.constrain()
        losses.append(float(loss))
        print(f"alexnet batch {step + 1}/{batches}: loss {loss:.4f}", flush=True)
    test_loss, test_accuracy = evaluate(model, test_ds, batch_size=100)
    record = dict(classes=train_ds.classes, class_seed=seed, input_size=input_size, ber=ber, batch_size=batch_size,
                  batches=len(losses), train_losses=losses, train_images=len(train_ds), test_images=len(test_ds),
                  test_loss=float(test_loss), test_accuracy=float(test_accuracy),
                  seconds=time.perf_counter() - start)
    write_json(Path(out) / "alexnet" / "smoke.json", record)
    print(json.dumps(record, indent=2))
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("subset", "nin", "table", "alexnet"))
    parser.add_argument("--out", type=Path, required=True, help="output folder (outside the repository)")
    parser.add_argument("--ber", type=float, nargs="+", default=list(BERS))
    parser.add_argument("--source", type=Path, default=SOURCE, help="the full cifar10-jpeg archive")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="NiN epochs")
    parser.add_argument("--milestones", type=int, nargs="*", default=list(MILESTONES),
                        help="NiN: 0-based epochs from which the learning rate is divided by 10")
    parser.add_argument("--train-per-class", type=int, default=200)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--input-size", type=int, default=96, help="AlexNet input side (pixels)")
    parser.add_argument("--batches", type=int, default=6, help="AlexNet training batches")
    parser.add_argument("--batch-size", type=int, default=32, help="AlexNet batch size")
    parser.add_argument("--seed", type=int, default=0, help="NiN: the run's seed (folder ber<b>_seed<s> unless 0); "
                                                           "AlexNet: class choice and initialization")
    args = parser.parse_args(argv)
    if args.command == "subset":
        counts = make_subset(args.source, subset_archive(args.out), args.train_per_class, args.test_per_class)
        print(f"wrote {subset_archive(args.out)}: {counts}")
    elif args.command == "nin":
        train_nin(args.out, args.ber, args.seed, args.epochs, args.milestones)
    elif args.command == "table":
        table(args.out, epochs=args.epochs, milestones=args.milestones)
    else:
        alexnet_smoke(args.out, args.ber[0], args.input_size, args.batches, args.batch_size, args.seed)


if __name__ == "__main__":
    sys.exit(main())
