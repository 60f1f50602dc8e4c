"""python -m bnn: train, export, demo and summary end to end on real MNIST subsets."""
import numpy as np

from bnn import checkpoint
from bnn.__main__ import main
from bnn.export import ExportedModel
from bnn.models import build


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
    assert "compression" in capsys.readouterr().out
