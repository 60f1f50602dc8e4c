"""Limits: a full disk and a read-only output folder during training, and the numerical edge cases (NaN / inf in
inputs or loss, BatchNorm on a batch of one, zero-variance features), each with its defined behaviour.

Disk full uses a real tmpfs of a few MB where this process may mount one (root, as in CI); otherwise the write that
would fail raises ENOSPC through a patch. Either way training stops with OSError(ENOSPC) naming the file, and the
previous checkpoint stays whole, so `--resume` continues once there is space and ends where an uninterrupted run ends,
best.h5 included (an epoch writes best.h5, when it is the best so far, before checkpoint.h5).
"""
import dataclasses
import errno
import os
import subprocess
import uuid
from contextlib import contextmanager

import h5py
import numpy as np
import pytest

import bnn.train as train_module
from bnn import checkpoint
from bnn.layers import BatchNorm, Sign, softmax_cross_entropy
from bnn.train import TrainConfig, TrainingDiverged, train

SMALL = dict(epochs=2, batch_size=64, train_subset=320, test_subset=100, seed=11)


@pytest.fixture
def config():
    return TrainConfig.recipe("lenet4", **SMALL)


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XNOR_MRAM_CACHE", str(tmp_path / "cache"))


def mount(*args):
    return subprocess.run(["mount", *args], capture_output=True, text=True).returncode == 0


@contextmanager
def tmpfs(folder, size):
    """A tmpfs of `size` bytes mounted on `folder` for the block; skips the test where mounting is not permitted."""
    folder.mkdir(parents=True, exist_ok=True)
    if not mount("-t", "tmpfs", "-o", f"size={size}", f"xnor-{uuid.uuid4().hex[:8]}", str(folder)):
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def checkpoint_bytes(config):
    """Size of one checkpoint file of `config`'s model."""
    model = train_module.build_model(config, np.random.default_rng(0))
    return sum(a.nbytes for a in model.state().values()) + 2 * sum(p.nbytes for p in model.params().values())


def numbers(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def resume_unpatched(config, out, mnist_subset, uninterrupted, monkeypatch, cache):
    """Undo the test's patches, resume the run in `out`, and compare it with the uninterrupted one (best.h5 too)."""
    monkeypatch.undo()
    monkeypatch.setenv("XNOR_MRAM_CACHE", str(cache))
    resumed = train(config, out, resume=True, data_root=mnist_subset, plot=False)
    assert numbers(resumed.history) == numbers(uninterrupted.history)
    assert_same_best(out, uninterrupted)


def assert_same_best(folder, uninterrupted):
    ours, reference = (checkpoint.load(f / "best.h5") for f in (folder, uninterrupted.out_dir))
    assert ours.epoch == reference.epoch and numbers(ours.history) == numbers(reference.history)
    for name, array in reference.model_state.items():
        np.testing.assert_array_equal(ours.model_state[name], array, err_msg=name)


@pytest.fixture
def uninterrupted(config, tmp_path, mnist_subset, private_cache):
    return train(config, tmp_path / "whole", data_root=mnist_subset, plot=False)


def test_disk_full_on_a_real_tmpfs_keeps_the_last_checkpoint(config, tmp_path, mnist_subset, uninterrupted):
    size = checkpoint_bytes(config)
    out = tmp_path / "small"
    # room for epoch 1's two checkpoints (best.h5, checkpoint.h5) and the metrics, not for the temporary copy of the
    # next one beside them: epoch 2 fails writing best.h5 if it is the best epoch, else checkpoint.h5
    with tmpfs(out, int(2.5 * size) + (64 << 10)):
        with pytest.raises(OSError) as raised:
            train(config, out, data_root=mnist_subset, plot=False)
        assert raised.value.errno == errno.ENOSPC or "No space left" in str(raised.value)
        assert checkpoint.load(out / "checkpoint.h5").epoch == 1, "the previous checkpoint is intact"
        assert checkpoint.load(out / "best.h5").epoch == 1
        assert sorted(p.name for p in out.iterdir()) == ["best.h5", "checkpoint.h5", "metrics.csv"], \
            "temporary files left"
        assert mount("-o", f"remount,size={4 * size}", str(out))
        resumed = train(config, out, resume=True, data_root=mnist_subset, plot=False)
        assert numbers(resumed.history) == numbers(uninterrupted.history)
        assert_same_best(out, uninterrupted)


def test_disk_full_simulated_keeps_the_last_checkpoint(config, tmp_path, mnist_subset, uninterrupted, monkeypatch):
    """The disk fills while epoch 2 writes checkpoint.h5 (after its best.h5, if epoch 2 is the best)."""
    real = h5py.Group.create_dataset

    def no_space_in_epoch_2(self, name, *args, **kwargs):
        if os.path.basename(self.file.filename).startswith(".checkpoint.h5.") and saved == [1]:
            raise OSError(errno.ENOSPC, f"No space left on device: {self.file.filename}")
        return real(self, name, *args, **kwargs)

    saved, save = [], checkpoint.save

    def counting_save(path, ckpt):
        save(path, ckpt)
        if path.name == "checkpoint.h5":     # best.h5 is saved through the same function
            saved.append(ckpt.epoch)
    monkeypatch.setattr(h5py.Group, "create_dataset", no_space_in_epoch_2)
    monkeypatch.setattr(train_module.checkpoint, "save", counting_save)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="No space left on device"):
        train(config, out, data_root=mnist_subset, plot=False)
    assert saved == [1] and checkpoint.load(out / "checkpoint.h5").epoch == 1
    assert sorted(p.name for p in out.iterdir()) == ["best.h5", "checkpoint.h5", "metrics.csv"]
    resume_unpatched(config, out, mnist_subset, uninterrupted, monkeypatch, tmp_path / "cache")


def test_disk_full_while_writing_best_h5_redoes_that_epoch_on_resume(config, tmp_path, mnist_subset, uninterrupted,
                                                                     monkeypatch):
    """best.h5 fails at the uninterrupted run's best epoch: checkpoint.h5 still holds the epoch before, so the resumed
    run redoes the best epoch and writes its best.h5 (with checkpoint.h5 written first, best.h5 would stay behind)."""
    best = checkpoint.load(uninterrupted.out_dir / "best.h5").epoch
    save = checkpoint.save

    def no_space_for_the_best(path, ckpt):
        if path.name == "best.h5" and ckpt.epoch == best:
            raise OSError(errno.ENOSPC, f"No space left on device: {path}")
        save(path, ckpt)
    monkeypatch.setattr(train_module.checkpoint, "save", no_space_for_the_best)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="No space left on device"):
        train(config, out, data_root=mnist_subset, plot=False)
    kept = checkpoint.load(out / "checkpoint.h5").epoch if (out / "checkpoint.h5").exists() else 0
    assert kept == best - 1, "checkpoint.h5 holds the epoch before the best one"
    resume_unpatched(config, out, mnist_subset, uninterrupted, monkeypatch, tmp_path / "cache")


def test_read_only_output_folder_keeps_the_last_checkpoint(config, tmp_path, mnist_subset, private_cache,
                                                          monkeypatch):
    """As root, permission bits do not stop writes: the folder is a tmpfs remounted read-only after epoch 1 (once
    its checkpoint.h5, the last of its files, is written)."""
    out = tmp_path / "ro"
    save, kept = checkpoint.save, []

    def save_then_read_only(path, ckpt):
        save(path, ckpt)
        if path.name == "checkpoint.h5":
            kept.append(path.read_bytes())
            assert mount("-o", "remount,ro", str(out))
    monkeypatch.setattr(train_module.checkpoint, "save", save_then_read_only)
    with tmpfs(out, 64 << 20):
        with pytest.raises(OSError) as raised:
            train(config, out, data_root=mnist_subset, plot=False)
        assert raised.value.errno == errno.EROFS and str(out) in str(raised.value)
        assert len(kept) == 1 and (out / "checkpoint.h5").read_bytes() == kept[0]


def test_read_only_output_folder_is_refused_before_training(config, tmp_path, mnist_subset, private_cache):
    out = tmp_path / "ro"
    with tmpfs(out, 1 << 20):
        assert mount("-o", "remount,ro", str(out))
        with pytest.raises(PermissionError, match=f"{out} is not writable"):
            train(config, out, data_root=mnist_subset, plot=False)


# --- numerical edge cases ----------------------------------------------------------------------------------------------

def test_batchnorm_on_a_batch_of_one_outputs_beta_and_passes_no_gradient():
    """Defined behaviour (PyTorch refuses instead): one value per channel has zero variance, so x_hat = 0, the
    output is beta, dx = 0 and dgamma = 0; the running variance moves toward 0 (unbiased factor m/max(m-1, 1) = 1)."""
    bn = BatchNorm(3, spatial=False, eps=1e-4)
    bn.params["bias"][:] = [0.5, -1.0, 2.0]
    out = bn.forward(np.array([[1.0, 2.0, 3.0]], np.float32), training=True)
    np.testing.assert_array_equal(out, [[0.5, -1.0, 2.0]])
    dx = bn.backward(np.array([[1.0, -2.0, 3.0]], np.float32))
    np.testing.assert_array_equal(dx, 0)
    np.testing.assert_array_equal(bn.grads["weight"], 0)
    np.testing.assert_array_equal(bn.grads["bias"], [1.0, -2.0, 3.0])
    np.testing.assert_allclose(bn.buffers["running_mean"], [0.1, 0.2, 0.3], rtol=1e-6)
    np.testing.assert_allclose(bn.buffers["running_var"], 0.9, rtol=1e-6)


def test_batchnorm_zero_variance_channel_is_finite():
    """A constant channel (2d, many values) normalizes to beta; its gradient is the finite limit
    dx = (dout - mean(dout)) / sqrt(eps), since x_hat = 0 there. Other channels are unaffected."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    x[:, 1] = 7.0
    bn = BatchNorm(2, spatial=True, eps=1e-4)
    out = bn.forward(x, training=True)
    np.testing.assert_array_equal(out[:, 1], 0.0)
    assert abs(out[:, 0].mean()) < 1e-5 and abs(out[:, 0].std() - 1) < 1e-3
    dout = rng.standard_normal(x.shape).astype(np.float32)
    dx = bn.backward(dout)
    assert np.isfinite(dx).all()
    np.testing.assert_allclose(dx[:, 1], (dout[:, 1] - dout[:, 1].mean()) / np.sqrt(1e-4), rtol=1e-4, atol=1e-3)


def test_training_with_a_last_batch_of_one(tmp_path, mnist_subset, private_cache):
    """65 images in batches of 64: the last batch holds one image, through BatchNorm1d of the dense block."""
    config = TrainConfig.recipe("lenet4", epochs=1, batch_size=64, train_subset=65, test_subset=100, seed=1)
    result = train(config, tmp_path, data_root=mnist_subset, plot=False)
    assert np.isfinite(result.history[0]["train_loss"])
    assert all(np.isfinite(a).all() for a in checkpoint.load(tmp_path / "checkpoint.h5").model_state.values())


def test_huge_finite_logits_keep_the_loss_finite_infinite_ones_make_it_nan():
    loss, d = softmax_cross_entropy(np.array([[3e38, 0, -3e38]], np.float32), np.array([0]))
    assert loss == 0 and np.isfinite(d).all()
    loss, d = softmax_cross_entropy(np.array([[np.inf, 0, 0]], np.float32), np.array([2]))
    assert np.isnan(loss), "a non-finite loss is what train() checks to stop a diverged run"


def test_sign_binarizes_nan_to_minus_one():
    """NaN >= 0 is False: the sign layer maps NaN to -1 (and so hides it from every later layer)."""
    out = Sign().forward(np.array([np.nan, -np.inf, np.inf, 0.0], np.float32), False)
    np.testing.assert_array_equal(out, [-1, -1, 1, 1])


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_an_infinite_loss_stops_training_and_keeps_the_last_checkpoint(tmp_path, config, mnist_subset,
                                                                      private_cache, monkeypatch, bad):
    real, real_evaluate, calls, testing = train_module.softmax_cross_entropy, train_module.evaluate, [], []

    def bad_in_epoch_2(logits, labels):
        loss, d = real(logits, labels)
        if testing:   # count training batches only: the test pass's batch count depends on the batch size
            return loss, d
        calls.append(1)
        return (bad, d) if len(calls) == 5 + 3 else (loss, d)     # 5 training batches per epoch

    def evaluate(*args, **kwargs):
        testing.append(1)
        try:
            return real_evaluate(*args, **kwargs)
        finally:
            testing.pop()
    monkeypatch.setattr(train_module, "softmax_cross_entropy", bad_in_epoch_2)
    monkeypatch.setattr(train_module, "evaluate", evaluate)
    with pytest.raises(TrainingDiverged, match=rf"loss is {bad} at epoch 2, batch 3 of 5"):
        train(config, tmp_path, data_root=mnist_subset, plot=False)
    assert checkpoint.load(tmp_path / "checkpoint.h5").epoch == 1


def test_a_nan_input_stops_training_before_a_nan_checkpoint(tmp_path, config, mnist_subset, private_cache,
                                                            monkeypatch):
    real = train_module.datasets.batches

    def nan_pixel(dataset, batch_size, rng, **kwargs):
        for i, (x, y) in enumerate(real(dataset, batch_size, rng, **kwargs)):
            if i == 2 and kwargs.get("shuffle", True):
                x = x.copy()
                x[0, 0, 14, 14] = np.nan
            yield x, y
    monkeypatch.setattr(train_module.datasets, "batches", nan_pixel)
    with pytest.raises(TrainingDiverged, match="non-finite values in .* after epoch 1; no checkpoint"):
        train(dataclasses.replace(config, epochs=1), tmp_path, data_root=mnist_subset, plot=False)
    assert not (tmp_path / "checkpoint.h5").exists()
