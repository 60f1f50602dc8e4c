"""Downloads of missing raw files, against a mirror server on 127.0.0.1 that each test starts (conftest.py), file://
URLs and fake openers: never the network.

Each failure (connection refused, a body cut short, a wrong Content-Length, wrong bytes, HTTP 404) ends in one
SourceMissing of three lines naming the file and the problem, leaves nothing in the data root (no partial file, no
temporary file), and a rerun against a good server succeeds.
"""
import hashlib
import io
import os
import re
import shutil
import threading
import time
import urllib.error

import numpy as np
import pytest

import datasets
from datasets import download, mnist
from datasets.download import DownloadFailed, download_policy, download_verified, folder_lock, source_url
from datasets.sources import Source, file_sha256
from datasets.synthetic import write_cifar, write_mnist

MNIST_TEST = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def everything(folder):
    """Sorted relative names of every file and folder under `folder`, hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def served_mnist(mirror, official):
    """{split: (images, labels)} of a tiny MNIST served by the mirror and made official for the test."""
    arrays = write_mnist(mirror.folder, np.random.default_rng(1), n_train=30, n_test=12)
    official(mirror.folder)
    return arrays


def test_missing_mnist_is_downloaded_verified_and_stored_then_read_from_disk(served_mnist, mirror, tmp_path):
    root = tmp_path / "root"
    ds = datasets.load("mnist", "test", root=root, cache_dir=tmp_path / "cache")     # download=None: automatic
    images, labels = served_mnist["test"]
    np.testing.assert_array_equal(ds.images[:, 0], images)
    np.testing.assert_array_equal(ds.labels, labels)
    assert sorted(mirror.requests) == sorted(f"/mnist/{name}" for name in MNIST_TEST)
    assert everything(root) == ["mnist", *(f"mnist/{name}" for name in MNIST_TEST)]
    for name in MNIST_TEST:
        assert (root / "mnist" / name).read_bytes() == (mirror.folder / "mnist" / name).read_bytes()
    datasets.load("mnist", "test", root=root, cache_dir=tmp_path / "cache")           # from the cache
    datasets.load("mnist", "test", root=root, cache_dir=tmp_path / "cache2")          # from the raw files
    assert len(mirror.requests) == 2, "a second load downloaded again"


def test_missing_cifar10_archive_is_downloaded_once_for_both_splits(mirror, official, tmp_path):
    arrays = write_cifar(mirror.folder, np.random.default_rng(2), per_batch=3)
    official(mirror.folder)
    root = tmp_path / "root"
    for split in ("train", "test"):
        ds = datasets.load("cifar10", split, root=root, cache_dir=tmp_path / "cache", strict=True)
        np.testing.assert_array_equal(ds.images, arrays[split][0])
    assert mirror.requests == ["/cifar10/cifar-10-binary.tar.gz"]
    assert everything(root) == ["cifar10", "cifar10/cifar-10-binary.tar.gz"]
    assert file_sha256(root / "cifar10" / "cifar-10-binary.tar.gz") == datasets.cifar.CIFAR10.source.sha256


@pytest.mark.parametrize("mode, problem", [
    ("cut", r"the connection closed after 4,723 of the 9,447 bytes announced"),
    ("long-length", r"the connection closed after 9,447 of the 10,447 bytes announced"),
    ("short-length", r"wrong bytes: the downloaded file does not decompress \(Compressed file ended before"),
    ("wrong", r"wrong bytes: the [\d,]+-byte file's decompressed content's SHA-256 is [0-9a-f]{64}, not the "
              r"official [0-9a-f]{64}"),
])
def test_a_bad_transfer_is_retried_then_fails_cleanly_and_a_rerun_succeeds(served_mnist, mirror, tmp_path, mode,
                                                                           problem):
    root, cache = tmp_path / "root", tmp_path / "cache"
    mirror.mode = mode
    with pytest.raises(datasets.SourceMissing) as failure:
        datasets.load("mnist", "test", root=root, cache_dir=cache)
    lines = str(failure.value).split("\n")
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"mnist test: 2 of its files are not in the data root {root}, and the download "
                               f"failed: {mirror.url}/mnist/t10k-images-idx3-ubyte.gz: ")
    assert lines[1] == "put them at " + ", ".join(str(root / "mnist" / name) for name in MNIST_TEST)
    assert re.search(problem, lines[0]), lines[0]
    assert lines[0].endswith("(3 attempts)")
    assert mirror.requests == ["/mnist/t10k-images-idx3-ubyte.gz"] * 3
    assert everything(root) == ["mnist"], "a partial or temporary file was left in the data root"
    assert not list(cache.glob("*.h5")) and not list(cache.glob("*.tmp"))
    mirror.mode = "good"
    ds = datasets.load("mnist", "test", root=root, cache_dir=cache)
    np.testing.assert_array_equal(ds.labels, served_mnist["test"][1])


def test_wrong_bytes_of_an_archive_name_its_official_digest(mirror, official, tmp_path):
    write_cifar(mirror.folder, np.random.default_rng(2), per_batch=1)
    official(mirror.folder)
    mirror.mode = "wrong"
    root = tmp_path / "root"
    with pytest.raises(datasets.SourceMissing, match=r"cifar-10-binary.tar.gz: wrong bytes: the [\d,]+-byte "
                                                     r"file's SHA-256 is [0-9a-f]{64}, not the official "
                                                     + datasets.cifar.CIFAR10.source.sha256):
        datasets.load("cifar10", "test", root=root, cache_dir=tmp_path / "cache")
    assert everything(root) == ["cifar10"]


def test_a_file_the_mirror_lacks_is_asked_for_once(mirror, tmp_path):
    with pytest.raises(datasets.SourceMissing, match=r"test_32x32.mat: HTTP 404 Not Found \(1 attempt\)"):
        datasets.load("svhn", "test", root=tmp_path / "root", cache_dir=tmp_path / "cache")
    assert mirror.requests == ["/svhn/test_32x32.mat"]


def test_offline_gives_three_lines_what_where_how(tmp_path, monkeypatch):
    monkeypatch.delenv("XNOR_MRAM_OFFLINE")       # downloads on; the mirror is a closed port (conftest.no_network)
    monkeypatch.setattr(download, "BACKOFF_S", 0.0)
    root = tmp_path / "root"
    with pytest.raises(datasets.SourceMissing) as failure:
        datasets.require("mnist", root=root)
    what, where, how = str(failure.value).split("\n")
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", *MNIST_TEST]
    assert what.startswith(f"mnist train+test: 4 of its files are not in the data root {root}, and the download "
                           f"failed: {os.environ['XNOR_MRAM_MIRROR']}/mnist/train-images-idx3-ubyte.gz: ")
    assert "Connection refused" in what
    assert where == "put them at " + ", ".join(str(root / "mnist" / name) for name in names)
    assert how == ("to fetch them: `python -m datasets prepare mnist --download` where the network allows, or "
                   f"download them yourself from {os.environ['XNOR_MRAM_MIRROR']}/mnist/")
    assert everything(root) == ["mnist"]


@pytest.mark.parametrize("how", ["env", "argument"])
def test_download_off_asks_no_server(mirror, tmp_path, monkeypatch, how):
    if how == "env":
        monkeypatch.setenv("XNOR_MRAM_OFFLINE", "1")
        kwargs, reason = {}, "automatic download is off ($XNOR_MRAM_OFFLINE=1)"
    else:
        kwargs, reason = {"download": False}, "download is off (download=False / --no-download)"
    with pytest.raises(datasets.SourceMissing) as failure:
        datasets.load("cifar10", "test", root=tmp_path, cache_dir=tmp_path / "c", **kwargs)
    what, where, how_line = str(failure.value).split("\n")
    assert what == f"cifar10 test: cifar-10-binary.tar.gz is not in the data root {tmp_path}, and {reason}"
    assert where == f"put it at {tmp_path / 'cifar10' / 'cifar-10-binary.tar.gz'}"
    assert how_line.endswith(f"or download {mirror.url}/cifar10/cifar-10-binary.tar.gz yourself")
    assert mirror.requests == []


def test_explicit_download_wins_over_the_offline_setting(served_mnist, mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("XNOR_MRAM_OFFLINE", "1")
    paths = datasets.require("mnist", ["test"], root=tmp_path, download=True)
    assert [p.name for p in paths] == MNIST_TEST and len(mirror.requests) == 2


def test_the_default_root_is_named_as_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv("XNOR_MRAM_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(datasets.SourceMissing, match=r"is not in the data root \S+/\.cache/xnor-mram \(the "
                                                     r"default: \$XNOR_MRAM_DATA is not set\)"):
        datasets.require("cifar10", ["test"])


def test_a_download_waits_for_the_folder_lock_then_finds_the_file_in_place(served_mnist, mirror, tmp_path):
    """What a second sweep worker needing the same files sees: it waits while the first downloads into the folder,
    then takes the file the first put in place."""
    folder = tmp_path / "root" / "mnist"
    folder.mkdir(parents=True)
    outcome = []

    def fetch():
        try:
            outcome.append(datasets.require("mnist", ["test"], root=tmp_path / "root"))
        except Exception as err:    # reported by the assertion below
            outcome.append(err)
    with folder_lock(folder):
        thread = threading.Thread(target=fetch)
        thread.start()
        time.sleep(0.3)
        assert mirror.requests == [] and not outcome, "the download did not wait for the folder lock"
        shutil.copy(mirror.folder / "mnist" / MNIST_TEST[0], folder / MNIST_TEST[0])   # as the lock holder would
    thread.join(30)
    assert outcome == [[folder / name for name in MNIST_TEST]]
    assert mirror.requests == ["/mnist/t10k-labels-idx1-ubyte.gz"]


def test_a_temporary_file_left_by_a_killed_download_is_removed(served_mnist, mirror, tmp_path):
    folder = tmp_path / "root" / "mnist"
    folder.mkdir(parents=True)
    (folder / ".t10k-images-idx3-ubyte.gz.99999999.part").write_bytes(b"half")
    datasets.require("mnist", ["test"], root=tmp_path / "root")
    assert everything(folder) == MNIST_TEST


def test_an_interrupted_download_leaves_no_temporary_file(tmp_path):
    class Interrupted(io.BytesIO):
        def read(self, size=-1):
            raise KeyboardInterrupt
    source = Source("thing", "file.bin", "https://example.invalid/file.bin", sha256="0" * 64)
    dest = tmp_path / "thing" / "file.bin"
    with pytest.raises(KeyboardInterrupt):
        download_verified(source, dest, opener=lambda url, timeout: Interrupted())
    assert everything(tmp_path) == ["thing"]


def test_mnist_download_from_a_file_url_mirror_is_verified_against_the_official_digests(mnist_dir, tmp_path,
                                                                                        monkeypatch):
    """The real MNIST through a file:// mirror: what a machine with a local copy of the files can do."""
    monkeypatch.setenv("XNOR_MRAM_MIRROR", mnist_dir.parent.as_uri())
    ds = datasets.load("mnist", "test", root=tmp_path, cache_dir=tmp_path / "c", download=True, strict=True)
    assert len(ds) == 10000 and ds.labels[:3].tolist() == [7, 2, 1]
    assert everything(tmp_path / "mnist") == MNIST_TEST


def test_mirror_urls_keep_the_data_root_layout(monkeypatch):
    source = mnist.source("t10k-labels-idx1-ubyte")
    monkeypatch.delenv("XNOR_MRAM_MIRROR")
    assert source_url(source) == "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz"
    monkeypatch.setenv("XNOR_MRAM_MIRROR", "http://mirror.example/data/")
    assert source_url(source) == "http://mirror.example/data/mnist/t10k-labels-idx1-ubyte.gz"


def test_download_policy(monkeypatch):
    monkeypatch.delenv("XNOR_MRAM_OFFLINE")
    assert download_policy(None) == (True, None) and download_policy(True) == (True, None)
    assert download_policy(False)[0] is False
    monkeypatch.setenv("XNOR_MRAM_OFFLINE", "0")
    assert download_policy(None) == (True, None)
    monkeypatch.setenv("XNOR_MRAM_OFFLINE", "yes")
    assert download_policy(None) == (False, "automatic download is off ($XNOR_MRAM_OFFLINE=yes)")
    monkeypatch.setenv("XNOR_MRAM_OFFLINE", "maybe")
    with pytest.raises(ValueError, match="XNOR_MRAM_OFFLINE must be 1/true/yes/on or 0/false/no/off, got 'maybe'"):
        download_policy(None)
    with pytest.raises(ValueError, match="download must be True, False or None"):
        download_policy("yes")


# --- download_verified alone -------------------------------------------------------------------------------------

def served(tmp_path, content=b"official bytes"):
    path = tmp_path / "server" / "file.bin"
    path.parent.mkdir()
    path.write_bytes(content)
    return path


def test_checksum_mismatch_raises_and_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.delenv("XNOR_MRAM_MIRROR")
    path = served(tmp_path)
    source = Source("thing", "file.bin", path.as_uri(), sha256="0" * 64)
    dest = tmp_path / "root" / "thing" / "file.bin"
    with pytest.raises(DownloadFailed, match=r"file.bin: wrong bytes: the 14-byte file's SHA-256 is [0-9a-f]{64}, "
                                             r"not the official 0{64} \(3 attempts\)"):
        download_verified(source, dest, backoff_s=0)
    assert list(dest.parent.iterdir()) == []


def test_good_file_lands_under_its_final_name(tmp_path, monkeypatch):
    monkeypatch.delenv("XNOR_MRAM_MIRROR")
    path = served(tmp_path)
    source = Source("thing", "file.bin", path.as_uri(), sha256=file_sha256(path))
    dest = download_verified(source, tmp_path / "root" / "thing" / "file.bin")
    assert dest.read_bytes() == b"official bytes"


def test_a_cut_transfer_is_retried(tmp_path):
    good = b"x" * 5000
    source = Source("thing", "file.bin", "https://example.invalid/file.bin",
                    sha256=hashlib.sha256(good).hexdigest())
    replies = [io.BytesIO(good[:100]), io.BytesIO(good)]
    calls = []

    def opener(url, timeout):
        calls.append(url)
        return replies.pop(0)
    dest = download_verified(source, tmp_path / "thing" / "file.bin", opener=opener, backoff_s=0)
    assert dest.read_bytes() == good and len(calls) == 2


def test_the_pauses_between_attempts_double(tmp_path, monkeypatch):
    pauses = []
    monkeypatch.setattr(time, "sleep", pauses.append)

    def offline(url, timeout):
        raise urllib.error.URLError("no route to host")
    source = Source("thing", "file.bin", "https://example.invalid/file.bin", sha256="0" * 64)
    with pytest.raises(DownloadFailed, match=r"/thing/file.bin: no route to host \(4 attempts\)"):
        download_verified(source, tmp_path / "thing" / "file.bin", opener=offline, retries=4, backoff_s=0.5)
    assert pauses == [0.5, 1.0, 2.0]


def test_a_data_root_that_cannot_hold_the_folder_is_named(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    dest = tmp_path / "file" / "thing" / "file.bin"
    source = Source("thing", "file.bin", "https://example.invalid/file.bin", sha256="0" * 64)
    with pytest.raises(DownloadFailed, match=f"cannot create the folder {dest.parent} "):
        download_verified(source, dest)
