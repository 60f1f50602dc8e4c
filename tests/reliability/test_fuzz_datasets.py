"""Fuzzing every parser of external data: IDX, CIFAR binary archives, SVHN .mat, image folders (tar and directory).

The property, for any generated input: `datasets.load` returns correct data, or raises the documented `DataError`
(or `SourceMissing` for an absent file) naming the bad file; never another exception, a hang, a write outside the
cache folder (the data root and the working directory stay untouched), or a cache file left behind by a failed load.
Inputs are built structurally (headers, tar members of every kind, MATLAB variables) and by damaging valid files.
Budgets: a few dozen inputs per property in CI, thousands with `--fuzz-long` (see `budget`).
"""
import bz2
import gzip
import lzma
import math
import os
import re
import struct
import tarfile
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import h5py
import numpy as np
import pytest
import scipy.io
from hypothesis import example, given, settings, strategies as st

import datasets
from datasets import DataError, SourceMissing
from datasets.idx import TYPE_CODES, parse_idx
from datasets.synthetic import CIFAR10_CLASSES, encode_image, write_mnist, write_svhn

FUZZ = settings.get_profile("reliability")       # shared settings, registered in conftest.py
LONG = os.environ.get("XNOR_MRAM_FUZZ_LONG") == "1"
SCALE = float(os.environ.get("XNOR_MRAM_FUZZ_SCALE", "1"))
LIMIT = 60          # seconds one load may take before it counts as a hang (generous: CI shares 2 cores)

pytestmark = pytest.mark.filterwarnings("ignore:.*expected the official:UserWarning",
                                        "ignore:.*is corrupt or stale:UserWarning")


def budget(ci, long):
    """Examples of a property: `ci` in CI, `long` x $XNOR_MRAM_FUZZ_SCALE (default 1) in long mode."""
    return settings(FUZZ, max_examples=max(1, round(long * SCALE)) if LONG else ci)


@contextmanager
def sandbox():
    """A fresh folder holding root/ (raw inputs), cache/ and cwd/ (the working directory meanwhile)."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        box = Path(tmp)
        for sub in ("root", "cwd"):
            (box / sub).mkdir()
        old = os.getcwd()
        os.chdir(box / "cwd")
        try:
            yield box
        finally:
            os.chdir(old)


def attempt(box, blamed, call, snapshot, no_hang):
    """Run call(); return its result, or None after checking that it raised DataError/SourceMissing naming `blamed`.
    Either way: no writes outside box/cache, and no cache file unless the call succeeded."""
    before = snapshot(box / "root")
    result = None
    try:
        with no_hang(LIMIT):
            result = call()
    except (DataError, SourceMissing) as err:
        assert str(blamed) in str(err), f"the error does not name {blamed}: {err}"
        leftovers = [p.name for p in (box / "cache").glob("*") if not p.name.endswith(".lock")]
        assert not leftovers, f"a failed load left {leftovers} in the cache folder"
    assert snapshot(box / "root") == before, "the data root was modified"
    assert not os.listdir(box / "cwd"), f"files written in the working directory: {os.listdir(box / 'cwd')}"
    assert sorted(os.listdir(box)) in (["cwd", "root"], ["cache", "cwd", "root"]), sorted(os.listdir(box))
    return result


def load(box, name, split, **variant):
    return lambda: datasets.load(name, split, root=box / "root", cache_dir=box / "cache", **variant)


# --- damage applied to whole files (by the `damaged` fixture, conftest.py) --------------------------------------

damage = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 7)),
                                        min_size=1, max_size=6)),
    st.tuples(st.just("overwrite"), st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=64))),
    st.tuples(st.just("insert"), st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=64))),
    st.tuples(st.just("zero-block"), st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 4096))),
)


# --- IDX ---------------------------------------------------------------------------------------------------------

HUGE_DIMS = (2 ** 31, 2 ** 32 - 1, 60000, 65536)


@st.composite
def idx_inputs(draw):
    """(content bytes, expected ndim) of an IDX file with random header fields and a payload near the right size."""
    zero = draw(st.sampled_from([b"\0\0", b"\0\1", b"\1\0", b"\x1f\x8b"]))
    code = draw(st.sampled_from([*TYPE_CODES, 0x00, 0x0A, 0x0F, 0xFF]))
    ndim = draw(st.integers(0, 4))
    dims = draw(st.lists(st.one_of(st.integers(0, 5), st.sampled_from(HUGE_DIMS)), min_size=0, max_size=5))
    header = zero + bytes([code, ndim]) + b"".join(struct.pack(">I", d) for d in dims)
    itemsize = np.dtype(TYPE_CODES.get(code, ">u1")).itemsize
    size = math.prod(dims[:ndim]) * itemsize
    payload = draw(st.binary(min_size=max(0, min(size, 512) - 4), max_size=min(size, 512) + 4))
    cut = draw(st.integers(0, len(header))) if draw(st.integers(0, 9)) == 0 else len(header)
    return header[:cut] + payload, draw(st.sampled_from([1, 3, ndim]))


def idx_reference(content, ndim):
    """The IDX specification written out independently: the array, or None if the content is not a valid file."""
    if len(content) < 4 or content[:2] != b"\0\0" or content[2] not in TYPE_CODES or content[3] != ndim:
        return None
    header = 4 + 4 * ndim
    if len(content) < header:
        return None
    shape = struct.unpack(f">{ndim}I", content[4:header])
    dtype = np.dtype(TYPE_CODES[content[2]])
    if len(content) - header != math.prod(shape) * dtype.itemsize:
        return None
    if math.prod(d for d in shape if d) * dtype.itemsize >= 2 ** 63:
        return None     # NumPy cannot hold this shape even when a zero dimension makes it empty
    return np.frombuffer(content[header:], dtype).reshape(shape)


@budget(240, 62000)
@given(idx_inputs())
@example((b"\0\0\x08\x01" + struct.pack(">I", 2 ** 32 - 1), 1))     # huge declared size, no payload
@example((b"\0\0\x0e\x02\0\0\0\x01\0\0\0\x01" + b"\0" * 8, 2))        # a valid float64 1x1 array
def test_idx_parser_returns_the_specified_array_or_dataerror(case):
    content, ndim = case
    expected = idx_reference(content, ndim)
    if expected is None:
        with pytest.raises(DataError, match="file.idx"):
            parse_idx(content, "file.idx", ndim)
    else:
        got = parse_idx(content, "file.idx", ndim)
        assert got.dtype == expected.dtype.newbyteorder("=") and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)


@budget(18, 600)
@given(member=st.sampled_from(["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]), gz=st.booleans(), how=damage)
def test_mnist_with_a_damaged_idx_file(member, gz, how, damaged, snapshot, no_hang):
    with sandbox() as box:
        write_mnist(box / "root", np.random.default_rng(0), n_train=1, n_test=3, gz=gz)
        path = box / "root" / "mnist" / (member + (".gz" if gz else ""))
        path.write_bytes(damaged(path.read_bytes(), how))
        ds = attempt(box, path, load(box, "mnist", "test"), snapshot, no_hang)
        if ds is not None:
            assert ds.images.shape[1:] == (1, 28, 28) and len(ds.images) == len(ds.labels)
            assert ds.labels.max(initial=0) <= 9


# --- tar archives: members of every kind ---------------------------------------------------------------------------

KINDS = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
         "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE}
COMPRESS = {"none": lambda b: b, "gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}
DECOMPRESS = {"none": lambda b: b, "gz": gzip.decompress, "bz2": bz2.decompress, "xz": lzma.decompress}


def tar_bytes(members, end=True):
    """A tar archive written block by block: members are (kind, name, data, linkname, declared size or None).
    A declared size larger than the data makes a header that lies about its member's size."""
    out = bytearray()
    for kind, name, data, linkname, declared in members:
        info = tarfile.TarInfo(name)
        info.type = KINDS[kind]
        info.linkname = linkname or ""
        info.size = declared if declared is not None else (len(data) if kind == "file" else 0)
        out += info.tobuf(format=tarfile.GNU_FORMAT)
        if kind == "file":
            out += data + bytes(-len(data) % 512)
    if end:
        out += bytes(1024)
    return bytes(out)


ESCAPING = ["../x", "/abs/x", "a/../../x", "./../x", "/etc/passwd"]
evil_members = st.one_of(
    st.tuples(st.just("file"), st.sampled_from(ESCAPING), st.binary(max_size=16), st.none(), st.none()),
    st.tuples(st.sampled_from(["symlink", "hardlink"]), st.sampled_from(["link", "train/cat/l.png", "d/x"]),
              st.just(b""), st.sampled_from(["/etc/passwd", "../x", "train/cat/0.png", "x"]), st.none()),
    st.tuples(st.sampled_from(["chr", "blk", "fifo"]), st.sampled_from(["dev", "train/cat/d.png"]), st.just(b""),
              st.none(), st.none()),
    st.tuples(st.just("file"), st.sampled_from(["big", "train/cat/big.png"]), st.binary(max_size=16), st.none(),
              st.sampled_from([10 ** 6, 2 ** 33, 2 ** 40])),
)


@st.composite
def archive_wrapping(draw):
    """(compression, keep the end-of-archive blocks, fraction of the compressed bytes kept or None)."""
    return (draw(st.sampled_from(sorted(COMPRESS))), draw(st.integers(0, 9)) > 0,
            draw(st.one_of(st.none(), st.none(), st.floats(0, 1, exclude_max=True))))


def wrap(tar, wrapping):
    """(archive bytes, intact: do they still hold the whole tar?). A cut may spare the content: bzip2 decodes a
    stream without its last byte when that byte holds only padding (found by the campaign)."""
    compression, _, keep = wrapping
    data = COMPRESS[compression](tar)
    if keep is not None:
        data = data[:int(keep * len(data))]
    try:
        intact = DECOMPRESS[compression](data) == tar
    except (EOFError, OSError, ValueError, lzma.LZMAError):
        intact = False
    return data, intact


def is_evil(member):
    kind, name, data, linkname, declared = member
    return kind not in ("file", "dir") or name in ESCAPING or declared is not None


# --- CIFAR ---------------------------------------------------------------------------------------------------------

CIFAR_DIR = "cifar-10-batches-bin"
RECORD = 1 + 3 * 32 * 32


@st.composite
def cifar_archives(draw):
    """(archive bytes, candidate record payloads of test_batch.bin, must it fail)."""
    members, candidates, must_fail = [], [], False
    for _ in range(draw(st.integers(1, 2))):           # test_batch.bin, possibly twice
        n = draw(st.integers(0, 2))
        labels = draw(st.lists(st.sampled_from([0, 9, 10, 255]), min_size=n, max_size=n))
        records = b"".join(bytes([l]) + bytes([l]) * (RECORD - 1) for l in labels)
        records += draw(st.sampled_from([b"", b"", b"x", b"\0" * 7]))
        name = draw(st.sampled_from([f"{CIFAR_DIR}/test_batch.bin", f"./{CIFAR_DIR}/test_batch.bin",
                                     f"{CIFAR_DIR}//test_batch.bin", f"{CIFAR_DIR}/test_batch.bin.bak"]))
        members.append(("file", name, records, None, None))
        if not name.endswith(".bak"):
            candidates.append(records)
    lines = draw(st.sampled_from([CIFAR10_CLASSES, CIFAR10_CLASSES[:9], CIFAR10_CLASSES + ["extra"]]))
    meta = draw(st.sampled_from(["\n".join(lines).encode(), b"\xff\xfe" * 40, ("\n" * 3).join(lines).encode()]))
    if draw(st.integers(0, 9)):
        members.insert(draw(st.integers(0, len(members))), ("file", f"{CIFAR_DIR}/batches.meta.txt", meta, None, None))
    for member in draw(st.lists(evil_members, max_size=2)):
        members.insert(draw(st.integers(0, len(members))), member)
        must_fail = True
    if draw(st.booleans()):
        members.insert(0, ("dir", CIFAR_DIR, b"", None, None))
    wrapping = draw(archive_wrapping())
    data, intact = wrap(tar_bytes(members, end=wrapping[1]), wrapping)
    return data, candidates, must_fail or not wrapping[1] or not intact


@budget(30, 600)
@given(case=cifar_archives())
def test_cifar10_archive_of_any_shape(case, snapshot, no_hang):
    data, candidates, must_fail = case
    with sandbox() as box:
        path = box / "root" / "cifar10" / "cifar-10-binary.tar.gz"
        path.parent.mkdir()
        path.write_bytes(data)
        ds = attempt(box, path, load(box, "cifar10", "test"), snapshot, no_hang)
        if ds is None:
            return
        assert not must_fail, "an unsafe, truncated or unterminated archive was accepted"
        records = np.concatenate([ds.labels[:, None].astype(np.uint8), ds.images.reshape(len(ds), -1)], axis=1)
        assert records.tobytes() in candidates, "the loaded records are not those of any test_batch.bin member"
        assert ds.classes == CIFAR10_CLASSES


# --- image folders ---------------------------------------------------------------------------------------------------

POOL = [np.random.default_rng(i).integers(0, 256, (3, 8, 8), dtype=np.uint8) for i in range(3)]
ODD = np.random.default_rng(9).integers(0, 256, (3, 9, 8), dtype=np.uint8)
ENCODED = {i: encode_image(image) for i, image in enumerate(POOL)} | {"odd": encode_image(ODD)}


def image_payload():
    """A payload: bytes (a pool PNG, a PNG of another size, garbage), or (pool index, damage) for a damaged pool PNG,
    which `with_payloads` turns into bytes (the damage is a fixture's, out of reach of module-level strategies)."""
    return st.one_of(st.sampled_from(list(ENCODED.values())), st.binary(max_size=64),
                     st.tuples(st.sampled_from(range(len(POOL))), damage))


def with_payloads(files, damaged):
    """`files` with every (pool index, damage) payload replaced by that pool PNG's damaged bytes."""
    return [(name, payload if isinstance(payload, bytes) else damaged(ENCODED[payload[0]], payload[1]))
            for name, payload in files]


@st.composite
def imagefolder_files(draw):
    """[(name, payload)] of an image folder, with a train split of 1-2 classes (payloads: see image_payload)."""
    prefix = draw(st.sampled_from(["", "data/", "./"]))
    files = []
    for cls in draw(st.lists(st.sampled_from(["cat", "dog", "a b", "é"]), min_size=1, max_size=2, unique=True)):
        for i in range(draw(st.integers(0, 2))):
            suffix = draw(st.sampled_from([".png", ".PNG", ".jpg", ".txt"]))
            files.append((f"{prefix}train/{cls}/{i}{suffix}", draw(image_payload())))
    return files


def check_images(ds, files):
    """A successful image-folder load holds one image per train image name; if every file held a pool image (no
    damaged payload, which may still decode to other pixels), each loaded image is one of them, or the odd one."""
    names = {str(PurePosixPath(n)) for n, _ in files if n.lower().endswith((".png", ".jpg", ".jpeg"))}
    assert len(ds) == len(names)
    if all(payload in ENCODED.values() for _, payload in files):
        for image in ds.images:
            assert any(np.array_equal(image, p) for p in [*POOL, ODD]), "an image that is none of the files written"


@budget(30, 300)
@given(files=imagefolder_files(), evil=st.lists(evil_members, max_size=2), wrapping=archive_wrapping(),
       dirs=st.booleans(), order=st.randoms(use_true_random=False))
def test_imagefolder_archive_of_any_shape(files, evil, wrapping, dirs, order, damaged, snapshot, no_hang):
    files = with_payloads(files, damaged)
    members = [("file", name, payload, None, None) for name, payload in files] + list(evil)
    if dirs:
        members += [("dir", str(PurePosixPath(name).parent), b"", None, None) for name, _ in files]
    order.shuffle(members)
    with sandbox() as box:
        path = box / "root" / "images.tar"
        data, intact = wrap(tar_bytes(members, end=wrapping[1]), wrapping)
        path.write_bytes(data)
        ds = attempt(box, path, load(box, "imagefolder", "train", source="images.tar"), snapshot, no_hang)
        if ds is not None:
            assert not evil and wrapping[1] and intact, "an unsafe or truncated archive was accepted"
            check_images(ds, files)


@budget(18, 1000)
@given(files=imagefolder_files(), outside_link=st.booleans(), empty_class=st.booleans(),
       special=st.sampled_from([None, None, "fifo", "broken link", "device link", "folder named .png"]))
def test_imagefolder_directory_of_any_shape(files, outside_link, empty_class, special, damaged, snapshot, no_hang):
    files = with_payloads(files, damaged)
    with sandbox() as box:
        source = box / "root" / "images"
        source.mkdir()
        for name, payload in files:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes(payload)
        if outside_link:    # a symbolic link to a file outside the folder is followed, like any file manager does
            (box / "root" / "outside.png").write_bytes(ENCODED[0])
            (source / "train" / "cat").mkdir(parents=True, exist_ok=True)
            os.symlink(box / "root" / "outside.png", source / "train" / "cat" / "link.png")
            files = files + [("train/cat/link.png", ENCODED[0])]
        if empty_class:
            (source / "train" / "empty").mkdir(parents=True, exist_ok=True)
        if special:         # an entry named like an image that is no regular file
            bad = source / "train" / "cat" / "special.png"
            bad.parent.mkdir(parents=True, exist_ok=True)
            {"fifo": lambda: os.mkfifo(bad), "broken link": lambda: os.symlink(box / "nowhere.png", bad),
             "device link": lambda: os.symlink("/dev/zero", bad), "folder named .png": bad.mkdir}[special]()
        ds = attempt(box, source, load(box, "imagefolder", "train", source="images"), snapshot, no_hang)
        if ds is not None:
            assert not empty_class and special in (None, "folder named .png")
            check_images(ds, files)


# --- SVHN ------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pristine_svhn(tmp_path_factory):
    """{hdf5: bytes of a valid test_32x32.mat} for MATLAB v5 (False) and v7.3 (True)."""
    files = {}
    for hdf5 in (False, True):
        root = tmp_path_factory.mktemp("svhn")
        write_svhn(root, np.random.default_rng(0), sizes=(("test", 3),), hdf5=hdf5)
        files[hdf5] = (root / "svhn" / "test_32x32.mat").read_bytes()
    return files


@budget(24, 4000)
@given(hdf5=st.booleans(), how=damage)
def test_svhn_damaged_mat_file(pristine_svhn, hdf5, how, damaged, snapshot, no_hang):
    with sandbox() as box:
        path = box / "root" / "svhn" / "test_32x32.mat"
        path.parent.mkdir()
        path.write_bytes(damaged(pristine_svhn[hdf5], how))
        ds = attempt(box, path, load(box, "svhn", "test"), snapshot, no_hang)
        if ds is not None:
            assert ds.images.shape[1:] == (3, 32, 32) and len(ds.labels) == len(ds.images)
            assert set(ds.labels) <= set(range(10))


@st.composite
def svhn_variables(draw):
    """{name: array} of a MATLAB file: X and y of random shapes, types and values, or missing."""
    n = draw(st.integers(0, 3))
    variables = {}
    shape = draw(st.sampled_from([(32, 32, 3, n), (32, 32, 3, n), (32, 32, n), (32, 32, 1, n), (28, 28, 3, n)]))
    dtype = draw(st.sampled_from([np.uint8, np.uint8, np.float64, np.int16]))
    if draw(st.integers(0, 9)):
        variables["X"] = np.random.default_rng(n).integers(0, 256, shape).astype(dtype)
    labels = draw(st.lists(st.sampled_from([1, 5, 10, 0, 11, -1, 2.5, float("nan")]),
                           min_size=max(0, n - 1), max_size=n + 1))
    if draw(st.integers(0, 9)):
        variables["y"] = np.array(labels, np.float64 if draw(st.booleans()) else np.float32).reshape(-1, 1)
    return variables


def svhn_reference(variables):
    """(images (N, 3, 32, 32), digits) if the variables make a valid SVHN file, else None."""
    x, y = variables.get("X"), variables.get("y")
    if x is None or y is None or x.dtype != np.uint8 or x.ndim != 4 or x.shape[:3] != (32, 32, 3):
        return None
    y = y.reshape(-1)
    if len(y) != x.shape[3] or not np.isin(y, np.arange(1, 11)).all():
        return None
    return x.transpose(3, 2, 0, 1), (y % 10).astype(np.int64)


@budget(18, 3000)
@given(variables=svhn_variables(), hdf5=st.booleans())
def test_svhn_mat_variables_of_any_shape(variables, hdf5, snapshot, no_hang):
    with sandbox() as box:
        path = box / "root" / "svhn" / "test_32x32.mat"
        path.parent.mkdir()
        if hdf5:       # MATLAB v7.3 keeps the axes reversed
            with h5py.File(path, "w") as f:
                for name, array in variables.items():
                    f[name] = array.T
        else:
            scipy.io.savemat(path, variables)
        expected = svhn_reference(variables)
        ds = attempt(box, path, load(box, "svhn", "test"), snapshot, no_hang)
        if expected is None or len(expected[1]) == 0:
            assert ds is None or len(ds) == 0, "an invalid SVHN file was accepted"
        else:
            assert ds is not None, "a valid SVHN file was refused"
            np.testing.assert_array_equal(ds.images, expected[0])
            np.testing.assert_array_equal(ds.labels, expected[1])


def test_svhn_declaring_a_terabyte_is_a_dataerror(tmp_path, no_hang):
    """A v7.3 file whose X declares 2**40 bytes (chunked, never written): refused, not allocated."""
    path = tmp_path / "svhn" / "test_32x32.mat"
    path.parent.mkdir()
    with h5py.File(path, "w") as f:
        f.create_dataset("X", (2 ** 40 // 3072, 3, 32, 32), np.uint8, chunks=(1, 3, 32, 32))
        f["y"] = np.ones((1, 3))
    with no_hang(LIMIT), pytest.raises(DataError, match=re.escape(str(path))):
        datasets.load("svhn", "test", root=tmp_path, cache_dir=tmp_path / "cache")
