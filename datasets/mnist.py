"""MNIST: 28x28 grey digits from the four official IDX files (gzipped or raw).

Files: `<root>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`. The mirrors re-compress the
files, so they are verified by the SHA-256 of their decompressed content. Normalization is the reference
recipe's: mean 0.1307, std 0.3081.
"""
import numpy as np

from .errors import DataError
from .idx import read_idx
from .sources import Source, check_digest, locate_all

URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
CONTENT_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
PREFIX = {"train": "train", "test": "t10k"}
CLASSES = [str(d) for d in range(10)]
MEAN, STD = (0.1307,), (0.3081,)


def source(stem):
    return Source("mnist", stem + ".gz", URL + stem + ".gz", content_sha256=CONTENT_SHA256[stem])


class Spec:
    name = "mnist"
    splits = ("train", "test")

    @staticmethod
    def variant():
        return {}

    @staticmethod
    def sources(split, variant):
        """The raw files of `split`: its images, then its labels."""
        return [source(f"{PREFIX[split]}-{kind}-ubyte") for kind in ("images-idx3", "labels-idx1")]

    @staticmethod
    def builder(split, root, variant, download=None, strict=False, opener=None):
        def build(sink):
            sources = Spec.sources(split, variant)
            paths = locate_all(sources, root, download, opener, what=f"mnist {split}")
            (images, image_sha), (labels, label_sha) = read_idx(paths[0], 3), read_idx(paths[1], 1)
            for path, src, sha in zip(paths, sources, (image_sha, label_sha)):
                check_digest(path, "decompressed content", sha, src.content_sha256, strict)
            if images.dtype != np.uint8 or labels.dtype != np.uint8:
                raise DataError(f"{paths[0]} / {paths[1]}: IDX types {images.dtype} / {labels.dtype}, expected uint8")
            if len(images) != len(labels):
                raise DataError(f"{paths[0]} has {len(images)} images but {paths[1]} has {len(labels)} labels")
            if labels.size and labels.max() > 9:
                raise DataError(f"{paths[1]}: label {labels.max()} outside the digits 0..9")
            sink.allocate(len(images), (1, *images.shape[1:]))
            sink.write(0, images[:, None], labels.astype(np.int64))
            return dict(classes=CLASSES, mean=MEAN, std=STD,
                        sources={paths[0].name: image_sha, paths[1].name: label_sha},
                        meta=dict(source_kind="content_sha256"))
        return build
