"""CIFAR-10 and CIFAR-100 from their official *binary* archives, read straight from the .tar.gz.

The Python versions are never used: unpickling runs arbitrary code. Binary records are fixed-length:
CIFAR-10  `cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin`: 1 label byte + 3072 image bytes;
CIFAR-100 `cifar-100-binary/{train,test}.bin`: 1 coarse label byte, 1 fine label byte, 3072 image bytes.
The image bytes are the R, G, B planes of 32x32 pixels, row-major: exactly C x H x W. Class names come
from the archive's `batches.meta.txt` / `fine_label_names.txt` and `coarse_label_names.txt`.
CIFAR-100 `labels` are the fine labels; the coarse ones are in meta["coarse_labels"] / ["coarse_classes"].
"""
import numpy as np

from .archives import scan
from .errors import DataError
from .sources import Source, check_digest, file_sha256, locate_all

IMAGE_BYTES = 3 * 32 * 32


class Cifar:
    """Specification of one CIFAR archive; `CIFAR10` and `CIFAR100` below are the two instances."""

    splits = ("train", "test")

    def __init__(self, name, source, folder, members, names_files, mean, std):
        """names_files: {names file in the archive: number of classes}; the last label byte of a record
        indexes the first file (fine labels), the one before it the second (CIFAR-100 coarse labels)."""
        self.name, self.source, self.folder, self.members = name, source, folder, members
        self.names_files, self.label_bytes = names_files, len(names_files)
        self.mean, self.std = mean, std

    @staticmethod
    def variant():
        return {}

    def sources(self, split, variant):
        """The raw files of `split`: the one archive holds both splits."""
        return [self.source]

    def builder(self, split, root, variant, download=None, strict=False, opener=None):
        def build(sink):
            path, = locate_all(self.sources(split, variant), root, download, opener, what=f"{self.name} {split}")
            sha = file_sha256(path)
            check_digest(path, "archive", sha, self.source.sha256, strict)
            records, names = self.read(path, split)
            images = records[:, self.label_bytes:].reshape(-1, 3, 32, 32)
            labels = records[:, self.label_bytes - 1].astype(np.int64)
            classes, *coarse_classes = names
            self.check_labels(path, labels, classes, "label")
            sink.allocate(len(images), (3, 32, 32))
            sink.write(0, images, labels)
            meta = {}
            if coarse_classes:
                coarse = records[:, 0].astype(np.int64)
                self.check_labels(path, coarse, coarse_classes[0], "coarse label")
                sink.add_extra("coarse_labels", coarse)
                meta["coarse_classes"] = coarse_classes[0]
            return dict(classes=classes, mean=self.mean, std=self.std, sources={path.name: sha}, meta=meta)
        return build

    def read(self, path, split):
        """(records uint8 (N, label_bytes + 3072), [class names per names file]) for `split` from the archive."""
        wanted = {f"{self.folder}/{m}" for m in [*self.members[split], *self.names_files]}
        found = {name: data for name, data in scan(path, wanted.__contains__) if data is not None}
        missing = sorted(wanted - set(found))
        if missing:
            raise DataError(f"{path}: archive lacks {', '.join(missing)} (is it the official binary version?)")
        record = self.label_bytes + IMAGE_BYTES
        parts = []
        for member in self.members[split]:
            data = found[f"{self.folder}/{member}"]
            if len(data) == 0 or len(data) % record:
                raise DataError(f"{path}: member {self.folder}/{member} has {len(data)} bytes, not a positive "
                                f"multiple of the {record}-byte record")
            parts.append(np.frombuffer(data, np.uint8).reshape(-1, record))
        names = []
        for f, count in self.names_files.items():
            text = found[f"{self.folder}/{f}"].decode("utf-8", errors="replace")
            names.append([line.strip() for line in text.splitlines() if line.strip()])
            if len(names[-1]) != count:
                raise DataError(f"{path}: member {self.folder}/{f} names {len(names[-1])} classes, expected {count}")
        return np.concatenate(parts), names

    def check_labels(self, path, labels, classes, what):
        if labels.size and labels.max() >= len(classes):
            raise DataError(f"{path}: {what} {labels.max()} but the archive names only {len(classes)} classes")


CIFAR10 = Cifar(
    "cifar10",
    Source("cifar10", "cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
           sha256="c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"),
    "cifar-10-batches-bin",
    {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]},
    {"batches.meta.txt": 10},
    mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616))

CIFAR100 = Cifar(
    "cifar100",
    Source("cifar100", "cifar-100-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
           sha256="58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec"),
    "cifar-100-binary",
    {"train": ["train.bin"], "test": ["test.bin"]},
    {"fine_label_names.txt": 100, "coarse_label_names.txt": 20},
    mean=(0.5071, 0.4865, 0.4409), std=(0.2673, 0.2564, 0.2762))
