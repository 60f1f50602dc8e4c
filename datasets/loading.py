"""`load(name, split)`: the one entry point from a dataset name to arrays, through the HDF5 cache; and
`require(name)`: make sure a dataset's raw files are on disk (downloading them if needed) before a long job starts."""
import inspect
from dataclasses import dataclass, field

import numpy as np

from . import cache, cifar, imagefolder, mnist, svhn
from .sources import locate_all
from .paths import cache_root, data_root

REGISTRY = {spec.name: spec for spec in (mnist.Spec, cifar.CIFAR10, cifar.CIFAR100, svhn.Spec,
                                           imagefolder.IMAGEFOLDER, imagefolder.CIFAR10_JPEG)}


@dataclass
class Dataset:
    """One split of a dataset.

    images:  uint8 (N, C, H, W). A NumPy array up to `cache.IN_MEMORY_LIMIT` (2 GiB: all of MNIST, CIFAR,
             SVHN and small ImageNet subsets), else a read-only h5py.Dataset over the cache file (a lazy view
             that keeps the file open: index it to read; `batches` reads it in bounded chunks).
    labels:  int64 (N,), indices into `classes`.
    mean, std: per-channel normalization constants on the 0..1 pixel scale (the recipe's, not measured
             on this split; measured values are in meta["measured_mean"/"measured_std"]).
    meta:    sources (file -> SHA-256), variant, cache path, images_sha256, measured_mean/std, and per
             dataset: chosen_classes / per_class (image folders), coarse_labels / coarse_classes (CIFAR-100),
             parts (SVHN).
    """
    name: str
    split: str
    images: object
    labels: np.ndarray
    classes: list
    mean: tuple
    std: tuple
    meta: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.labels)

    def __repr__(self):
        kind = "in memory" if isinstance(self.images, np.ndarray) else "on disk"
        return (f"Dataset({self.name!r}, {self.split!r}, images {tuple(self.images.shape)} uint8 {kind}, "
                f"{len(self.classes)} classes)")


def spec(name):
    """The dataset specification registered under `name`."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(REGISTRY)}") from None


def checked_variant(dataset, variant):
    """The dataset's normalized variant dict from keyword options; ValueError naming unknown options."""
    accepted = sorted(inspect.signature(dataset.variant).parameters)
    unknown = sorted(set(variant) - set(accepted))
    if unknown:
        raise ValueError(f"{dataset.name} has no option(s) {unknown}; its options are {accepted or 'none'}")
    return dataset.variant(**variant)


def load(name, split, root=None, cache_dir=None, download=None, strict=False, in_memory=None, opener=None,
         **variant):
    """Load split `split` of dataset `name`, building its HDF5 cache from the raw files on first use.

    root: data root (else $XNOR_MRAM_DATA, else ~/.cache/xnor-mram); cache_dir: cache folder (else
    $XNOR_MRAM_CACHE, else <root>/cache if writable, else ~/.cache/xnor-mram/cache).
    download: fetch missing raw files from their official URL ($XNOR_MRAM_MIRROR's copy if set), verified by the
    official SHA-256 and stored under the data root: True, False, or None (default): yes unless
    $XNOR_MRAM_OFFLINE=1. A split already in the cache reads no raw file, so it downloads nothing.
    strict: refuse local raw files whose SHA-256 differs from the official one (else warn).
    in_memory: True / False forces an ndarray / h5py view for `images`; None decides by size (2 GiB).
    variant: dataset-specific options (e.g. svhn `extra=True`, imagefolder `classes=10, seed=0, size=32`).
    Raises DataError for bad raw data, SourceMissing (three lines: what is missing, where to put it, how to fetch
    it) when raw files are absent and were not downloaded.
    """
    dataset = spec(name)
    if split not in dataset.splits:
        raise ValueError(f"{name} has no split {split!r}; expected one of {list(dataset.splits)}")
    variant = checked_variant(dataset, variant)
    root = data_root(root)
    path = cache_root(cache_dir, root) / cache.cache_name(name, split, variant)
    build = dataset.builder(split, root, variant, download=download, strict=strict, opener=opener)
    identity = dict(name=name, split=split, variant=variant)
    images, labels, attrs = cache.load_or_build(path, build, identity, in_memory=in_memory)
    meta = dict(attrs["meta"], **attrs["extras"], sources=attrs["sources"], variant=attrs["variant"],
                cache=str(path), images_sha256=attrs["images_sha256"])
    return Dataset(name, split, images, labels, attrs["classes"], tuple(attrs["mean"]), tuple(attrs["std"]), meta)



def require(name, splits=None, root=None, download=None, opener=None, **variant):
    """Make sure the raw files of dataset `name` for `splits` are on disk, downloading the missing ones as `load`
    would (download: True, False, or None for "unless $XNOR_MRAM_OFFLINE=1"); returns their paths.

    splits: default the dataset's train and test splits (image folders: only the source is checked, since a
    folder may hold any of train, val and test). Reads no file and builds no cache: quick when the files are there.
    A command line calls this once before a job that will load the dataset, and prints the three-line message of
    the SourceMissing it may raise, instead of each run of the job failing on its own.
    Raises ValueError for an unknown dataset, split or option.
    """
    dataset = spec(name)
    splits = [s for s in dataset.splits if s in ("train", "test")] if splits is None else list(splits)
    bad = [s for s in splits if s not in dataset.splits]
    if bad:
        raise ValueError(f"{name} has no split(s) {bad}; expected some of {list(dataset.splits)}")
    variant = checked_variant(dataset, variant)
    root = data_root(root)
    if isinstance(dataset, imagefolder.ImageFolder):
        return [dataset.resolve(root, variant)]
    sources = list(dict.fromkeys(source for split in splits for source in dataset.sources(split, variant)))
    return locate_all(sources, root, download, opener, what=f"{name} {'+'.join(splits)}")
