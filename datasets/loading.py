"""`load(name, split)`: the one entry point from a dataset name to arrays, through the HDF5 cache."""
import inspect
from dataclasses import dataclass, field

import numpy as np

from . import cache, cifar, imagefolder, mnist, svhn
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


def load(name, split, root=None, cache_dir=None, download=False, strict=False, in_memory=None, opener=None,
         **variant):
    """Load split `split` of dataset `name`, building its HDF5 cache from the raw files on first use.

    root: data root (else $XNOR_MRAM_DATA, else ~/.cache/xnor-mram); cache_dir: cache folder (else
    $XNOR_MRAM_CACHE, else <root>/cache if writable, else ~/.cache/xnor-mram/cache).
    download: fetch missing raw files from their official URL (verified by SHA-256).
    strict: refuse local raw files whose SHA-256 differs from the official one (else warn).
    in_memory: True / False forces an ndarray / h5py view for `images`; None decides by size (2 GiB).
    variant: dataset-specific options (e.g. svhn `extra=True`, imagefolder `classes=10, seed=0, size=32`).
    Raises DataError for bad raw data, SourceMissing (naming the file and where to put it) when absent.
    """
    dataset = spec(name)
    if split not in dataset.splits:
        raise ValueError(f"{name} has no split {split!r}; expected one of {list(dataset.splits)}")
    accepted = sorted(inspect.signature(dataset.variant).parameters)
    unknown = sorted(set(variant) - set(accepted))
    if unknown:
        raise ValueError(f"{name} has no option(s) {unknown}; its options are {accepted or 'none'}")
    variant = dataset.variant(**variant)
    root = data_root(root)
    path = cache_root(cache_dir, root) / cache.cache_name(name, split, variant)
    build = dataset.builder(split, root, variant, download=download, strict=strict, opener=opener)
    identity = dict(name=name, split=split, variant=variant)
    images, labels, attrs = cache.load_or_build(path, build, identity, in_memory=in_memory)
    meta = dict(attrs["meta"], **attrs["extras"], sources=attrs["sources"], variant=attrs["variant"],
                cache=str(path), images_sha256=attrs["images_sha256"])
    return Dataset(name, split, images, labels, attrs["classes"], tuple(attrs["mean"]), tuple(attrs["std"]), meta)

