"""Command line: `python -m datasets prepare NAME [--source DIR] [--download]` and `python -m datasets info NAME`.

prepare builds the HDF5 cache of every split (or --split ones); info prints sizes, classes, per-class
counts, normalization, checksums and the cache path. For image folders --source is the folder or archive;
for the other datasets it is the data root, or the folder holding the raw files themselves.
Missing official files are downloaded first (verified; --no-download or $XNOR_MRAM_OFFLINE=1: not), once for
all the splits asked for. Exit status: 0 done, 1 bad raw data, 2 a bad option or missing files (then three
lines say which files to put where, and how to fetch them).
"""
import argparse
import sys
import time

import numpy as np

from .errors import DataError, SourceMissing
from .imagefolder import ImageFolder
from .loading import REGISTRY, load, require, spec


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m datasets", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["prepare", "info"])
    parser.add_argument("name", choices=sorted(REGISTRY))
    parser.add_argument("--source", help="raw files: data root or dataset folder; image folders: folder or archive")
    parser.add_argument("--root", help="data root (default $XNOR_MRAM_DATA, else ~/.cache/xnor-mram)")
    parser.add_argument("--cache-dir", help="cache folder (default $XNOR_MRAM_CACHE, else <root>/cache)")
    parser.add_argument("--split", action="append", help="split(s) to handle (default: all that exist)")
    parser.add_argument("--download", action=argparse.BooleanOptionalAction,
                        help="fetch missing official files, verified by SHA-256 (default: yes unless "
                             "$XNOR_MRAM_OFFLINE=1; --download: even then)")
    parser.add_argument("--strict", action="store_true", help="refuse raw files that are not the official ones")
    parser.add_argument("--extra", action="store_true", help="svhn: train split = train + extra")
    parser.add_argument("--classes", help="image folders: k (random, --seed) or comma-separated names")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, help="image folders: output side in pixels")
    parser.add_argument("--max-per-class", type=int)
    return parser.parse_args(argv)


def variant_of(args):
    variant = {}
    if args.extra:
        variant["extra"] = True
    if isinstance(spec(args.name), ImageFolder):
        if args.source:
            variant["source"] = args.source
        if args.classes:
            variant["classes"] = int(args.classes) if args.classes.isdigit() else args.classes.split(",")
        variant.update(seed=args.seed, max_per_class=args.max_per_class)
        if args.size:
            variant["size"] = args.size
    return variant


def describe(ds, seconds):
    counts = np.bincount(ds.labels, minlength=len(ds.classes))
    lines = [f"{ds.name} {ds.split}: {len(ds)} images {tuple(ds.images.shape[1:])} uint8, "
             f"{len(ds.classes)} classes, ready in {seconds:.2f} s",
             f"  cache     {ds.meta['cache']}",
             f"  mean/std  {ds.mean} / {ds.std} (measured {np.round(ds.meta['measured_mean'], 4).tolist()} / "
             f"{np.round(ds.meta['measured_std'], 4).tolist()})"]
    shown = min(len(ds.classes), 20)
    lines.append("  classes   " + ", ".join(f"{c}: {n}" for c, n in zip(ds.classes[:shown], counts[:shown]))
                 + (f", ... ({len(ds.classes) - shown} more)" if len(ds.classes) > shown else ""))
    for name, digest in ds.meta["sources"].items():
        lines.append(f"  sha256    {digest}  {name}")
    lines.append(f"  images    sha256 {ds.meta['images_sha256']}")
    return "\n".join(lines)


def main(argv=None):
    args = parse(argv)
    dataset = spec(args.name)
    root = args.root
    if args.source and not isinstance(dataset, ImageFolder):
        root = args.source
    splits = args.split or dataset.splits
    try:        # fetch what is missing once, for all the splits, before building any cache
        require(args.name, splits, root=root, download=args.download, **variant_of(args))
    except (SourceMissing, ValueError) as err:      # missing files, or a bad option
        print(f"error: {err}", file=sys.stderr)
        return 2
    done, missing = 0, []
    for split in splits:
        start = time.perf_counter()
        try:
            ds = load(args.name, split, root=root, cache_dir=args.cache_dir, download=args.download,
                      strict=args.strict, **variant_of(args))
        except DataError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)         # a bad option (e.g. more classes than the folder has)
            return 2
        except SourceMissing as err:
            if args.split:
                print(f"error: {err}", file=sys.stderr)
                return 2
            missing.append(f"{split}: {err}")       # e.g. image folders ship val or test, rarely both
            continue
        print(describe(ds, time.perf_counter() - start))
        done += 1
    for failure in missing:
        print(("note: skipped split " if done else "error: ") + failure, file=sys.stderr)
    return 0 if done else 2


if __name__ == "__main__":
    sys.exit(main())
