"""Official dataset formats -> verified HDF5 cache -> arrays and mini-batches.

    ds = datasets.load("mnist", "train")        # Dataset: images uint8 (N, C, H, W), labels int64 (N,), ...
    for x, y in datasets.batches(ds, 128, rng, augment=False):
        ...                                     # x float32 (B, C, H, W) normalized, y int64 (B,)

Names: mnist, cifar10, cifar100 (binary archives), svhn (extra=True: train + extra), cifar10-jpeg (the
shared JPEG copy), imagefolder (source=folder or .tar/.tar.gz; classes=k or names, seed, size,
max_per_class). Raw files live in <root>/<name>/ (root: argument, $XNOR_MRAM_DATA, ~/.cache/xnor-mram);
caches in cache_dir, $XNOR_MRAM_CACHE, <root>/cache if writable, ~/.cache/xnor-mram/cache.
Command line: `python -m datasets prepare NAME [--source DIR] [--download]`, `python -m datasets info NAME`.

Missing raw files of mnist, cifar10, cifar100 and svhn are downloaded from their official URLs (or
$XNOR_MRAM_MIRROR), verified by the official SHA-256 and stored under the data root; download=False or
$XNOR_MRAM_OFFLINE=1 turns that off. `require(name)` does only that, for a command line to call before a long job.

Bad raw data raises `DataError` (a ValueError naming the file and the problem); a missing raw file that was not
downloaded raises `SourceMissing` (a FileNotFoundError whose three lines say what is missing, where to put it and
how to fetch it).

Sealed HDF5 files (`create_sealed`, `open_sealed`, `BrokenSeal`; see datasets.sealed): the SHA-256 header that
makes the cache safe to read, shared with bnn's checkpoints and exported models.
"""
from .batching import batches, crop_flip, normalize
from .errors import DataError, SourceMissing
from .loading import REGISTRY, Dataset, load, require
from .sealed import BrokenSeal, create_sealed, open_sealed

__all__ = ["load", "require", "batches", "Dataset", "DataError", "SourceMissing", "crop_flip", "normalize", "REGISTRY",
           "create_sealed", "open_sealed", "BrokenSeal"]
