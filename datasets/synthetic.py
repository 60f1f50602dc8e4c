"""Writers of small files in the exact official layouts, for tests, fuzzing and tutorials.

Each writer draws random images and labels from an explicit Generator, writes them where the loaders
expect them under a data root, and returns the arrays it wrote so a test can compare.
"""
import gzip
import struct

import numpy as np


def idx_bytes(array, code=0x08):
    """IDX encoding of an array: 0x0000, type code (0x08 = uint8), ndim, big-endian uint32 dims, data."""
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def write_mnist(root, rng, n_train=50, n_test=20, gz=True):
    """Four MNIST IDX files in `root/mnist`; returns {split: (images uint8 (N, 28, 28), labels uint8 (N,))}."""
    folder = root / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, prefix, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte"
            content = idx_bytes(array)
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(content))
            else:
                (folder / name).write_bytes(content)
        arrays[split] = (images, labels)
    return arrays
