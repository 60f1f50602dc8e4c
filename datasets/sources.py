"""Raw source files: where each one is expected, its official URL and SHA-256, and finding (or fetching) it.

A `Source` names one file of an official distribution. `sha256` is the digest of the file as distributed
(known for the CIFAR and SVHN archives); `content_sha256` is the digest of its decompressed content (MNIST:
mirrors re-compress the IDX files, so only the content is stable). Local files are hashed and the digests
recorded in the cache; a mismatch with the official digest is a warning (tests and private copies use
other files), or a DataError with `strict=True`. Downloads are always verified (see `download.py`).

`locate_all` finds a split's files under the data root and downloads the missing ones (download=None: unless
$XNOR_MRAM_OFFLINE is set); what it cannot find or fetch ends in one SourceMissing with the three-line message
of `missing_message`.
"""
import gzip
import hashlib
import posixpath
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

from .download import DownloadFailed, download_policy, download_verified, source_url
from .errors import DataError, SourceMissing
from .paths import describe_root

CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    folder: str                  # dataset folder under the data root, e.g. "mnist"; also the dataset's name
    filename: str                # the official file name, e.g. "train-images-idx3-ubyte.gz"
    url: str = None              # official (or long-standing mirror) URL
    sha256: str = None           # of the file as distributed
    content_sha256: str = None   # of the decompressed content, for .gz files

    def path(self, root):
        """Where the file belongs, and where a download puts it: `<root>/<folder>/<filename>`."""
        return Path(root) / self.folder / self.filename

    def candidates(self, root):
        """Paths accepted for this file, in order: `<root>/<folder>/<name>`, then `<root>/<name>` (so a root
        may also be the dataset's own folder); each as the official name, then uncompressed for a .gz."""
        names = [self.filename]
        if self.filename.endswith(".gz") and not self.filename.endswith(".tar.gz"):
            names.append(self.filename[:-3])
        return [folder / name for folder in (Path(root) / self.folder, Path(root)) for name in names]

    def find(self, root):
        """The first candidate path that is a file, or None."""
        return next((path for path in self.candidates(root) if path.is_file()), None)


def missing_message(what, missing, root, why):
    """The three lines of a SourceMissing: what is missing and `why` it was not downloaded, where to put each file
    (exact paths), and how to fetch them. what: e.g. "mnist test"; missing: Sources absent under `root`."""
    one = len(missing) == 1
    it, names = ("it", missing[0].filename) if one else ("them", f"{len(missing)} of its files")
    urls = [source_url(s) for s in missing]
    folders = {posixpath.dirname(u) for u in urls if u}
    if any(u is None for u in urls):
        by_hand = ""
    elif one:
        by_hand = f", or download {urls[0]} yourself"
    elif len(folders) == 1:
        by_hand = f", or download {it} yourself from {folders.pop()}/"
    else:
        by_hand = f", or download {it} yourself: {', '.join(urls)}"
    return (f"{what}: {names} {'is' if one else 'are'} not in the {describe_root(root)}, and {why}\n"
            f"put {it} at {', '.join(str(s.path(root)) for s in missing)}\n"
            f"to fetch {it}: `python -m datasets prepare {missing[0].folder} --download` where the network "
            f"allows{by_hand}")


def locate_all(sources, root, download=None, opener=None, what=None):
    """Paths of `sources` under `root` (see Source.candidates), downloading the missing ones (verified by their
    official SHA-256, see download.py) when `download` allows: True, False, or None for "unless $XNOR_MRAM_OFFLINE".

    Downloads go one file at a time and stop at the first failure. Raises SourceMissing (three lines, naming every
    file still missing) if any file is absent and was not fetched. what: label for the message (default: the
    dataset folder). opener: passed to download_verified (tests).
    """
    found = {source: source.find(root) for source in sources}
    missing = [source for source in sources if found[source] is None]
    if not missing:
        return [found[source] for source in sources]
    allowed, why = download_policy(download)
    while allowed and missing:
        source = missing[0]
        if source_url(source) is None:
            why = f"{source.filename} has no official download"
            break
        try:
            found[source] = download_verified(source, source.path(root), opener=opener)
        except DownloadFailed as err:
            why = f"the download failed: {err}"
            break
        missing.pop(0)
    if missing:
        raise SourceMissing(missing_message(what or missing[0].folder, missing, root, why))
    return [found[source] for source in sources]


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
