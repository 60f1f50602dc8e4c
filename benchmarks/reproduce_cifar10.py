"""AlexNet end to end on a 2-class CIFAR-10 subset, and the class-balanced subset archives it (and short NiN runs)
can train on. NiN on all of CIFAR-10 is a `python -m bnn sweep` campaign: see docs/results/nin_cifar10_50k.toml.

    python benchmarks/reproduce_cifar10.py subset --out ../runs/cifar10 --train-per-class 500 --test-per-class 200
    python benchmarks/reproduce_cifar10.py alexnet --out ../runs/cifar10 --ber 0.05 --input-size 96 --batches 6

Why a subset archive: `TrainConfig.train_subset` keeps the first n images in the dataset's order, and the image-folder
copy is sorted by class, so its first 10,000 images would be two classes. `subset` takes the first `--train-per-class`
files of every class (by file name) instead, and writes them as a tar.gz in the same
`cifar10-jpeg/{train,test}/<class>/NNNN.jpg` layout (JPEG bytes copied unchanged) under `<out>/data`, which then
serves as a data root (`--data-root` of `python -m bnn train`/`sweep`, and of `alexnet` here).
"""
import argparse
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


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2)))


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
    parser.add_argument("command", choices=("subset", "alexnet"))
    parser.add_argument("--out", type=Path, required=True, help="output folder (outside the repository)")
    parser.add_argument("--ber", type=float, default=0.05, help="AlexNet: training BER of every binary activation")
    parser.add_argument("--source", type=Path, default=SOURCE, help="the full cifar10-jpeg archive")
    parser.add_argument("--train-per-class", type=int, default=200)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--input-size", type=int, default=96, help="AlexNet input side (pixels)")
    parser.add_argument("--batches", type=int, default=6, help="AlexNet training batches")
    parser.add_argument("--batch-size", type=int, default=32, help="AlexNet batch size")
    parser.add_argument("--seed", type=int, default=0, help="AlexNet: class choice and initialization")
    args = parser.parse_args(argv)
    if args.command == "subset":
        counts = make_subset(args.source, subset_archive(args.out), args.train_per_class, args.test_per_class)
        print(f"wrote {subset_archive(args.out)}: {counts}")
    else:
        alexnet_smoke(args.out, args.ber, args.input_size, args.batches, args.batch_size, args.seed)


if __name__ == "__main__":
    sys.exit(main())
