"""Verified downloads, exercised through file:// URLs and fake openers: never the network."""
import hashlib
import io
import urllib.error

import pytest

import datasets
from datasets import mnist
from datasets.download import download_verified
from datasets.sources import Source, file_sha256


def test_mnist_download_from_a_file_url_is_verified_and_used(mnist_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "URL", mnist_dir.as_uri() + "/")
    ds = datasets.load("mnist", "test", root=tmp_path, cache_dir=tmp_path / "c", download=True, strict=True)
    assert len(ds) == 10000 and ds.labels[:3].tolist() == [7, 2, 1]
    assert (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == ["t10k-images-idx3-ubyte.gz",
                                                                      "t10k-labels-idx1-ubyte.gz"]


def served(tmp_path, content=b"official bytes"):
    path = tmp_path / "server" / "file.bin"
    path.parent.mkdir()
    path.write_bytes(content)
    return path


def test_checksum_mismatch_raises_and_leaves_no_file(tmp_path):
    path = served(tmp_path)
    source = Source("thing", "file.bin", path.as_uri(), sha256="0" * 64)
    dest = tmp_path / "root" / "thing" / "file.bin"
    with pytest.raises(datasets.DataError, match="file.bin has SHA-256 .*, expected 0000"):
        download_verified(source, dest, backoff_s=0)
    assert list(dest.parent.iterdir()) == []


def test_good_file_lands_under_its_final_name(tmp_path):
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


def test_offline_ends_with_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.download, "BACKOFF_S", 0.0)
    def offline(url, timeout):
        raise urllib.error.URLError("no route to host")
    with pytest.raises(datasets.SourceMissing, match=r"failed after 3 attempts .*no route to host.*place it at "
                                                     + str(tmp_path / "cifar10" / "cifar-10-binary.tar.gz")):
        datasets.load("cifar10", "test", root=tmp_path, cache_dir=tmp_path / "c", download=True, opener=offline)
    assert not (tmp_path / "cifar10" / "cifar-10-binary.tar.gz").exists()
    assert [p.name for p in (tmp_path / "cifar10").iterdir()] == []


def test_without_download_nothing_is_fetched(tmp_path):
    def forbidden(url, timeout):
        raise AssertionError("network used")
    with pytest.raises(datasets.SourceMissing, match="download=True"):
        datasets.load("svhn", "test", root=tmp_path, cache_dir=tmp_path / "c", opener=forbidden)
