"""python -m bnn: train, export, demo and summary end to end on real MNIST subsets; progress output on and off a
terminal. (Errors, the data check and --threads: test_cli_errors.py; signals: tests/reliability/test_kill_resume.py.)"""
import csv
import io

import numpy as np
import pytest

import bnn.__main__ as cli
from bnn import checkpoint
from bnn.__main__ import _config_from_args, main, make_parser
from bnn.export import ExportedModel
from bnn.models import build
from bnn.train import TrainConfig


def test_train_then_export_then_predict(tmp_path, data_root, capsys):
    out = tmp_path / "run"
    main(["train", "--model", "lenet4", "--epochs", "1", "--seed", "2", "--train-subset", "256", "--test-subset",
          "100", "--lr", "0.005", "--out", str(out), "--no-progress", "--data-root", str(data_root)])
    text = capsys.readouterr().out
    assert "final test accuracy" in text and "'lr': 0.005" in text
    assert {"metrics.csv", "checkpoint.h5", "learning_curve.png"} <= {p.name for p in out.iterdir()}
    main(["export", str(out / "checkpoint.h5"), str(tmp_path / "inference.h5")])
    model = build("lenet4", np.random.default_rng(0))
    model.load_state(checkpoint.load(out / "checkpoint.h5").model_state)
    x = np.random.default_rng(1).standard_normal((20, 1, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(ExportedModel(tmp_path / "inference.h5").predict(x), model.predict(x))


def test_demo_and_summary(tmp_path, data_root, capsys, monkeypatch):
    monkeypatch.setattr(cli, "stderr_is_terminal", lambda: False)      # as in a log file
    assert main(["demo", "--out", str(tmp_path / "demo"), "--train-images", "256", "--test-images", "300",
                 "--data-root", str(data_root)]) == 0
    text, err = capsys.readouterr()
    assert text.count("test accuracy") == 4, "one run per demo BER"
    assert [line.split("]")[0] for line in text.splitlines() if " epoch 1/1 " in line] == \
        ["[ber=0.0/rep=0", "[ber=0.01/rep=0", "[ber=0.1/rep=0", "[ber=0.2/rep=0"], "one line per epoch of each run"
    assert "\r" not in text + err, "no progress bar off a terminal"
    assert (tmp_path / "demo" / "ber_accuracy.png").exists() and (tmp_path / "demo" / "results.csv").exists()
    main(["summary", "--model", "lenet4"])
    text = capsys.readouterr().out
    assert "compression" in text
    assert "reference recipe (train): adam lr 0.01, weight decay 1e-05, batch 128, 60 epochs, lr x0.1 every 15 " \
           "epochs" in text
    assert "quick recipe (train --quick): adam lr 0.01, weight decay 1e-05, batch 128, 5 epochs, lr x0.1 every " \
           "1.25 epochs" in text


def test_train_flags_pick_the_quick_recipe_and_win_over_it():
    def config(*flags):
        return _config_from_args(make_parser().parse_args(["train", "--model", "nin", "--out", "x", *flags]))
    assert config() == TrainConfig.recipe("nin")
    assert config("--quick") == TrainConfig.recipe("nin", quick=True)
    assert config("--quick", "--epochs", "5", "--lr", "0.002", "--lr-milestones", "3") == \
        TrainConfig.recipe("nin", quick=True, epochs=5, lr=0.002, lr_milestones=(3,))


def test_train_quick_end_to_end(tmp_path, data_root, capsys):
    """lenet4 --quick: the quick recipe's 5 epochs (the reference has 60), on 128 images."""
    out = tmp_path / "run"
    main(["train", "--model", "lenet4", "--quick", "--train-subset", "128", "--test-subset", "100", "--batch-size",
          "64", "--out", str(out), "--no-progress", "--data-root", str(data_root)])
    assert "the quick (CPU) recipe" in capsys.readouterr().out
    assert [int(row["epoch"]) for row in csv.DictReader(open(out / "metrics.csv"))] == [1, 2, 3, 4, 5]
    assert checkpoint.load(out / "checkpoint.h5").config == TrainConfig.recipe(
        "lenet4", quick=True, train_subset=128, test_subset=100, batch_size=64).to_dict()


# --- progress: bars on a terminal only, one line per epoch always -----------------------------------------------------

def train_two_epochs(tmp_path, data_root, capsys):
    assert main(["train", "--epochs", "2", "--train-subset", "256", "--test-subset", "100", "--out",
                 str(tmp_path / "run"), "--data-root", str(data_root)]) == 0
    out, err = capsys.readouterr()
    return [line for line in out.splitlines() if line.startswith("epoch ")], out, err


def test_off_a_terminal_train_prints_one_line_per_epoch_and_no_bar(tmp_path, data_root, capsys, monkeypatch):
    monkeypatch.setattr(cli, "stderr_is_terminal", lambda: False)
    epochs, out, err = train_two_epochs(tmp_path, data_root, capsys)
    assert [line.split()[1] for line in epochs] == ["1/2", "2/2"] and "run ETA" in epochs[0]
    assert "\r" not in out + err and err == ""


def test_on_a_terminal_train_draws_its_bars_as_well(tmp_path, data_root, capsys, monkeypatch):
    monkeypatch.setattr(cli, "stderr_is_terminal", lambda: True)
    epochs, out, err = train_two_epochs(tmp_path, data_root, capsys)
    assert [line.split()[1] for line in epochs] == ["1/2", "2/2"]
    assert "\r" in err and "epoch 1/2" in err and "epoch 2/2" in err, "tqdm's bar, one per epoch, on stderr"
    assert "\r" not in out


class Stream(io.StringIO):
    def __init__(self, terminal):
        super().__init__()
        self.terminal = terminal

    def isatty(self):
        return self.terminal


@pytest.mark.parametrize("stream, terminal", [(Stream(True), True), (Stream(False), False), (object(), False)])
def test_bars_follow_whether_stderr_is_a_terminal(monkeypatch, stream, terminal):
    monkeypatch.setattr("sys.stderr", stream)
    assert cli.stderr_is_terminal() is terminal
