"""Raw source files: where each one is expected, its official URL and SHA-256, and finding it on disk.

A `Source` names one file of an official distribution. `sha256` is the digest of the file as distributed
(known for the CIFAR and SVHN archives); `content_sha256` is the digest of its decompressed content (MNIST:
mirrors re-compress the IDX files, so only the content is stable). Local files are hashed and the digests
recorded in the cache; a mismatch with the official digest is a warning (tests and private copies use
other files), or a DataError with `strict=True`. Downloads are always verified (see `download.py`).
"""
import gzip
import hashlib
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

from .download import download_verified
from .errors import DataError, SourceMissing

CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    folder: str                  # dataset folder under the data root, e.g. "mnist"
    filename: str                # the official file name, e.g. "train-images-idx3-ubyte.gz"
    url: str = None              # official (or long-standing mirror) URL
    sha256: str = None           # of the file as distributed
    content_sha256: str = None   # of the decompressed content, for .gz files

    def candidates(self, root):
        """Paths accepted for this file, in order: `<root>/<folder>/<name>`, then `<root>/<name>` (so a root
        may also be the dataset's own folder); each as the official name, then uncompressed for a .gz."""
        names = [self.filename]
        if self.filename.endswith(".gz") and not self.filename.endswith(".tar.gz"):
            names.append(self.filename[:-3])
        return [folder / name for folder in (Path(root) / self.folder, Path(root)) for name in names]

    def missing_message(self, root):
        where = Path(root) / self.folder / self.filename
        fetch = f" (official URL: {self.url})" if self.url else ""
        return (f"{self.filename} not found: place it at {where}{fetch}, or pass download=True / run "
                f"`python -m datasets prepare {self.folder} --download` where the network allows; the data root comes "
                f"from the root argument, else $XNOR_MRAM_DATA, else ~/.cache/xnor-mram")


def locate(source, root, download=False, opener=None):
    """Path of `source` under `root`; downloads it (verified, see download.py) when absent and `download`.

    Raises SourceMissing, naming where to place the file, when it is absent and not downloaded.
    """
    for path in source.candidates(root):
        if path.is_file():
            return path
    if not download or source.url is None:
        raise SourceMissing(source.missing_message(root))
    return download_verified(source, Path(root) / source.folder / source.filename, opener=opener)


def file_sha256(path):
    """SHA-256 hex digest of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_bytes(path):
    """The content of `path`, decompressed if it is gzip (by magic number, not by name)."""
    path = Path(path)
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    try:
        if gzipped:
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, OSError, zlib.error) as err:
        raise DataError(f"{path}: cannot decompress ({err}); the gzip file is truncated or corrupt") from err


def check_digest(path, what, actual, expected, strict):
    """Compare a digest with the official one: DataError if `strict`, else a warning on mismatch."""
    if expected is None or actual == expected:
        return
    message = f"{path}: {what} SHA-256 is {actual}, expected the official {expected}"
    if strict:
        raise DataError(message)
    warnings.warn(message + "; using it anyway (pass strict=True to refuse)", stacklevel=3)
