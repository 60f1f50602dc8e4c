"""Official dataset formats -> verified HDF5 cache -> arrays and mini-batches.

    ds = datasets.load("mnist", "train")               # Dataset: images uint8 (N,C,H,W), labels int64 (N,)
    for x, y in datasets.batches(ds, 128, rng, augment=False):
        ...                                            # x float32 (B,C,H,W) normalized, y int64 (B,)

Bad raw data raises `DataError` (a ValueError naming the file and the problem); a missing raw file raises
`SourceMissing` (a FileNotFoundError saying where to place it).
"""
from .batching import batches, crop_flip, normalize
from .errors import DataError, SourceMissing
from .loading import REGISTRY, Dataset, load

__all__ = ["load", "batches", "Dataset", "DataError", "SourceMissing", "crop_flip", "normalize", "REGISTRY"]
