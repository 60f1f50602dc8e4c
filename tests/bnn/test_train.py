"""Training on real MNIST (small subsets): outputs, checkpoint round trip, resume == uninterrupted, NaN stops."""
import csv
import dataclasses
import os
import re
import signal

import h5py
import numpy as np
import pytest

import bnn.train as train_module
from bnn import checkpoint, interrupt
from bnn.errors import ErrorConfig
from bnn.train import METRIC_COLUMNS, TrainConfig, TrainingDiverged, train

SMALL = dict(epochs=2, train_subset=384, test_subset=100)


@pytest.fixture
def config():
    return TrainConfig.recipe("lenet4", seed=3, **SMALL)


def test_recipe_scales_the_schedule_and_round_trips_through_json():
    full = TrainConfig.recipe("lenet4")
    assert (full.epochs, full.lr_step, full.optimizer, full.lr, full.batch_size) == (60, 15, "adam", 0.01, 128)
    short = TrainConfig.recipe("lenet4", epochs=5, errors=ErrorConfig(ber=0.01, schedule=((2, 0.1),)))
    assert short.lr_step == pytest.approx(1.25)
    assert TrainConfig.from_dict(short.to_dict()) == short
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        TrainConfig(epochs=0)


def test_train_writes_metrics_checkpoint_and_plot(tmp_path, config, data_root):
    result = train(config, tmp_path, data_root=data_root)
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert tuple(rows[0]) == METRIC_COLUMNS and [int(r["epoch"]) for r in rows] == [1, 2]
    assert all(0 <= float(r["test_accuracy"]) <= 1 for r in rows)
    assert result.final_test_accuracy == float(rows[-1]["test_accuracy"]) > 0.5   # well above chance (0.1)
    assert (tmp_path / "learning_curve.png").stat().st_size > 1000
    ckpt = checkpoint.load(tmp_path / "checkpoint.h5")
    assert ckpt.epoch == 2 and ckpt.config == config.to_dict() and ckpt.history == result.history
    with pytest.raises(FileExistsError, match="resume"):
        train(config, tmp_path, data_root=data_root)


def test_the_best_epoch_keeps_its_own_checkpoint(tmp_path, data_root):
    """best.h5 holds the first epoch of the highest test accuracy; checkpoint.h5 stays the last epoch."""
    # the lr jumps x100 for the last epoch, which wrecks the network: the best epoch is the third
    config = TrainConfig.recipe("lenet4", seed=1, epochs=4, lr_schedule="multistep", lr_milestones=(3,),
                                lr_gamma=100.0, train_subset=256, test_subset=100)
    result = train(config, tmp_path, data_root=data_root, plot=False)
    accuracies = [row["test_accuracy"] for row in result.history]
    best = checkpoint.load(tmp_path / "best.h5")
    assert best.epoch == 1 + int(np.argmax(accuracies)) == 3, accuracies
    assert best.history == result.history[:best.epoch]
    assert checkpoint.load(tmp_path / "checkpoint.h5").epoch == 4


def test_checkpoint_round_trip(tmp_path):
    rng = np.random.default_rng(5)
    ckpt = checkpoint.Checkpoint(epoch=3, model_state={"a.weight": rng.standard_normal((2, 3)).astype(np.float32)},
                                 optimizer_arrays={"m": {"a.weight": np.ones((2, 3))}},
                                 optimizer_scalars={"t": 7}, rng_state=rng.bit_generator.state,
                                 config={"model": "x"}, history=[{"epoch": 1, "test_accuracy": 0.5}])
    checkpoint.save(tmp_path / "c.h5", ckpt)
    back = checkpoint.load(tmp_path / "c.h5")
    np.testing.assert_array_equal(back.model_state["a.weight"], ckpt.model_state["a.weight"])
    np.testing.assert_array_equal(back.optimizer_arrays["m"]["a.weight"], 1)
    assert (back.epoch, back.optimizer_scalars, back.rng_state, back.config, back.history) == (
        3, {"t": 7}, ckpt.rng_state, {"model": "x"}, ckpt.history)
    assert [p.name for p in tmp_path.iterdir()] == ["c.h5"]   # no temp files left behind
    assert (tmp_path / "c.h5").read_bytes().startswith(b"xnor-mram checkpoint, format 2\nsha256 of the rest: ")


def test_atomic_writes_remove_the_temp_files_of_killed_writers(tmp_path):
    import subprocess
    import sys
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)   # that process has exited: its temp file is stale
    target = tmp_path / "checkpoint.h5"
    stale = tmp_path / f".checkpoint.h5.{dead_pid}.123.tmp"
    live = tmp_path / f".checkpoint.h5.{os.getpid()}.456.tmp"   # a live writer's (this process): kept
    other = tmp_path / ".metrics.csv.1.1.tmp"                   # another file's temp: not ours to judge
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    checkpoint.write_atomic(target, lambda tmp: tmp.write_bytes(b"whole"))
    assert target.read_bytes() == b"whole"
    assert not stale.exists() and live.exists() and other.exists()


def test_resume_from_a_checkpoint_of_format_1_says_to_start_over(tmp_path, config):
    """Format 1 had no SHA-256 header; opening it unverified would risk a hang in libhdf5, so it is refused."""
    with h5py.File(tmp_path / "checkpoint.h5", "w", libver="latest") as f:
        f.attrs["format"] = np.bytes_(b"xnor-mram checkpoint 1")
        f.create_dataset("model/fc.weight", data=np.zeros((2, 2), np.float32))
    path = re.escape(str(tmp_path / "checkpoint.h5"))
    with pytest.raises(ValueError, match=f"^{path} has no SHA-256 header: a checkpoint of format 1 .*start the run "
                                         f"over in a new folder, or finish it with the version that wrote it$"):
        train(config, tmp_path, resume=True)


def test_resume_equals_uninterrupted(tmp_path, config, data_root, monkeypatch):
    whole = train(config, tmp_path / "whole", data_root=data_root, plot=False)

    real_evaluate, calls = train_module.evaluate, []

    def killed_in_epoch_2(model, dataset, batch_size=1000):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt   # the run dies after training epoch 2, before its checkpoint
        return real_evaluate(model, dataset, batch_size)

    monkeypatch.setattr(train_module, "evaluate", killed_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "resumed", data_root=data_root, plot=False)
    assert checkpoint.load(tmp_path / "resumed" / "checkpoint.h5").epoch == 1
    monkeypatch.setattr(train_module, "evaluate", real_evaluate)
    resumed = train(config, tmp_path / "resumed", resume=True, data_root=data_root, plot=False)

    def numbers(history):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in history]

    assert numbers(resumed.history) == numbers(whole.history)
    a, b = (checkpoint.load(tmp_path / d / "checkpoint.h5") for d in ("whole", "resumed"))
    for name, array in a.model_state.items():
        np.testing.assert_array_equal(b.model_state[name], array, err_msg=name)
    assert a.rng_state == b.rng_state


def test_resume_refuses_another_config(tmp_path, config, data_root):
    train(dataclasses.replace(config, epochs=1), tmp_path, data_root=data_root, plot=False)
    with pytest.raises(ValueError, match="another config"):
        train(dataclasses.replace(config, epochs=1, seed=4), tmp_path, resume=True, data_root=data_root)


def test_nan_loss_stops_naming_epoch_and_batch(tmp_path, config, data_root, monkeypatch):
    real_loss, calls = train_module.softmax_cross_entropy, []

    def nan_in_epoch_2_batch_2(logits, labels):
        loss, d = real_loss(logits, labels)
        calls.append(1)
        return (float("nan"), d) if len(calls) == 3 + 1 + 2 else (loss, d)   # 3 training + 1 test batch per epoch

    monkeypatch.setattr(train_module, "softmax_cross_entropy", nan_in_epoch_2_batch_2)
    with pytest.raises(TrainingDiverged, match=r"loss is nan at epoch 2, batch 2 of 3 .*last good checkpoint "
                                               r"\(epoch 1\)"):
        train(config, tmp_path, data_root=data_root)
    assert checkpoint.load(tmp_path / "checkpoint.h5").epoch == 1


def test_bit_errors_reach_the_binary_layers(tmp_path, data_root):
    config = TrainConfig.recipe("lenet4", seed=3, epochs=1, train_subset=128, test_subset=100,
                                errors=ErrorConfig(ber=0.1))
    clean = train(dataclasses.replace(config, errors=ErrorConfig()), tmp_path / "clean", data_root=data_root,
                  plot=False)
    noisy = train(config, tmp_path / "noisy", data_root=data_root, plot=False)
    assert noisy.history[0]["train_loss"] != clean.history[0]["train_loss"]


def test_attach_errors_installs_the_configured_models():
    from bnn.layers import Sign
    from bnn.models import build
    from bnn.train import attach_errors
    model = build("lenet4", np.random.default_rng(0))
    rng = np.random.default_rng(1)
    attach_errors(model, ErrorConfig(schedule=((1, 0.2),)), 0, rng)
    assert all(layer.activation_errors is None and layer.weight_errors is None for layer in model.binary_layers())
    attach_errors(model, ErrorConfig(schedule=((1, 0.2),), weights=True, rounding="stochastic"), 1, rng)
    for layer in model.binary_layers():
        assert layer.activation_errors.p_pos_to_neg == layer.activation_errors.p_neg_to_pos == 0.2
        assert layer.weight_errors is layer.activation_errors
    signs = [layer for layer in model.layers if isinstance(layer, Sign)]
    out = signs[0].forward(np.zeros((1000,), np.float32), True)   # stochastic rounding of 0: a fair coin
    assert set(np.unique(out)) == {-1, 1} and abs(out.mean()) < 0.15   # 4.7 standard deviations
    np.testing.assert_array_equal(signs[0].forward(np.zeros(3, np.float32), False), 1)   # eval: deterministic


def test_quick_recipe_is_the_models_cpu_recipe_and_overrides_still_win():
    from bnn.models import DATASETS, QUICK_RECIPES
    for model in ("lenet4", "nin", "alexnet"):
        quick = TrainConfig.recipe(model, quick=True)
        assert quick == TrainConfig(**QUICK_RECIPES[model], model=model, dataset=DATASETS[model]), model
        assert quick.epochs < TrainConfig.recipe(model).epochs, model
    nin = TrainConfig.recipe("nin", quick=True)
    assert (nin.epochs, nin.lr_milestones, nin.lr, nin.batch_size) == (10, (2, 4, 6, 8), 0.01, 128)
    assert TrainConfig.recipe("lenet4", quick=True) == TrainConfig.recipe("lenet4", epochs=5)   # the reference, scaled
    # epochs scale the quick recipe's schedule (as they scale the reference's); other overrides replace fields
    short = TrainConfig.recipe("nin", quick=True, epochs=5, lr=0.002, batch_size=64)
    assert (short.epochs, short.lr_milestones, short.lr, short.batch_size) == (5, (1, 2, 3, 4), 0.002, 64)
    assert TrainConfig.recipe("alexnet", quick=True, lr_step=2).lr_step == 2
    with pytest.raises(ValueError, match="quick must be true or false, got 1"):
        TrainConfig.recipe("nin", quick=1)


# --- SIGTERM / SIGINT: stop after the batch, keep the last checkpoint ---------------------------------------------------

def signal_at(monkeypatch, events, signum=signal.SIGTERM):
    """The loss evaluations (training or test batches; 3 + 1 per epoch of `config`) numbered in `events` send this
    process `signum` before they compute; returns the list that counts them."""
    real, calls = train_module.softmax_cross_entropy, []

    def signalled(logits, labels):
        calls.append(1)
        for _ in range(events.count(len(calls))):
            os.kill(os.getpid(), signum)
        return real(logits, labels)
    monkeypatch.setattr(train_module, "softmax_cross_entropy", signalled)
    return calls


def test_a_signal_stops_after_the_batch_and_resume_equals_uninterrupted(tmp_path, config, data_root, monkeypatch):
    whole = train(config, tmp_path / "whole", data_root=data_root, plot=False)
    out = tmp_path / "stopped"
    calls = signal_at(monkeypatch, [6])                      # epoch 2, training batch 2
    with interrupt.stop_on_signals(), pytest.raises(interrupt.Interrupted) as raised:
        train(config, out, data_root=data_root, plot=False)
    assert len(calls) == 6, "the batch in progress ends, no other starts"
    assert (raised.value.signum, raised.value.exit_status) == (signal.SIGTERM, 143)
    assert str(raised.value) == f"stopped by SIGTERM during epoch 2 of 2 in {out}: that epoch is dropped; the last " \
                                f"good checkpoint (epoch 1) is {out / 'checkpoint.h5'}"
    assert checkpoint.load(out / "checkpoint.h5").epoch == 1 and interrupt.requested() is None
    monkeypatch.undo()
    resumed = train(config, out, resume=True, data_root=data_root, plot=False)
    assert [dict(r, seconds=0) for r in resumed.history] == [dict(r, seconds=0) for r in whole.history]
    a, b = (checkpoint.load(folder / "checkpoint.h5") for folder in (tmp_path / "whole", out))
    for name, array in a.model_state.items():
        np.testing.assert_array_equal(b.model_state[name], array, err_msg=name)
    assert a.rng_state == b.rng_state


def test_a_signal_during_the_test_pass_drops_the_epoch(tmp_path, config, data_root, monkeypatch):
    calls = signal_at(monkeypatch, [4], signal.SIGINT)      # epoch 1's test batch
    with interrupt.stop_on_signals(), pytest.raises(interrupt.Interrupted) as raised:
        train(config, tmp_path, data_root=data_root, plot=False)
    assert len(calls) == 4 and raised.value.exit_status == 130
    assert str(raised.value) == f"stopped by SIGINT during epoch 1 of 2 in {tmp_path}: that epoch is dropped; no " \
                                f"checkpoint was written yet"
    assert list(tmp_path.iterdir()) == []


def test_a_second_signal_stops_at_once(tmp_path, config, data_root, monkeypatch):
    calls = signal_at(monkeypatch, [2, 2])
    with interrupt.stop_on_signals(), pytest.raises(interrupt.Interrupted, match="^stopped by SIGTERM at once"):
        train(config, tmp_path, data_root=data_root, plot=False)
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []
