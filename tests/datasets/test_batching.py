"""The batch iterator: every image once per epoch, seeded, normalized, augmented as documented."""
import numpy as np
import pytest

import datasets
from datasets import Dataset, batches, crop_flip, normalize


def toy(n=37, channels=3, size=8, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, channels, size, size), dtype=np.uint8)
    return Dataset("toy", "train", images, np.arange(n, dtype=np.int64), [str(i) for i in range(n)],
                   tuple(rng.uniform(0.3, 0.6, channels)), tuple(rng.uniform(0.2, 0.3, channels)))


def test_one_epoch_visits_every_image_once_in_shuffled_order():
    ds = toy()
    out = list(batches(ds, 10, np.random.default_rng(1)))
    assert [len(y) for _, y in out] == [10, 10, 10, 7]
    seen = np.concatenate([y for _, y in out])
    assert sorted(seen.tolist()) == list(range(37)) and seen.tolist() != list(range(37))
    for x, y in out:
        assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (len(y), 3, 8, 8)
        np.testing.assert_allclose(x, normalize(ds.images[y], ds.mean, ds.std))


def test_same_seed_same_batches_and_drop_last():
    ds = toy()
    a = list(batches(ds, 8, np.random.default_rng(5), augment=True, drop_last=True))
    b = list(batches(ds, 8, np.random.default_rng(5), augment=True, drop_last=True))
    assert len(a) == 4
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_no_shuffle_keeps_order():
    y = np.concatenate([y for _, y in batches(toy(), 16, np.random.default_rng(0), shuffle=False)])
    assert y.tolist() == list(range(37))


def test_normalize_matches_float64_formula():
    ds = toy()
    x = normalize(ds.images, ds.mean, ds.std)
    mean, std = np.array(ds.mean)[:, None, None], np.array(ds.std)[:, None, None]
    np.testing.assert_allclose(x, (ds.images / 255.0 - mean) / std, rtol=1e-6, atol=1e-6)


def test_crop_flip_is_a_crop_of_the_zero_padded_image():
    images = toy(n=200).images
    out = crop_flip(images, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    dy, dx, flip = rng.integers(0, 9, 200), rng.integers(0, 9, 200), rng.random(200) < 0.5
    padded = np.pad(images, ((0, 0), (0, 0), (4, 4), (4, 4)))
    for i in range(200):
        crop = padded[i, :, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8]
        np.testing.assert_array_equal(out[i], crop[:, :, ::-1] if flip[i] else crop)
    # All 9 x 9 offsets and both flips occur; unshifted unflipped copies are a minority.
    assert len(set(zip(dy, dx))) > 60 and 70 < flip.sum() < 130


def test_on_disk_view_gives_the_same_batches(fake_mnist, monkeypatch):
    root, cache_dir, _ = fake_mnist
    with pytest.warns(UserWarning):
        memory = datasets.load("mnist", "train", root=root, cache_dir=cache_dir)
    lazy = datasets.load("mnist", "train", root=root, cache_dir=cache_dir, in_memory=False)
    monkeypatch.setattr(datasets.batching, "READ_BYTES", 3 * 7 * 784)   # several reads per epoch
    a = list(batches(memory, 7, np.random.default_rng(2), augment=True))
    b = list(batches(lazy, 7, np.random.default_rng(2), augment=True))
    assert len(a) == len(b) == 8
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(batch_size=0), ValueError, "batch_size must be a positive integer, got 0"),
    (dict(batch_size=2.5), ValueError, "batch_size must be a positive integer, got 2.5"),
    (dict(rng=np.random.RandomState(0)), TypeError, "rng must be a numpy.random.Generator, got RandomState"),
])
def test_bad_arguments_are_refused_at_call_time(kwargs, error, message):
    args = dict(batch_size=4, rng=np.random.default_rng(0)) | kwargs
    with pytest.raises(error, match=message):
        batches(toy(), **args)


def test_read_rows_matches_numpy_indexing_across_chunks_in_any_order(tmp_path):
    import h5py
    from datasets.batching import read_rows
    data = np.random.default_rng(0).integers(0, 256, (1000, 1, 3, 3), dtype=np.uint8)
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f.create_dataset("images", data=data, chunks=(7, 1, 3, 3))
        for index in ([0], [7, 6], [999], [3, 500, 4], np.random.default_rng(1).choice(1000, 300, replace=False)):
            np.testing.assert_array_equal(read_rows(f["images"], np.asarray(index)), data[index])
