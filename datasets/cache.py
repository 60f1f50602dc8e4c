"""The HDF5 cache: one file per dataset, split and variant, written once, verified on every load.

Layout of a cache file:
    images   uint8 (N, C, H, W), chunked by whole images (~256 KiB per chunk) for random batch reads
    labels   int64 (N,)
    extra/*  optional per-image arrays (N,), e.g. CIFAR-100 coarse labels
    attrs    format_version, name, split, variant, classes, mean, std, sources (file -> SHA-256), meta
             (all JSON), n, images_sha256, labels_sha256, extra_sha256, attrs_sha256 (of all the attributes
             before it), and `complete`, written last. Written with HDF5's latest format (libver="latest"),
             whose metadata carries checksums: a damaged file then fails to open instead of sending libhdf5
             into an endless loop, as a flipped bit in an older-format file was found to do. So a cache whose
             superblock is not checksummed (version < 2: written before this) is rebuilt, not opened; one
             written since but before attrs_sha256 existed is read without that check.

Writing: the builder fills a temporary file in the cache folder, which then replaces the final name with
os.replace, so a reader sees either no file or a whole one. An fcntl lock on `<cache>.lock` serialises
builders: a second process preparing the same dataset waits, then finds the finished file and uses it.
Reading: a file that cannot be opened, lacks `complete`, has another format version, holds another
dataset/split/variant, has inconsistent shapes or a SHA-256 that does not match its content or its attributes
is reported with a warning, deleted and rebuilt. Images are hashed only when loaded into memory (a lazy view would
have to read everything); labels and extras always.
"""
import fcntl
import hashlib
import json
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

FORMAT_VERSION = 1
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"    # then the superblock version: 2 and 3 carry checksums
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
        self.extra_sha256 = {}

    def add_extra(self, name, values):
        """Store another per-image array (N,) under extra/<name>; it comes back in meta[name]."""
        values = np.ascontiguousarray(values)
        self.file.create_dataset(f"extra/{name}", data=values)
        self.extra_sha256[name] = hashlib.sha256(values.data).hexdigest()

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


def scan(images, labels):
    """SHA-256 of images and labels, and per-channel mean and std (0..1 scale), reading in bounded chunks.

    Sums are exact integers (uint64), so the statistics do not depend on the chunking.
    """
    n = len(labels)
    image_digest, label_digest = hashlib.sha256(), hashlib.sha256()
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
    label_digest.update(np.ascontiguousarray(labels[:], dtype=np.int64).data)
    count = max(1, n * int(np.prod(images.shape[2:])))
    mean = total / count / 255
    std = np.sqrt(np.maximum(total_sq / count / 255 ** 2 - mean ** 2, 0))
    return image_digest.hexdigest(), label_digest.hexdigest(), mean.tolist(), std.tolist()


@contextmanager
def _lock(path):
    with open(str(path) + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def created_hdf5(path):
    """h5py.File(path, "w") in HDF5's latest (checksummed) format, closed on exit. If the block failed, an error from
    closing (HDF5 flushes again, e.g. into the same full disk, and raises RuntimeError) does not hide the first one."""
    f = h5py.File(path, "w", libver="latest")
    try:
        yield f
    except BaseException:
        try:
            f.close()
        except Exception:
            pass
        raise
    f.close()


def _write(path, build, identity):
    """Run build(sink) into a temporary file and move it to `path` atomically. Call with the lock held."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)       # left by a builder that was killed; none can be running now
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with created_hdf5(tmp) as f:
            sink = Sink(f)
            info = build(sink)
            if sink.images is None:
                raise RuntimeError("dataset builder returned without calling sink.allocate")
            images_sha, labels_sha, measured_mean, measured_std = scan(sink.images, sink.labels)
            meta = dict(info.get("meta", {}), measured_mean=measured_mean, measured_std=measured_std)
            attrs = dict(format_version=FORMAT_VERSION, name=identity["name"], split=identity["split"],
                         variant=json.dumps(identity["variant"], sort_keys=True), n=len(sink.labels),
                         images_sha256=images_sha, labels_sha256=labels_sha,
                         extra_sha256=json.dumps(sink.extra_sha256), classes=json.dumps(list(info["classes"])),
                         mean=json.dumps(list(info["mean"])), std=json.dumps(list(info["std"])),
                         sources=json.dumps(info.get("sources", {})), meta=json.dumps(meta))
            attrs["attrs_sha256"] = attributes_sha256(attrs)
            f.attrs.update(attrs)
            f.attrs["complete"] = True
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def attributes_sha256(attrs):
    """SHA-256 of the cache attributes other than `complete` and the digest itself, as text (an int attribute reads
    back as a NumPy integer, whose str is the same)."""
    text = json.dumps({k: str(v) for k, v in attrs.items() if k not in ("complete", "attrs_sha256")}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _open(path, in_memory, identity):
    """(images, labels, attrs) from a verified cache file holding `identity`; raises CorruptCache with the reason."""
    try:
        with open(path, "rb") as raw:
            head = raw.read(9)
        if head[:8] != HDF5_SIGNATURE or head[8] < 2:
            raise CorruptCache("it does not start with a checksummed HDF5 superblock (an older cache, or damaged)")
        f = h5py.File(path, "r")
    except CorruptCache:
        raise
    except Exception as err:    # OSError mostly; other types on some damaged superblocks
        raise CorruptCache(f"cannot open it as HDF5 ({type(err).__name__}: {err})") from err
    try:
        attrs = dict(f.attrs)
        if not attrs.get("complete"):
            raise CorruptCache("it was never completed")
        if attrs.get("format_version") != FORMAT_VERSION:
            raise CorruptCache(f"format version {attrs.get('format_version')}, expected {FORMAT_VERSION}")
        if "attrs_sha256" in attrs and attributes_sha256(attrs) != attrs["attrs_sha256"]:
            raise CorruptCache("its attributes do not match their SHA-256")
        held = (attrs["name"], attrs["split"], json.loads(attrs["variant"]))
        if held != (identity["name"], identity["split"], identity["variant"]):
            raise CorruptCache(f"it holds {held}, not {identity}")
        images, labels = f["images"], f["labels"][:]
        n = attrs["n"]
        if images.dtype != np.uint8 or images.ndim != 4 or len(images) != n or len(labels) != n:
            raise CorruptCache(f"images {images.dtype}{images.shape} / labels {labels.shape} do not match n={n}")
        if hashlib.sha256(labels.astype(np.int64).data).hexdigest() != attrs["labels_sha256"]:
            raise CorruptCache("labels do not match their SHA-256")
        extras = {name: f["extra"][name][:] for name in f.get("extra", {})}
        for name, digest in json.loads(attrs["extra_sha256"]).items():
            if name not in extras or hashlib.sha256(extras[name].data).hexdigest() != digest:
                raise CorruptCache(f"extra/{name} is missing or does not match its SHA-256")
        for key in ("variant", "classes", "mean", "std", "sources", "meta"):
            attrs[key] = json.loads(attrs[key])
        attrs["extras"] = extras
        if in_memory is None:
            in_memory = images.size <= IN_MEMORY_LIMIT
        if in_memory:
            images = images[...]
            if hashlib.sha256(images.data).hexdigest() != attrs["images_sha256"]:
                raise CorruptCache("images do not match their SHA-256")
            f.close()
    except CorruptCache:
        f.close()
        raise
    except Exception as err:    # h5py raises many types on a damaged file (OSError, RuntimeError, KeyError, ...)
        f.close()
        raise CorruptCache(f"unreadable ({type(err).__name__}: {err})") from err
    return images, labels, attrs


def load_or_build(path, build, identity, in_memory=None):
    """Open the cache at `path`, building it first with build(sink) if absent or corrupt.

    identity: dict with the `name`, `split` and `variant` (a JSON-able dict) being cached, stored as attributes.
    build(sink) must call sink.allocate and fill the sink, and return a dict with `classes`, `mean`, `std`
    and optionally `sources` and `meta`. It raises DataError on bad input; nothing is left behind then.
    Returns (images, labels, attrs); images is an ndarray if `in_memory` (None: if it has at most
    IN_MEMORY_LIMIT bytes), else an h5py.Dataset (lazy view, verified by shape and label checksum only,
    since hashing it would read it all).
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
