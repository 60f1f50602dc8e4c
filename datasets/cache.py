"""The HDF5 cache: one file per dataset, split and variant, written once, verified on every load.

Layout of a cache file (a sealed HDF5 file, see datasets.sealed):
    header   the first 512 bytes (HDF5's user block): the label "xnor-mram dataset cache, format <FORMAT_VERSION>"
             and the SHA-256 of every byte after the header
    images   uint8 (N, C, H, W), chunked by whole images (~256 KiB per chunk) for random batch reads
    labels   int64 (N,)
    extra/*  optional per-image arrays (N,), e.g. CIFAR-100 coarse labels
    attrs    format_version, name, split, variant, classes, mean, std, sources (file -> SHA-256), meta
             (all JSON), n, images_sha256 (of the image array, reported in Dataset.meta)

Why a digest of the whole file, checked before HDF5 sees it: libhdf5 may loop forever on a damaged file (see
datasets.sealed). The digest lives in the file it covers, so both are replaced by one os.replace and cannot disagree
unless the file is damaged. Caches without this header (format 1) are rebuilt once, with a warning. Cost (SHA-256
at ~1 GB/s on a loaded 2-core machine): an in-memory load hashes the file and not its images a second time (MNIST
train loads in ~60-75 ms); a lazy view pays ~0.8 ms per MB of cache (~2 s for one just over IN_MEMORY_LIMIT), a
build one more pass over the finished file.

Writing: the builder fills a temporary file in the cache folder, which is sealed once closed and then replaces the
final name with os.replace, so a reader sees either no file or a whole one. An fcntl lock on `<cache>.lock`
serialises builders: a second process preparing the same dataset waits, then finds the finished file and uses it.
Readers take no lock: a file is never changed in place, only replaced, and `open_sealed` makes sure h5py opened the
very file whose digest it verified.
Reading: a file whose header is missing, of another format or does not match its content, or that holds
another dataset/split/variant, has inconsistent shapes or attributes h5py or JSON cannot read, is reported with a
warning, deleted and rebuilt.
"""
import fcntl
import hashlib
import json
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .sealed import BrokenSeal, create_sealed, open_sealed

FORMAT_VERSION = 2
CHUNK_BYTES = 1 << 18      # HDF5 chunk size target; a few hundred small images, one large one
READ_BYTES = 1 << 24       # bytes per read when scanning a whole dataset (hashing, statistics)
IN_MEMORY_LIMIT = 2 << 30  # bytes of images above which a load returns an h5py view instead of an array


class CorruptCache(Exception):
    """Internal: the cache file exists but is unusable; `load_or_build` rebuilds it."""


class Sink:
    """Receives one split from a builder: `allocate` once, then `write` contiguous runs or `write_at` indices,
    and `add_extra` for further per-image arrays."""

    def __init__(self, h5file):
        self.file = h5file
        self.images = self.labels = None

    def add_extra(self, name, values):
        """Store another per-image array (N,) under extra/<name>; it comes back in meta[name]."""
        self.file.create_dataset(f"extra/{name}", data=np.ascontiguousarray(values))

    def allocate(self, n, image_shape):
        """Create the (n, C, H, W) uint8 image and (n,) int64 label datasets."""
        n = int(n)
        image_shape = tuple(int(s) for s in image_shape)
        per_chunk = max(1, min(n, CHUNK_BYTES // max(1, int(np.prod(image_shape)))))
        self.images = self.file.create_dataset("images", (n, *image_shape), np.uint8,
                                               chunks=(per_chunk, *image_shape) if n else None)
        self.labels = self.file.create_dataset("labels", (n,), np.int64)

    def write(self, start, images, labels):
        """Store images[i], labels[i] at position start + i."""
        stop = start + len(images)
        self.images[start:stop] = images
        self.labels[start:stop] = labels

    def write_at(self, index, images, labels):
        """Store images[i], labels[i] at position index[i]; `index` need not be sorted."""
        order = np.argsort(index)
        index = np.asarray(index)[order]
        self.images[index] = np.asarray(images)[order]
        self.labels[index] = np.asarray(labels)[order]


def scan(images):
    """SHA-256 of images (N, C, H, W) uint8, and their per-channel mean and std (0..1 scale), reading in bounded
    chunks.

    Sums are exact integers (uint64), so the statistics do not depend on the chunking.
    """
    n = len(images)
    image_digest = hashlib.sha256()
    channels = images.shape[1]
    total = np.zeros(channels, np.uint64)
    total_sq = np.zeros(channels, np.uint64)
    step = max(1, READ_BYTES // max(1, int(np.prod(images.shape[1:]))))
    for start in range(0, n, step):
        block = np.ascontiguousarray(images[start:start + step])
        image_digest.update(block.data)
        pixels = block.reshape(len(block), channels, -1).transpose(1, 0, 2).reshape(channels, -1)
        total += pixels.sum(axis=1, dtype=np.uint64)
        wide = pixels.astype(np.uint32)
        total_sq += np.einsum("ij,ij->i", wide, wide, dtype=np.uint64)
    count = max(1, n * int(np.prod(images.shape[2:])))
    mean = total / count / 255
    std = np.sqrt(np.maximum(total_sq / count / 255 ** 2 - mean ** 2, 0))
    return image_digest.hexdigest(), mean.tolist(), std.tolist()


@contextmanager
def _lock(path):
    with open(str(path) + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _label():
    return f"xnor-mram dataset cache, format {FORMAT_VERSION}"


def _write(path, build, identity):
    """Run build(sink) into a temporary file and move it to `path` atomically. Call with the lock held."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)       # left by a builder that was killed; none can be running now
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with create_sealed(tmp, _label()) as f:
            sink = Sink(f)
            info = build(sink)
            if sink.images is None:
                raise RuntimeError("dataset builder returned without calling sink.allocate")
            images_sha, measured_mean, measured_std = scan(sink.images)
            meta = dict(info.get("meta", {}), measured_mean=measured_mean, measured_std=measured_std)
            f.attrs.update(dict(format_version=FORMAT_VERSION, name=identity["name"], split=identity["split"],
                                variant=json.dumps(identity["variant"], sort_keys=True), n=len(sink.labels),
                                images_sha256=images_sha, classes=json.dumps(list(info["classes"])),
                                mean=json.dumps(list(info["mean"])), std=json.dumps(list(info["std"])),
                                sources=json.dumps(info.get("sources", {})), meta=json.dumps(meta)))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _open(path, in_memory, identity):
    """(images, labels, attrs) from a verified cache file holding `identity`; raises CorruptCache with the reason.

    h5py sees the file only once its digest has been checked: libhdf5 may loop forever on a damaged file."""
    try:
        f = open_sealed(path, _label())
    except BrokenSeal as err:
        raise CorruptCache(err.reason) from err
    try:
        attrs = dict(f.attrs)
        held = (attrs["name"], attrs["split"], json.loads(attrs["variant"]))
        if held != (identity["name"], identity["split"], identity["variant"]):
            raise CorruptCache(f"it holds {held}, not {identity}")
        images, labels = f["images"], f["labels"][:]
        n = attrs["n"]
        if images.dtype != np.uint8 or images.ndim != 4 or len(images) != n or len(labels) != n:
            raise CorruptCache(f"images {images.dtype}{images.shape} / labels {labels.shape} do not match n={n}")
        for key in ("variant", "classes", "mean", "std", "sources", "meta"):
            attrs[key] = json.loads(attrs[key])
        attrs["extras"] = {name: f["extra"][name][:] for name in f.get("extra", {})}
        if in_memory is None:
            in_memory = images.size <= IN_MEMORY_LIMIT
        if in_memory:
            images = images[...]
            f.close()
    except CorruptCache:
        f.close()
        raise
    except Exception as err:    # h5py raises many types on a file it cannot read (OSError, RuntimeError, KeyError, ...)
        f.close()
        raise CorruptCache(f"unreadable ({type(err).__name__}: {err})") from err
    return images, labels, attrs


def load_or_build(path, build, identity, in_memory=None):
    """Open the cache at `path`, building it first with build(sink) if absent or corrupt.

    identity: dict with the `name`, `split` and `variant` (a JSON-able dict) being cached, stored as attributes.
    build(sink) must call sink.allocate and fill the sink, and return a dict with `classes`, `mean`, `std`
    and optionally `sources` and `meta`. It raises DataError on bad input; nothing is left behind then.
    Returns (images, labels, attrs); images is an ndarray if `in_memory` (None: if it has at most
    IN_MEMORY_LIMIT bytes), else an h5py.Dataset (a lazy view). Either way the whole file was verified first.
    """
    path = Path(path)
    if path.exists():
        try:
            return _open(path, in_memory, identity)
        except CorruptCache:
            pass        # re-checked under the lock: another process may be replacing it right now
    with _lock(path):
        if path.exists():
            try:
                return _open(path, in_memory, identity)
            except CorruptCache as err:
                warnings.warn(f"cache {path} is corrupt or stale: {err}; rebuilding it from the raw files",
                              stacklevel=3)
                path.unlink()
        _write(path, build, identity)
    try:
        return _open(path, in_memory, identity)
    except CorruptCache as err:
        raise RuntimeError(f"cache {path} was just written but does not verify: {err}") from err


def cache_name(name, split, variant):
    """File name for a dataset/split/variant: `<name>-<split>[-<hash of the variant>].h5`."""
    if not variant:
        return f"{name}-{split}.h5"
    key = hashlib.sha256(json.dumps(variant, sort_keys=True).encode()).hexdigest()[:12]
    return f"{name}-{split}-{key}.h5"
