"""Writers of small files in the exact official layouts, for tests, fuzzing and tutorials.

Each writer draws random images and labels from an explicit Generator, writes them where the loaders
expect them under a data root, and returns the arrays it wrote so a test can compare.
"""
import gzip
import io
import struct
import tarfile

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


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def add_tar_member(tar, name, data):
    """Add a regular file `name` holding `data` (bytes) to an open tarfile."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_cifar(root, rng, hundred=False, per_batch=6):
    """A CIFAR-10 (or -100) binary .tar.gz with `per_batch` records per member, under root/cifar10 (cifar100).

    Returns {split: (images uint8 (N, 3, 32, 32), fine labels (N,), coarse labels (N,) or None)}.
    """
    if hundred:
        folder, members = "cifar-100-binary", {"train": ["train.bin"], "test": ["test.bin"]}
        names = {"fine_label_names.txt": [f"fine{i}" for i in range(100)],
                 "coarse_label_names.txt": [f"coarse{i}" for i in range(20)]}
    else:
        folder = "cifar-10-batches-bin"
        members = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
        names = {"batches.meta.txt": CIFAR10_CLASSES}
    target = root / ("cifar100" if hundred else "cifar10")
    target.mkdir(parents=True, exist_ok=True)
    arrays = {}
    with tarfile.open(target / f"cifar-{100 if hundred else 10}-binary.tar.gz", "w:gz") as tar:
        for split, files in members.items():
            n = per_batch * len(files)
            images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
            fine = rng.integers(0, 100 if hundred else 10, n, dtype=np.uint8)
            coarse = rng.integers(0, 20, n, dtype=np.uint8) if hundred else None
            labels = [coarse, fine] if hundred else [fine]
            records = np.concatenate([*(l[:, None] for l in labels), images.reshape(n, -1)], axis=1)
            for i, member in enumerate(files):
                add_tar_member(tar, f"{folder}/{member}", records[i * per_batch:(i + 1) * per_batch].tobytes())
            arrays[split] = (images, fine, coarse)
        for member, lines in names.items():
            add_tar_member(tar, f"{folder}/{member}", ("\n".join(lines) + "\n").encode())
    return arrays


def write_svhn(root, rng, sizes=(("train", 7), ("test", 5), ("extra", 9)), hdf5=False):
    """SVHN `<part>_32x32.mat` files under root/svhn: MATLAB v5 via scipy, or v7.3 layout via h5py.

    Returns {part: (images uint8 (N, 3, 32, 32), labels int64 (N,) as digits 0..9)}.
    """
    import h5py
    import scipy.io
    folder = root / "svhn"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for part, n in sizes:
        images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        digits = rng.integers(0, 10, n)
        y = np.where(digits == 0, 10, digits).astype(np.uint8)[:, None]   # SVHN writes 0 as 10
        path = folder / f"{part}_32x32.mat"
        if hdf5:
            with h5py.File(path, "w") as f:     # MATLAB v7.3 stores axes reversed: (N, C, W, H)
                f["X"] = images.transpose(0, 1, 3, 2)
                f["y"] = y.T.astype(np.float64)
        else:
            scipy.io.savemat(path, {"X": images.transpose(2, 3, 1, 0), "y": y})
        arrays[part] = (images, digits.astype(np.int64))
    return arrays


def encode_image(image, fmt="PNG"):
    """Encoded bytes of a uint8 (3, H, W) image ("PNG" is lossless, "JPEG" is not)."""
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image.transpose(1, 2, 0))).save(buffer, format=fmt)
    return buffer.getvalue()


def write_imagefolder(path, rng, splits=(("train", 3), ("test", 2)), classes=("cat", "dog", "emu"),
                      shape=(3, 8, 8), prefix="", archive=True):
    """`[prefix/]split/class/NNNN.png` random images as a .tar/.tar.gz (by `path`'s suffix) or a folder.

    Returns {split: (images uint8 (N, C, H, W), labels int64 (N,))}, in the loader's order (class, name).
    """
    files, arrays = {}, {}
    for split, per_class in splits:
        images = rng.integers(0, 256, (per_class * len(classes), *shape), dtype=np.uint8)
        labels = np.repeat(np.arange(len(classes)), per_class)
        for i, (image, label) in enumerate(zip(images, labels)):
            files[f"{prefix}{split}/{classes[label]}/{i:04d}.png"] = encode_image(image)
        arrays[split] = (images, labels)
    if archive:
        with tarfile.open(path, "w:gz" if str(path).endswith("gz") else "w") as tar:
            for name, data in files.items():
                add_tar_member(tar, name, data)
    else:
        for name, data in files.items():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_bytes(data)
    return arrays
