"""Export: inference from the exported file alone gives exactly the training model's eval-mode predictions."""
import h5py
import numpy as np

from bnn.export import ExportedModel, export_model
from bnn.layers import softmax_cross_entropy
from bnn.models import build
from bnn.optim import Adam


def test_exported_lenet4_predicts_exactly_like_the_model(tmp_path):
    rng = np.random.default_rng(0)
    model = build("lenet4", rng)
    model.constrain()
    optimizer = Adam(model.params(), lr=0.01)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    for _ in range(3):   # move BN statistics and weights away from their initial values
        _, d = softmax_cross_entropy(model.forward(x), y)
        model.backward(d)
        optimizer.step(model.grads())
        model.constrain()
    export_model(model, tmp_path / "lenet4.h5")
    exported = ExportedModel(tmp_path / "lenet4.h5")
    np.testing.assert_array_equal(exported.predict(x), model.predict(x))   # same batches: BLAS may round by shape
    np.testing.assert_allclose(exported.predict(x, batch_size=50), model.predict(x), rtol=1e-5, atol=1e-5)
    with h5py.File(tmp_path / "lenet4.h5") as f:
        conv2 = next(g for name, g in f.items() if name.endswith("_conv2"))
        assert conv2["weight_bits"].dtype == np.uint64 and conv2["weight_bits"].shape == (50, 5, 5, 1)
        assert "weight" not in conv2   # no latent float weights
