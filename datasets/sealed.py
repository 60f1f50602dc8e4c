"""Sealed HDF5 files: an HDF5 file whose first HEADER_BYTES bytes hold a label and the SHA-256 of every byte after
them, checked before libhdf5 reads any of it.

    with create_sealed(tmp, "xnor-mram checkpoint, format 2") as f:     # an h5py.File, "w"
        f["x"] = ...                                                    # sealed once the block ends
    os.replace(tmp, path)
    with open_sealed(path, "xnor-mram checkpoint, format 2") as f:      # an h5py.File, "r"; or BrokenSeal
        ...

Why: libhdf5 (h5py 3.16 / HDF5 2.0) does not survive every damaged file. A flipped bit or a block of zeros can send
it into an endless loop inside C code, which no Python error handling or timeout in the same process can interrupt,
and the checksums of HDF5's latest format do not cover everything (the global heap of variable-length strings has
none). A digest of the whole file, checked first, turns any damage into an error.

Layout: the header is HDF5's user block, which HDF5 skips. It holds the text "<label>\\nsha256 of the rest:
<hex>\\n", zero-padded; the label names the kind of file and its format. The header is written once the HDF5 file is
closed and synced to disk with it, so a caller that then moves the file into place with os.replace publishes the
data and its digest together. Verifying costs one pass over the file (SHA-256, ~1 GB/s), in HASH_BYTES reads.

Used by the dataset cache (datasets.cache) and by bnn's checkpoints and exported models.
"""
import hashlib
import os
from contextlib import contextmanager

import h5py

HEADER_BYTES = 512            # HDF5 user block size: the smallest HDF5 allows
HASH_BYTES = 1 << 20          # bytes per read when hashing a file
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
OPEN_ATTEMPTS = 3             # verifications of a file that keeps being replaced between verifying and opening


class BrokenSeal(ValueError):
    """A file that is not a whole sealed file of the expected label. `reason` says why; `unsealed` is True if it is
    a plain HDF5 file, without a header (e.g. written before its kind was sealed)."""

    def __init__(self, path, reason, unsealed=False):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason, self.unsealed = path, reason, unsealed


def _header(label, body_sha256):
    """The HEADER_BYTES bytes a sealed file starts with, given the SHA-256 (hex) of the bytes after them."""
    text = f"{label}\nsha256 of the rest: {body_sha256}\n".encode()
    if "\n" in label or len(text) > HEADER_BYTES:
        raise ValueError(f"a seal label must be one line short enough for the {HEADER_BYTES}-byte header, "
                         f"got {label!r}")
    return text.ljust(HEADER_BYTES, b"\0")


def _body_sha256(handle):
    """SHA-256 (hex) of an open binary file from byte HEADER_BYTES to its end."""
    digest = hashlib.sha256()
    block = bytearray(HASH_BYTES)
    view = memoryview(block)
    handle.seek(HEADER_BYTES)
    while size := handle.readinto(block):
        digest.update(view[:size])
    return digest.hexdigest()


@contextmanager
def create_sealed(path, label):
    """h5py.File(path, "w") in HDF5's latest format with a HEADER_BYTES user block; on a normal exit the file is
    closed, its header written and the whole file fsynced. If the block raises, the file is closed (an error from
    closing, e.g. HDF5 flushing into the same full disk, does not hide the first one) and left unsealed for the
    caller to remove.

    label: one line naming the kind of file and its format; `open_sealed` requires the same."""
    _header(label, "0" * 64)        # a bad label fails before any work
    f = h5py.File(path, "w", libver="latest", userblock_size=HEADER_BYTES)
    try:
        yield f
    except BaseException:
        try:
            f.close()
        except Exception:
            pass
        raise
    f.close()
    with open(path, "r+b") as handle:
        digest = _body_sha256(handle)
        handle.seek(0)
        handle.write(_header(label, digest))
        handle.flush()
        os.fsync(handle.fileno())


def _verified(path, label):
    """os.stat_result of the file at `path` once its header holds `label` and matches its content; raises
    BrokenSeal."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEADER_BYTES)
            first = head.split(b"\n", 1)[0]
            if first != label.encode():
                if head.startswith(HDF5_SIGNATURE):
                    raise BrokenSeal(path, "it is a plain HDF5 file, without the SHA-256 header", unsealed=True)
                raise BrokenSeal(path, f"it starts with {first[:60]!r}, not {label!r} (another kind of file, "
                                       f"another format, or damaged)")
            if head != _header(label, _body_sha256(handle)):
                raise BrokenSeal(path, "its content does not match the SHA-256 in its header")
            return os.fstat(handle.fileno())
    except OSError as err:
        raise BrokenSeal(path, f"cannot read it ({type(err).__name__}: {err})") from err


def open_sealed(path, label):
    """h5py.File(path, "r") of a sealed file whose header holds `label` and the SHA-256 of its content, verified
    before h5py opens it; raises BrokenSeal otherwise (also when h5py cannot open the verified file).

    The caller closes the file (it is a context manager). A file replaced between verifying and opening (device and
    inode differ; files are replaced whole, with os.replace) is verified again, up to OPEN_ATTEMPTS times."""
    for _ in range(OPEN_ATTEMPTS):
        verified = _verified(path, label)
        try:
            f = h5py.File(path, "r")
        except Exception as err:    # OSError mostly; other types on some damaged superblocks
            raise BrokenSeal(path, f"cannot open it as HDF5 ({type(err).__name__}: {err})") from err
        opened = os.fstat(f.id.get_vfd_handle())
        if (opened.st_dev, opened.st_ino) == (verified.st_dev, verified.st_ino):
            return f
        f.close()
    raise BrokenSeal(path, f"it was replaced while being verified, {OPEN_ATTEMPTS} times in a row")
