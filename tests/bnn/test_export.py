"""Export: inference from the exported file alone gives exactly the training model's eval-mode predictions."""
import re

import h5py
import numpy as np
import pytest

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


@pytest.fixture
def exported_file(tmp_path):
    model = build("lenet4", np.random.default_rng(0))
    export_model(model, tmp_path / "lenet4.h5")
    return tmp_path / "lenet4.h5"


def test_a_damaged_export_is_a_valueerror_naming_it_never_read_by_hdf5(exported_file, monkeypatch):
    data = bytearray(exported_file.read_bytes())
    data[len(data) // 2] ^= 1
    exported_file.write_bytes(bytes(data))
    monkeypatch.setattr(h5py, "File", lambda *args, **kwargs: pytest.fail("h5py opened a damaged file"))
    with pytest.raises(ValueError, match=f"^{re.escape(str(exported_file))} is not a readable exported model: its "
                                         f"content does not match the SHA-256 in its header$"):
        ExportedModel(exported_file)


def test_a_checkpoint_is_not_an_exported_model(tmp_path, exported_file):
    from bnn import checkpoint
    ckpt = checkpoint.Checkpoint(epoch=1, model_state={}, optimizer_arrays={}, optimizer_scalars={}, rng_state={},
                                 config={}, history=[])
    checkpoint.save(tmp_path / "checkpoint.h5", ckpt)
    with pytest.raises(ValueError, match="checkpoint.h5 is not a readable exported model: it starts with "
                                         "b'xnor-mram checkpoint, format 2', not 'xnor-mram inference model"):
        ExportedModel(tmp_path / "checkpoint.h5")
    with pytest.raises(ValueError, match="lenet4.h5 is not a readable checkpoint: it starts with "
                                         "b'xnor-mram inference model, format 2', not 'xnor-mram checkpoint"):
        checkpoint.load(exported_file)


def test_an_export_of_format_1_is_refused_saying_to_export_again(tmp_path):
    with h5py.File(tmp_path / "old.h5", "w") as f:
        f.attrs["format"] = "xnor-mram inference model 1"
    with pytest.raises(ValueError, match="old.h5 has no SHA-256 header: an exported model of format 1 .*export it "
                                         "again from its checkpoint"):
        ExportedModel(tmp_path / "old.h5")
