"""The HDF5 cache: atomic, locked, verified on load, rebuilt with a warning when damaged."""
import hashlib
import multiprocessing
import os
from pathlib import Path

import h5py
import numpy as np
import pytest

import datasets
from datasets import cache, sealed

pytestmark = pytest.mark.filterwarnings("ignore:.*expected the official:UserWarning")


def test_cache_records_identity_checksums_and_version(fake_mnist):
    root, cache_dir, arrays = fake_mnist
    ds = datasets.load("mnist", "train", root=root, cache_dir=cache_dir)
    with h5py.File(ds.meta["cache"], "r") as f:
        assert f.attrs["format_version"] == cache.FORMAT_VERSION
        assert f.attrs["name"] == "mnist" and f.attrs["split"] == "train"
        assert f["images"].shape == (50, 1, 28, 28) and f["labels"].dtype == np.int64
    assert set(ds.meta["sources"]) == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}
    assert ds.meta["images_sha256"] == hashlib.sha256(arrays["train"][0].tobytes()).hexdigest()


def test_cache_header_holds_the_format_and_the_sha256_of_the_rest_of_the_file(fake_mnist):
    root, cache_dir, _ = fake_mnist
    data = Path(datasets.load("mnist", "test", root=root, cache_dir=cache_dir).meta["cache"]).read_bytes()
    head, body = data[:sealed.HEADER_BYTES], data[sealed.HEADER_BYTES:]
    text = f"xnor-mram dataset cache, format {cache.FORMAT_VERSION}\nsha256 of the rest: "
    assert head == (text + hashlib.sha256(body).hexdigest() + "\n").encode().ljust(sealed.HEADER_BYTES, b"\0")
    assert body.startswith(b"\x89HDF\r\n\x1a\n")


def damage_truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def damage_flip_image_byte(path):
    with h5py.File(path, "r+") as f:
        f["images"][3, 0, 10, 10] ^= 0xFF


def damage_flip_label(path):
    with h5py.File(path, "r+") as f:
        f["labels"][0] = (f["labels"][0] + 1) % 10


def damage_edit_attribute(path):
    with h5py.File(path, "r+") as f:
        f.attrs["mean"] = "[0.5]"


def damage_zero_block(path):
    """876 zero bytes over the start of the HDF5 file (superblock, root group, attributes)."""
    data = bytearray(path.read_bytes())
    data[sealed.HEADER_BYTES:sealed.HEADER_BYTES + 876] = bytes(876)
    path.write_bytes(bytes(data))


def damage_digest(path):
    data = bytearray(path.read_bytes())
    data[sealed.HEADER_BYTES - 1] = 1        # the header's zero padding is covered too
    path.write_bytes(bytes(data))


def damage_garbage(path):
    path.write_bytes(b"not an HDF5 file at all")


def damage_empty(path):
    path.write_bytes(b"")


def damage_legacy_format(path):
    """The same cache as format 1 wrote it: a plain HDF5 file, without the header."""
    legacy = path.with_name("legacy.h5")
    with h5py.File(path, "r") as src, h5py.File(legacy, "w") as dst:
        for name in src:
            src.copy(name, dst)
        dst.attrs.update(dict(src.attrs))
    os.replace(legacy, path)


@pytest.mark.parametrize("damage", [damage_truncate, damage_flip_image_byte, damage_flip_label, damage_edit_attribute,
                                    damage_zero_block, damage_digest, damage_garbage, damage_empty,
                                    damage_legacy_format])
def test_damaged_cache_is_detected_and_rebuilt_with_a_warning(fake_mnist, damage):
    root, cache_dir, arrays = fake_mnist
    first = datasets.load("mnist", "train", root=root, cache_dir=cache_dir)
    damage(cache_dir / "mnist-train.h5")
    with pytest.warns(UserWarning, match="mnist-train.h5 is corrupt or stale: .*rebuilding"):
        again = datasets.load("mnist", "train", root=root, cache_dir=cache_dir)
    np.testing.assert_array_equal(again.images[:, 0], arrays["train"][0])
    assert again.meta["images_sha256"] == first.meta["images_sha256"]


def test_a_cache_of_an_older_format_is_rebuilt(fake_mnist, monkeypatch):
    root, cache_dir, arrays = fake_mnist
    with monkeypatch.context() as patch:
        patch.setattr(cache, "FORMAT_VERSION", cache.FORMAT_VERSION - 1)
        datasets.load("mnist", "test", root=root, cache_dir=cache_dir)
    with pytest.warns(UserWarning, match=f"format {cache.FORMAT_VERSION - 1}.*another format"):
        ds = datasets.load("mnist", "test", root=root, cache_dir=cache_dir)
    np.testing.assert_array_equal(ds.labels, arrays["test"][1])


def test_a_damaged_cache_never_reaches_h5py(fake_mnist, monkeypatch):
    """libhdf5 may loop forever on a damaged file: every file h5py opens for reading must verify at that moment."""
    root, cache_dir, _ = fake_mnist
    datasets.load("mnist", "test", root=root, cache_dir=cache_dir)
    damage_zero_block(cache_dir / "mnist-test.h5")
    opened, real_open = [], h5py.File

    def checked_open(path, mode="r", **kwargs):
        if mode == "r":
            data = Path(path).read_bytes()
            opened.append(hashlib.sha256(data[sealed.HEADER_BYTES:]).hexdigest().encode() in data[:sealed.HEADER_BYTES])
        return real_open(path, mode, **kwargs)
    monkeypatch.setattr(h5py, "File", checked_open)
    with pytest.warns(UserWarning, match="does not match the SHA-256"):
        datasets.load("mnist", "test", root=root, cache_dir=cache_dir)
    assert opened == [True]


def test_a_cache_replaced_between_verification_and_opening_is_not_trusted(fake_mnist, monkeypatch):
    """Readers take no lock, so the file h5py opens must be the one whose digest was checked."""
    root, cache_dir, arrays = fake_mnist
    path = cache_dir / "mnist-test.h5"
    want = datasets.load("mnist", "test", root=root, cache_dir=cache_dir)
    verify = sealed._verified

    def verify_then_swap(where, label):
        stat = verify(where, label)
        if not swapped:
            edited = where.with_name("edited.h5")
            edited.write_bytes(where.read_bytes())
            damage_edit_attribute(edited)
            os.replace(edited, where)
            swapped.append(where)
        return stat
    swapped = []
    monkeypatch.setattr(sealed, "_verified", verify_then_swap)
    with pytest.warns(UserWarning, match="does not match the SHA-256"):
        got = datasets.load("mnist", "test", root=root, cache_dir=cache_dir)
    assert swapped == [path] and got.mean == want.mean
    np.testing.assert_array_equal(got.images[:, 0], arrays["test"][0])


def test_lazy_view_matches_in_memory(fake_mnist):
    root, cache_dir, _ = fake_mnist
    memory = datasets.load("mnist", "train", root=root, cache_dir=cache_dir, in_memory=True)
    lazy = datasets.load("mnist", "train", root=root, cache_dir=cache_dir, in_memory=False)
    assert isinstance(memory.images, np.ndarray) and isinstance(lazy.images, h5py.Dataset)
    np.testing.assert_array_equal(lazy.images[...], memory.images)


def _prepare(args):
    root, cache_dir = args
    ds = datasets.load("mnist", "train", root=root, cache_dir=cache_dir)
    return ds.meta["images_sha256"]


def test_two_processes_preparing_at_once_both_succeed(tmp_path, leftovers):
    from datasets.synthetic import write_mnist
    write_mnist(tmp_path, np.random.default_rng(0), n_train=3000, n_test=10)
    cache_dir = tmp_path / "cache"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        digests = pool.map(_prepare, [(tmp_path, cache_dir)] * 2)
    assert digests[0] == digests[1]
    assert leftovers(cache_dir) == ["mnist-train.h5"]


def test_temporary_file_of_a_killed_builder_is_removed(fake_mnist, leftovers):
    root, cache_dir, _ = fake_mnist
    cache_dir.mkdir()
    (cache_dir / ".mnist-test.h5.99999.tmp").write_bytes(b"half a file")
    datasets.load("mnist", "test", root=root, cache_dir=cache_dir)
    assert leftovers(cache_dir) == ["mnist-test.h5"]


def test_failed_build_leaves_nothing(tmp_path, leftovers):
    def build(sink):
        sink.allocate(4, (1, 2, 2))
        raise datasets.DataError("x: broken on purpose")
    with pytest.raises(datasets.DataError, match="broken on purpose"):
        cache.load_or_build(tmp_path / "t.h5", build, dict(name="t", split="train", variant={}))
    assert leftovers(tmp_path) == []


def test_cache_name_depends_on_variant():
    assert cache.cache_name("svhn", "train", {}) == "svhn-train.h5"
    assert cache.cache_name("svhn", "train", {"extra": True}) != cache.cache_name("svhn", "train", {"extra": False})


def test_a_cache_holding_another_dataset_is_rebuilt(fake_mnist):
    root, cache_dir, arrays = fake_mnist
    datasets.load("mnist", "test", root=root, cache_dir=cache_dir)
    (cache_dir / "mnist-test.h5").rename(cache_dir / "mnist-train.h5")
    with pytest.warns(UserWarning, match="holds \\('mnist', 'test', \\{\\}\\)"):
        ds = datasets.load("mnist", "train", root=root, cache_dir=cache_dir)
    np.testing.assert_array_equal(ds.labels, arrays["train"][1])
