"""The HDF5 cache: atomic, locked, verified on load, rebuilt with a warning when damaged."""
import multiprocessing

import h5py
import numpy as np
import pytest

import datasets
from datasets import cache

pytestmark = pytest.mark.filterwarnings("ignore:.*expected the official:UserWarning")


def test_cache_records_identity_checksums_and_version(fake_mnist):
    root, cache_dir, _ = fake_mnist
    ds = datasets.load("mnist", "train", root=root, cache_dir=cache_dir)
    with h5py.File(ds.meta["cache"], "r") as f:
        assert f.attrs["format_version"] == cache.FORMAT_VERSION
        assert f.attrs["name"] == "mnist" and f.attrs["split"] == "train" and f.attrs["complete"]
        assert f["images"].shape == (50, 1, 28, 28) and f["labels"].dtype == np.int64
    assert set(ds.meta["sources"]) == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}


def damage_truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def damage_flip_image_byte(path):
    with h5py.File(path, "r+") as f:
        f["images"][3, 0, 10, 10] ^= 0xFF


def damage_flip_label(path):
    with h5py.File(path, "r+") as f:
        f["labels"][0] = (f["labels"][0] + 1) % 10


def damage_incomplete(path):
    with h5py.File(path, "r+") as f:
        del f.attrs["complete"]


def damage_old_version(path):
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = cache.FORMAT_VERSION - 1


def damage_garbage(path):
    path.write_bytes(b"not an HDF5 file at all")


@pytest.mark.parametrize("damage", [damage_truncate, damage_flip_image_byte, damage_flip_label,
                                    damage_incomplete, damage_old_version, damage_garbage])
def test_damaged_cache_is_detected_and_rebuilt_with_a_warning(fake_mnist, damage):
    root, cache_dir, arrays = fake_mnist
    first = datasets.load("mnist", "train", root=root, cache_dir=cache_dir)
    damage(cache_dir / "mnist-train.h5")
    with pytest.warns(UserWarning, match="mnist-train.h5 is corrupt or stale: .*rebuilding"):
        again = datasets.load("mnist", "train", root=root, cache_dir=cache_dir)
    np.testing.assert_array_equal(again.images[:, 0], arrays["train"][0])
    assert again.meta["images_sha256"] == first.meta["images_sha256"]


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
