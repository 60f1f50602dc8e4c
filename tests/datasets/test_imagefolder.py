"""Image folders (directory, .tar, .tar.gz): layout, class subsets, resizing, and every unsafe or bad input."""
import bz2
import gzip
import io
import lzma
import tarfile

import numpy as np
import pytest
from PIL import Image

import datasets
from datasets.synthetic import add_tar_member, encode_image, write_imagefolder
from datasets.imagefolder import decode


@pytest.mark.parametrize("kind", ["tar.gz", "tar", "dir"])
def test_archive_and_folder_give_the_same_arrays(tmp_path, kind):
    source = tmp_path / ("set." + kind if kind != "dir" else "set")
    if kind == "dir":
        source.mkdir()
    arrays = write_imagefolder(source, np.random.default_rng(0), prefix="top/", archive=kind != "dir")
    for split in ("train", "test"):
        ds = datasets.load("imagefolder", split, root=tmp_path, cache_dir=tmp_path / "c", source=source.name)
        np.testing.assert_array_equal(ds.images, arrays[split][0])
        np.testing.assert_array_equal(ds.labels, arrays[split][1])
        assert ds.classes == ["cat", "dog", "emu"] and ds.meta["chosen_classes"] == ds.classes
        assert ds.mean == (0.485, 0.456, 0.406)
    assert ("set.tar" in str(ds.meta["sources"])) == (kind != "dir")


def test_k_classes_by_seed_are_recorded_and_shared_by_splits(tmp_path):
    classes = [f"n{i:03d}" for i in range(12)]
    write_imagefolder(tmp_path / "in.tar", np.random.default_rng(0), classes=classes, splits=(("train", 2), ("val", 1)))
    load = lambda split, seed: datasets.load("imagefolder", split, root=tmp_path, cache_dir=tmp_path / "c",
                                             source="in.tar", classes=4, seed=seed)
    a, b, again = load("train", 0), load("val", 0), load("train", 0)
    other = load("train", 1)
    assert a.classes == b.classes == again.classes == a.meta["chosen_classes"] and len(a.classes) == 4
    assert set(a.classes) <= set(classes) and a.classes == sorted(a.classes) and other.classes != a.classes
    assert a.labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and a.meta["available_classes"] == 12


def test_classes_by_name_and_max_per_class(tmp_path):
    arrays = write_imagefolder(tmp_path / "in.tar", np.random.default_rng(0), splits=(("train", 4),))
    ds = datasets.load("imagefolder", "train", root=tmp_path, cache_dir=tmp_path / "c", source="in.tar",
                       classes=["emu", "cat"], max_per_class=2)
    assert ds.classes == ["cat", "emu"] and ds.labels.tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(ds.images, arrays["train"][0][[0, 1, 8, 9]])


def test_decode_resizes_the_shorter_side_and_keeps_the_centre():
    rng = np.random.default_rng(0)
    wide = rng.integers(0, 256, (3, 8, 12), dtype=np.uint8)           # H=8, W=12
    np.testing.assert_array_equal(decode(encode_image(wide), 8, "x"), wide[:, :, 2:10])
    big = rng.integers(0, 256, (3, 16, 16), dtype=np.uint8)
    expected = Image.fromarray(big.transpose(1, 2, 0)).resize((8, 8), Image.BICUBIC)
    np.testing.assert_array_equal(decode(encode_image(big), 8, "x"), np.asarray(expected).transpose(2, 0, 1))
    grey = Image.new("L", (5, 5), 77)
    buffer = io.BytesIO()
    grey.save(buffer, "PNG")
    assert decode(buffer.getvalue(), None, "x").shape == (3, 5, 5)


def tar_with(path, extra):
    """A valid image-folder .tar plus the members added by extra(tar)."""
    write_imagefolder(path, np.random.default_rng(0), splits=(("train", 1),))
    with tarfile.open(path, "a") as tar:
        extra(tar)


def link(kind, name, target):
    def add(tar):
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, target
        tar.addfile(info)
    return add


def device(tar):
    info = tarfile.TarInfo("train/cat/zero")
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 5
    tar.addfile(info)


def empty_class(tar):
    info = tarfile.TarInfo("train/yak")
    info.type = tarfile.DIRTYPE
    tar.addfile(info)


@pytest.mark.parametrize("extra, message", [
    (lambda tar: add_tar_member(tar, "../escape.png", b"x"), "member '../escape.png' escapes the archive folder"),
    (lambda tar: add_tar_member(tar, "train/../../x.png", b"x"), "escapes the archive folder"),
    (lambda tar: add_tar_member(tar, "/etc/cron.d/x", b"x"), "member '/etc/cron.d/x' escapes the archive folder"),
    (link(tarfile.SYMTYPE, "train/cat/s.png", "/etc/passwd"), "member 'train/cat/s.png' is a link"),
    (link(tarfile.LNKTYPE, "train/cat/h.png", "train/cat/0000.png"), "member 'train/cat/h.png' is a link"),
    (device, "member 'train/cat/zero' is a device"),
    (empty_class, r"class folder\(s\) \['yak'\] in split 'train' hold no"),
    (lambda tar: add_tar_member(tar, "train/dog/broken.jpg", b"\xff\xd8 not really a jpeg"),
     "member train/dog/broken.jpg: not a readable image"),
])
def test_unsafe_or_bad_members_are_refused(tmp_path, leftovers, extra, message):
    tar_with(tmp_path / "in.tar", extra)
    with pytest.raises(datasets.DataError, match=message):
        datasets.load("imagefolder", "train", root=tmp_path, cache_dir=tmp_path / "c", source="in.tar")
    assert leftovers(tmp_path / "c") == []


def test_mixed_sizes_need_a_size(tmp_path):
    small = encode_image(np.zeros((3, 4, 4), np.uint8))
    tar_with(tmp_path / "in.tar", lambda tar: add_tar_member(tar, "train/dog/small.png", small))
    with pytest.raises(datasets.DataError, match="member train/dog/small.png is 4x4 but the first image is 8x8"):
        datasets.load("imagefolder", "train", root=tmp_path, cache_dir=tmp_path / "c", source="in.tar")
    ds = datasets.load("imagefolder", "train", root=tmp_path, cache_dir=tmp_path / "c", source="in.tar", size=6)
    assert ds.images.shape == (4, 3, 6, 6)


def test_missing_split_and_bad_arguments(tmp_path):
    write_imagefolder(tmp_path / "in.tar", np.random.default_rng(0), splits=(("train", 1),))
    args = dict(root=tmp_path, cache_dir=tmp_path / "c", source="in.tar")
    with pytest.raises(datasets.SourceMissing, match="no class folders under a 'val' folder"):
        datasets.load("imagefolder", "val", **args)
    with pytest.raises(ValueError, match=r"classes \['gnu'\] not in"):
        datasets.load("imagefolder", "train", classes=["gnu"], **args)
    with pytest.raises(ValueError, match="classes=4: .* has 3 classes"):
        datasets.load("imagefolder", "train", classes=4, **args)
    with pytest.raises(ValueError, match="size must be a positive integer or None, got 0"):
        datasets.load("imagefolder", "train", size=0, **args)
    with pytest.raises(ValueError, match="imagefolder needs source=PATH"):
        datasets.load("imagefolder", "train", root=tmp_path)
    with pytest.raises(datasets.SourceMissing, match="nothere.tar not found"):
        datasets.load("imagefolder", "train", root=tmp_path, cache_dir=tmp_path / "c", source="nothere.tar")


def test_real_cifar10_jpeg_subset(data_root, tmp_path):
    if not (data_root / "cifar10-jpeg" / "cifar10-jpeg.tar.gz").is_file():
        pytest.skip("real cifar10-jpeg archive not found")
    ds = datasets.load("cifar10-jpeg", "test", root=data_root, cache_dir=tmp_path, max_per_class=3)
    assert ds.images.shape == (30, 3, 32, 32) and ds.labels.tolist() == [c for c in range(10) for _ in range(3)]
    assert ds.classes == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    assert ds.mean == (0.4914, 0.4822, 0.4465) and ds.meta["per_class"] == [3] * 10
    assert 0.3 < np.mean(ds.meta["measured_mean"]) < 0.6 and ds.images.std() > 30


@pytest.mark.parametrize("budget", [0, 300])
def test_files_beyond_the_prefetch_budget_are_read_in_a_second_pass(tmp_path, monkeypatch, budget):
    import datasets.imagefolder
    monkeypatch.setattr(datasets.imagefolder, "PREFETCH_BYTES", budget)     # none, or about one image
    arrays = write_imagefolder(tmp_path / "in.tar.gz", np.random.default_rng(0))
    ds = datasets.load("imagefolder", "train", root=tmp_path, cache_dir=tmp_path / "c", source="in.tar.gz")
    np.testing.assert_array_equal(ds.images, arrays["train"][0])
    np.testing.assert_array_equal(ds.labels, arrays["train"][1])


@pytest.mark.parametrize("suffix", ["tar", "tar.gz", "tar.bz2", "tar.xz"])
def test_archive_cut_at_a_member_boundary_is_truncated_not_short(tmp_path, leftovers, suffix):
    write_imagefolder(tmp_path / "full.tar", np.random.default_rng(0), splits=(("train", 2),))
    with tarfile.open(tmp_path / "full.tar") as tar:
        boundary = tar.getmembers()[3].offset
    cut = (tmp_path / "full.tar").read_bytes()[:boundary]
    compress = {"tar": bytes, "tar.gz": gzip.compress, "tar.bz2": bz2.compress, "tar.xz": lzma.compress}[suffix]
    (tmp_path / f"cut.{suffix}").write_bytes(compress(cut))
    with pytest.raises(datasets.DataError, match=f"cut.{suffix}: the archive does not end with the tar "
                                                 "end-of-archive blocks"):
        datasets.load("imagefolder", "train", root=tmp_path, cache_dir=tmp_path / "c", source=f"cut.{suffix}")
    assert leftovers(tmp_path / "c") == []
    (tmp_path / f"whole.{suffix}").write_bytes(compress((tmp_path / "full.tar").read_bytes()))
    ds = datasets.load("imagefolder", "train", root=tmp_path, cache_dir=tmp_path / "c", source=f"whole.{suffix}")
    assert len(ds) == 6
