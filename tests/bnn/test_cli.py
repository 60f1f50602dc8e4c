"""python -m bnn: train, export, demo and summary end to end on real MNIST subsets."""
import csv

import numpy as np

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


def test_demo_and_summary(tmp_path, data_root, capsys):
    main(["demo", "--out", str(tmp_path / "demo"), "--train-images", "256", "--test-images", "300", "--data-root", str(data_root)])
    text = capsys.readouterr().out
    assert text.count("test accuracy") == 4, "one run per demo BER"
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
