"""MNIST: the real files from ../shared/data, and tiny generated IDX files for every failure mode."""
import gzip
import numpy as np
import pytest

import datasets
from datasets.idx import parse_idx
from datasets.synthetic import idx_bytes, write_mnist

# The tiny generated files are not the official ones: their checksum warning is expected.
pytestmark = pytest.mark.filterwarnings("ignore:.*expected the official:UserWarning")

README_COUNTS = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
README_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


@pytest.fixture(scope="module")
def real_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("mnist-cache")


@pytest.mark.parametrize("split", ["train", "test"])
def test_real_mnist_counts_checksums_and_normalization(data_root, mnist_dir, real_cache, split):
    ds = datasets.load("mnist", split, root=data_root, cache_dir=real_cache, strict=True)
    assert ds.images.shape == (sum(README_COUNTS[split]), 1, 28, 28) and ds.images.dtype == np.uint8
    assert ds.labels.dtype == np.int64
    assert np.bincount(ds.labels, minlength=10).tolist() == README_COUNTS[split]
    assert ds.classes == [str(d) for d in range(10)]
    assert ds.mean == (0.1307,) and ds.std == (0.3081,)
    prefix = "train" if split == "train" else "t10k"
    for kind in ("images-idx3", "labels-idx1"):
        stem = f"{prefix}-{kind}-ubyte"
        assert ds.meta["sources"][stem + ".gz"] == README_SHA256[stem]


def test_real_mnist_known_labels_and_pixels(data_root, mnist_dir, real_cache):
    train = datasets.load("mnist", "train", root=data_root, cache_dir=real_cache)
    test = datasets.load("mnist", "test", root=data_root, cache_dir=real_cache)
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    # Row 5 of the first training image, the "5" printed in countless tutorials.
    assert train.images[0, 0, 5, 12:24].tolist() == [3, 18, 18, 18, 126, 136, 175, 26, 166, 255, 247, 127]
    assert train.meta["measured_mean"][0] == pytest.approx(0.1307, abs=5e-5)
    assert train.meta["measured_std"][0] == pytest.approx(0.3081, abs=5e-5)


def test_cached_load_never_touches_raw_files(fake_mnist):
    root, cache, arrays = fake_mnist
    first = datasets.load("mnist", "train", root=root, cache_dir=cache)
    for path in (root / "mnist").iterdir():
        path.unlink()
    again = datasets.load("mnist", "train", root=root, cache_dir=cache)
    np.testing.assert_array_equal(again.images[:, 0], arrays["train"][0])
    np.testing.assert_array_equal(again.labels, arrays["train"][1])
    assert again.meta["images_sha256"] == first.meta["images_sha256"]


def test_raw_idx_without_gz_is_accepted(tmp_path):
    arrays = write_mnist(tmp_path, np.random.default_rng(1), gz=False)
    ds = datasets.load("mnist", "test", root=tmp_path, cache_dir=tmp_path / "c")
    np.testing.assert_array_equal(ds.images[:, 0], arrays["test"][0])


def test_unofficial_files_warn_and_strict_refuses(fake_mnist, leftovers):
    root, cache, _ = fake_mnist
    with pytest.raises(datasets.DataError, match="t10k-images-idx3-ubyte.gz.*expected the official"):
        datasets.load("mnist", "test", root=root, cache_dir=cache, strict=True)
    assert leftovers(cache) == []
    with pytest.warns(UserWarning, match="expected the official"):
        datasets.load("mnist", "test", root=root, cache_dir=cache)


def test_missing_file_says_where_to_put_it(tmp_path):
    with pytest.raises(datasets.SourceMissing, match=str(tmp_path / "mnist" / "train-images-idx3-ubyte.gz")):
        datasets.load("mnist", "train", root=tmp_path, cache_dir=tmp_path / "c")


def corrupt(path, how):
    content = gzip.decompress(path.read_bytes())
    if how == "dims":
        content = b"\x00\x00\x08\x09" + content[4:]
    elif how == "magic":
        content = b"\x08\x03\x00\x00" + content[4:]
    elif how == "short":
        content = content[:-7]
    elif how == "long":
        content = content + b"\0"
    if how == "truncated-gz":
        path.write_bytes(path.read_bytes()[:-40])
    else:
        path.write_bytes(gzip.compress(content))


@pytest.mark.parametrize("how, message", [
    ("magic", "magic number 0x08030000 is not IDX"),
    ("dims", "IDX file has 9 dimensions, expected 3"),
    ("short", "bytes, expected .* \\(file truncated or padded\\)"),
    ("long", "bytes, expected .* \\(file truncated or padded\\)"),
    ("truncated-gz", "cannot decompress"),
])
def test_bad_idx_file_raises_dataerror_and_leaves_no_cache(fake_mnist, leftovers, how, message):
    root, cache, _ = fake_mnist
    corrupt(root / "mnist" / "train-images-idx3-ubyte.gz", how)
    with pytest.raises(datasets.DataError, match="train-images-idx3-ubyte.gz: .*" + message):
        datasets.load("mnist", "train", root=root, cache_dir=cache)
    assert leftovers(cache) == []


def test_image_and_label_counts_must_agree(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(datasets.DataError, match="3 images but .* 4 labels"):
        datasets.load("mnist", "test", root=tmp_path, cache_dir=tmp_path / "c")


@pytest.mark.parametrize("content, message", [
    (b"\x00\x00", "too short for an IDX header"),
    (b"\x01\x00\x08\x01" + b"\0" * 8, "magic number 0x01000801 is not IDX"),
    (b"\x00\x00\x07\x01" + b"\0" * 8, "magic number 0x00000701 is not IDX"),
    (b"\x00\x00\x08\x01\x00\x00", "truncated IDX header"),
])
def test_parse_idx_header_errors(content, message):
    with pytest.raises(datasets.DataError, match="x.idx: .*" + message):
        parse_idx(content, "x.idx", 1)


def test_parse_idx_reads_big_endian_types():
    content = bytes([0, 0, 0x0B, 1]) + (2).to_bytes(4, "big") + np.array([1, -2], ">i2").tobytes()
    np.testing.assert_array_equal(parse_idx(content, "x", 1), [1, -2])
