"""CIFAR-10/100 binary archives, generated in the official layout, and their failure modes."""
import gzip
import tarfile

import numpy as np
import pytest

import datasets
from datasets.synthetic import CIFAR10_CLASSES, add_tar_member, write_cifar

pytestmark = pytest.mark.filterwarnings("ignore:.*expected the official:UserWarning")


@pytest.mark.parametrize("split", ["train", "test"])
def test_cifar10_records_become_images_and_labels(tmp_path, split):
    arrays = write_cifar(tmp_path, np.random.default_rng(0))
    ds = datasets.load("cifar10", split, root=tmp_path, cache_dir=tmp_path / "c")
    images, labels, _ = arrays[split]
    np.testing.assert_array_equal(ds.images, images)
    np.testing.assert_array_equal(ds.labels, labels)
    assert ds.classes == CIFAR10_CLASSES and ds.mean == (0.4914, 0.4822, 0.4465)
    assert len(ds.meta["sources"]["cifar-10-binary.tar.gz"]) == 64


def test_cifar100_keeps_fine_and_coarse_labels(tmp_path):
    arrays = write_cifar(tmp_path, np.random.default_rng(1), hundred=True)
    ds = datasets.load("cifar100", "train", root=tmp_path, cache_dir=tmp_path / "c")
    images, fine, coarse = arrays["train"]
    np.testing.assert_array_equal(ds.images, images)
    np.testing.assert_array_equal(ds.labels, fine)
    np.testing.assert_array_equal(ds.meta["coarse_labels"], coarse)
    assert len(ds.classes) == 100 and len(ds.meta["coarse_classes"]) == 20


def rewrite(archive, change):
    """Rebuild a .tar.gz with change(name, data) -> data or None (drop the member)."""
    with tarfile.open(archive) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar if m.isfile()]
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in members:
            data = change(name, data)
            if data is not None:
                add_tar_member(tar, name, data)


def test_official_checksum_is_enforced_with_strict(tmp_path, leftovers):
    write_cifar(tmp_path, np.random.default_rng(0))
    with pytest.raises(datasets.DataError, match="cifar-10-binary.tar.gz: archive SHA-256 is .*expected the "
                                                 "official c4a38c50"):
        datasets.load("cifar10", "test", root=tmp_path, cache_dir=tmp_path / "c", strict=True)
    assert leftovers(tmp_path / "c") == []


@pytest.mark.parametrize("change, message", [
    (lambda name, data: data[:-5] if name.endswith("test_batch.bin") else data,
     "member cifar-10-batches-bin/test_batch.bin has 18433 bytes, not a positive multiple of the 3073-byte record"),
    (lambda name, data: None if name.endswith("test_batch.bin") else data,
     "archive lacks cifar-10-batches-bin/test_batch.bin"),
    (lambda name, data: b"a\nb\n" if name.endswith("meta.txt") else data,
     "batches.meta.txt names 2 classes, expected 10"),
    (lambda name, data: b"\x0b" + data[1:] if name.endswith("test_batch.bin") else data,
     "label 11 but the archive names only 10 classes"),
])
def test_bad_archive_contents(tmp_path, leftovers, change, message):
    write_cifar(tmp_path, np.random.default_rng(0))
    rewrite(tmp_path / "cifar10" / "cifar-10-binary.tar.gz", change)
    with pytest.raises(datasets.DataError, match=message):
        datasets.load("cifar10", "test", root=tmp_path, cache_dir=tmp_path / "c")
    assert leftovers(tmp_path / "c") == []


@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_truncated_archive(tmp_path, leftovers, keep):
    write_cifar(tmp_path, np.random.default_rng(0))
    archive = tmp_path / "cifar10" / "cifar-10-binary.tar.gz"
    data = archive.read_bytes()
    archive.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(datasets.DataError, match="cifar-10-binary.tar.gz: cannot read the archive .*truncated"):
        datasets.load("cifar10", "train", root=tmp_path, cache_dir=tmp_path / "c")
    assert leftovers(tmp_path / "c") == []


def test_missing_archive_names_file_place_and_url(tmp_path, monkeypatch):
    monkeypatch.delenv("XNOR_MRAM_MIRROR")     # the official URL in the message (download stays off)
    with pytest.raises(datasets.SourceMissing) as err:
        datasets.load("cifar100", "test", root=tmp_path, cache_dir=tmp_path / "c")
    what, where, how = str(err.value).split("\n")
    assert what.startswith("cifar100 test: cifar-100-binary.tar.gz is not in the data root")
    assert where == f"put it at {tmp_path / 'cifar100' / 'cifar-100-binary.tar.gz'}"
    assert how.endswith("or download https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz yourself")


def test_not_gzip_at_all(tmp_path):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    (folder / "cifar-10-binary.tar.gz").write_bytes(gzip.compress(b"plain text, not a tar"))
    with pytest.raises(datasets.DataError, match="not a tar file"):
        datasets.load("cifar10", "test", root=tmp_path, cache_dir=tmp_path / "c")


def test_gzip_crc_is_checked_even_past_the_last_member(tmp_path, leftovers):
    write_cifar(tmp_path, np.random.default_rng(0))
    archive = tmp_path / "cifar10" / "cifar-10-binary.tar.gz"
    data = bytearray(archive.read_bytes())
    data[-8] ^= 0xFF          # the gzip trailer's CRC-32, read only after tarfile has seen the end blocks
    archive.write_bytes(bytes(data))
    with pytest.raises(datasets.DataError, match="cannot read the archive .*CRC"):
        datasets.load("cifar10", "test", root=tmp_path, cache_dir=tmp_path / "c")
    assert leftovers(tmp_path / "c") == []
