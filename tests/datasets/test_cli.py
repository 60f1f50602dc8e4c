"""`python -m datasets prepare/info`, called in-process."""
import numpy as np
import pytest

from datasets.__main__ import main
from datasets.synthetic import write_imagefolder, write_mnist

pytestmark = pytest.mark.filterwarnings("ignore:.*expected the official:UserWarning")


def test_prepare_then_info(fake_mnist, capsys):
    root, cache_dir, arrays = fake_mnist
    assert main(["prepare", "mnist", "--source", str(root / "mnist"), "--cache-dir", str(cache_dir)]) == 0
    assert sorted(p.name for p in cache_dir.glob("*.h5")) == ["mnist-test.h5", "mnist-train.h5"]
    assert main(["info", "mnist", "--root", str(root), "--cache-dir", str(cache_dir), "--split", "test"]) == 0
    out = capsys.readouterr().out
    counts = np.bincount(arrays["test"][1], minlength=10)
    assert "mnist test: 20 images (1, 28, 28) uint8, 10 classes" in out
    assert "classes   0: %d, 1: %d" % (counts[0], counts[1]) in out
    assert "t10k-images-idx3-ubyte.gz" in out


def test_prepare_image_folder_subset(tmp_path, capsys):
    write_imagefolder(tmp_path / "in.tar.gz", np.random.default_rng(0), splits=(("train", 2), ("val", 1)))
    assert main(["prepare", "imagefolder", "--source", str(tmp_path / "in.tar.gz"), "--classes", "2",
                 "--cache-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "imagefolder train: 4 images (3, 8, 8) uint8, 2 classes" in out
    assert "imagefolder val: 2 images" in out and "test:" not in out


def test_missing_files_exit_2_with_the_three_line_message_once(tmp_path, capsys):
    assert main(["prepare", "cifar10", "--root", str(tmp_path), "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and err.startswith("error: cifar10 train+test: cifar-10-binary.tar.gz is not in")
    assert "\nput it at " + str(tmp_path / "cifar10" / "cifar-10-binary.tar.gz") + "\n" in err
    assert not (tmp_path / "c").exists() or not list((tmp_path / "c").glob("*.h5"))


def test_prepare_downloads_every_missing_file_once_then_builds_both_caches(mirror, official, tmp_path, capsys):
    write_mnist(mirror.folder, np.random.default_rng(3), n_train=8, n_test=4)
    official(mirror.folder)
    args = ["prepare", "mnist", "--root", str(tmp_path / "root"), "--cache-dir", str(tmp_path / "c")]
    assert main([*args, "--no-download"]) == 2 and mirror.requests == []
    assert "download is off (download=False / --no-download)" in capsys.readouterr().err
    assert main(args) == 0
    assert sorted(mirror.requests) == sorted(f"/mnist/{p}-{k}-ubyte.gz" for p in ("train", "t10k")
                                             for k in ("images-idx3", "labels-idx1"))
    out = capsys.readouterr().out
    assert "mnist train: 8 images" in out and "mnist test: 4 images" in out


def test_cifar10_jpeg_has_no_download_and_says_where_the_archive_goes(tmp_path, capsys):
    assert main(["prepare", "cifar10-jpeg", "--root", str(tmp_path), "--cache-dir", str(tmp_path / "c")]) == 2
    what, where, how = capsys.readouterr().err.rstrip("\n").split("\n")
    archive = tmp_path / "cifar10-jpeg" / "cifar10-jpeg.tar.gz"
    assert what == f"error: cifar10-jpeg: {archive} not found (the default source, under the data root {tmp_path})"
    assert where == f"put the folder or .tar/.tar.gz of [prefix/]split/class/*.jpg|png at {archive}"
    assert how.startswith("to fetch it: cifar10-jpeg has no official download: copy cifar10-jpeg.tar.gz from a "
                          "machine that has it, or train on the official binary version, dataset cifar10")


def test_bad_option_and_bad_data_exit_nonzero(fake_mnist, capsys):
    root, cache_dir, _ = fake_mnist
    assert main(["prepare", "mnist", "--root", str(root), "--cache-dir", str(cache_dir), "--extra"]) == 2
    assert "mnist has no option(s) ['extra']; its options are none" in capsys.readouterr().err
    (root / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"junk")
    assert main(["prepare", "mnist", "--root", str(root), "--cache-dir", str(cache_dir)]) == 1
    assert "t10k-labels-idx1-ubyte.gz" in capsys.readouterr().err
