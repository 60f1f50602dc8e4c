"""SVHN .mat files (MATLAB v5 via scipy, v7.3 via h5py), label 10 -> 0, train + extra."""
import numpy as np
import pytest
import scipy.io

import datasets
from datasets.synthetic import write_svhn

pytestmark = pytest.mark.filterwarnings("ignore:.*expected the official:UserWarning")


@pytest.mark.parametrize("hdf5", [False, True], ids=["v5", "v7.3"])
def test_svhn_splits_and_extended_train(tmp_path, hdf5):
    arrays = write_svhn(tmp_path, np.random.default_rng(0), hdf5=hdf5)
    test = datasets.load("svhn", "test", root=tmp_path, cache_dir=tmp_path / "c")
    np.testing.assert_array_equal(test.images, arrays["test"][0])
    np.testing.assert_array_equal(test.labels, arrays["test"][1])
    extended = datasets.load("svhn", "train", root=tmp_path, cache_dir=tmp_path / "c", extra=True)
    np.testing.assert_array_equal(extended.images, np.concatenate([arrays["train"][0], arrays["extra"][0]]))
    np.testing.assert_array_equal(extended.labels, np.concatenate([arrays["train"][1], arrays["extra"][1]]))
    plain = datasets.load("svhn", "train", root=tmp_path, cache_dir=tmp_path / "c")
    assert len(plain) == 7 and len(extended) == 16 and extended.meta["parts"] == ["train", "extra"]


def test_label_ten_means_zero(tmp_path):
    arrays = write_svhn(tmp_path, np.random.default_rng(3), sizes=(("test", 40),))
    ds = datasets.load("svhn", "test", root=tmp_path, cache_dir=tmp_path / "c")
    raw = scipy.io.loadmat(tmp_path / "svhn" / "test_32x32.mat")["y"].ravel()
    assert (raw == 10).any() and not (raw == 0).any()
    np.testing.assert_array_equal(ds.labels[raw == 10], 0)
    np.testing.assert_array_equal(ds.labels, arrays["test"][1])


@pytest.mark.parametrize("contents, message", [
    (dict(X=np.zeros((32, 32, 3, 2), np.uint8), y=np.array([[1], [11]], np.uint8)),
     "label 11 at index 1, expected digits 1..10"),
    (dict(X=np.zeros((32, 32, 3, 2), np.uint8), y=np.array([[1], [2], [3]], np.uint8)), "2 images but 3 labels"),
    (dict(X=np.zeros((28, 28, 3, 2), np.uint8), y=np.array([[1], [2]], np.uint8)), "expected uint8 \\(3, 32, 32\\)"),
    (dict(images=np.zeros(3)), "no variable 'X'"),
])
def test_bad_mat_files(tmp_path, leftovers, contents, message):
    (tmp_path / "svhn").mkdir()
    scipy.io.savemat(tmp_path / "svhn" / "test_32x32.mat", contents)
    with pytest.raises(datasets.DataError, match="test_32x32.mat: .*" + message):
        datasets.load("svhn", "test", root=tmp_path, cache_dir=tmp_path / "c")
    assert leftovers(tmp_path / "c") == []


def test_truncated_mat_file(tmp_path, leftovers):
    write_svhn(tmp_path, np.random.default_rng(0), sizes=(("test", 5),))
    path = tmp_path / "svhn" / "test_32x32.mat"
    path.write_bytes(path.read_bytes()[:4000])
    with pytest.raises(datasets.DataError, match="test_32x32.mat: not a readable MATLAB file"):
        datasets.load("svhn", "test", root=tmp_path, cache_dir=tmp_path / "c")
    assert leftovers(tmp_path / "c") == []


def test_extra_must_be_a_bool(tmp_path):
    with pytest.raises(ValueError, match="svhn extra must be True or False, got 'yes'"):
        datasets.load("svhn", "train", root=tmp_path, cache_dir=tmp_path / "c", extra="yes")
