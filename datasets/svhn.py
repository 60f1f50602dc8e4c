"""SVHN cropped digits from the official MATLAB files `train_32x32.mat`, `test_32x32.mat`, `extra_32x32.mat`.

Each file holds X, uint8 (32, 32, 3, N) in MATLAB (H, W, C, N) order, and y, (N, 1) digits with 10 meaning
0. Files saved as MATLAB v5 are read with scipy.io.loadmat; v7.3 files are HDF5 and are read with h5py,
where the axes appear reversed: X (N, C, W, H), y (1, N). The paper's "extended SVHN" trains on
train + extra: `load("svhn", "train", extra=True)`. The `extra` split alone is also available.
"""
import h5py
import numpy as np
import scipy.io

from .errors import DataError
from .sources import Source, check_digest, file_sha256, locate_all

URL = "http://ufldl.stanford.edu/housenumbers/"
SHA256 = {
    "train": "435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8",
    "test": "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b",
    "extra": "a133a4beb38a00fcdda90c9489e0c04f900b660ce8a316a5e854838379a71eb3",
}
CLASSES = [str(d) for d in range(10)]
MEAN, STD = (0.4377, 0.4438, 0.4728), (0.1980, 0.2010, 0.1970)


def source(part):
    return Source("svhn", f"{part}_32x32.mat", f"{URL}{part}_32x32.mat", sha256=SHA256[part])


def read_mat(path):
    """(images uint8 (N, 3, 32, 32), labels int64 (N,) with 10 mapped to 0) from an SVHN .mat file."""
    try:
        if h5py.is_hdf5(path):
            with h5py.File(path, "r") as f:
                x, y = f["X"][...].transpose(0, 1, 3, 2), f["y"][...].reshape(-1)
        else:
            mat = scipy.io.loadmat(path, variable_names=["X", "y"])
            x, y = mat["X"].transpose(3, 2, 0, 1), mat["y"].reshape(-1)
    except KeyError as err:
        raise DataError(f"{path}: no variable {err} (expected X and y)") from err
    except Exception as err:    # scipy's and h5py's readers raise many types on malformed files (MatReadError,
        # ValueError, IndexError, OSError, ...); all of them mean the same thing here.
        raise DataError(f"{path}: not a readable MATLAB file ({type(err).__name__}: {err})") from err
    if x.shape[1:] != (3, 32, 32) or x.dtype != np.uint8:
        raise DataError(f"{path}: X is {x.dtype} with images of shape {x.shape[1:]}, expected uint8 (3, 32, 32)")
    if len(y) != len(x):
        raise DataError(f"{path}: {len(x)} images but {len(y)} labels")
    bad = ~np.isin(y, np.arange(1, 11))
    if bad.any():
        raise DataError(f"{path}: label {y[bad][0]} at index {np.flatnonzero(bad)[0]}, expected digits 1..10 "
                        f"(10 stands for 0)")
    return np.ascontiguousarray(x), (y % 10).astype(np.int64)


class Spec:
    name = "svhn"
    splits = ("train", "test", "extra")

    @staticmethod
    def variant(extra=False):
        if not isinstance(extra, bool):
            raise ValueError(f"svhn extra must be True or False, got {extra!r}")
        return {"extra": True} if extra else {}

    @staticmethod
    def parts(split, variant):
        """The .mat files `split` reads: its own, and extra's for train with extra=True."""
        return [split, "extra"] if split == "train" and variant.get("extra") else [split]

    @staticmethod
    def sources(split, variant):
        return [source(part) for part in Spec.parts(split, variant)]

    @staticmethod
    def builder(split, root, variant, download=None, strict=False, opener=None):
        parts = Spec.parts(split, variant)

        def build(sink):
            paths = locate_all(Spec.sources(split, variant), root, download, opener, what=f"svhn {split}")
            sources, loaded = {}, []
            for part, path in zip(parts, paths):
                sources[path.name] = file_sha256(path)
                check_digest(path, "file", sources[path.name], SHA256[part], strict)
                loaded.append(read_mat(path))
            sink.allocate(sum(len(y) for _, y in loaded), (3, 32, 32))
            start = 0
            for x, y in loaded:
                sink.write(start, x, y)
                start += len(y)
            return dict(classes=CLASSES, mean=MEAN, std=STD, sources=sources, meta=dict(parts=parts))
        return build
