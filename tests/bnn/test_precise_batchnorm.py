"""precise_batchnorm: BatchNorm statistics averaged over a pass of a dataset, with or without the bit errors."""
import numpy as np

import datasets
from bnn.errors import ErrorConfig
from bnn.layers import BatchNorm, BinaryDense, Flatten, Sign, XnorWeights
from bnn.model import Model
from bnn.train import attach_errors, precise_batchnorm


def small_model(seed):
    rng = np.random.default_rng(seed)
    return Model([
        ("bn1", BatchNorm(2, spatial=True)),
        ("sign1", Sign()),
        ("flatten", Flatten()),
        ("fc1", BinaryDense(2 * 4 * 4, 16, rng, XnorWeights())),
        ("bn2", BatchNorm(16, spatial=False)),
    ], input_shape=(2, 4, 4))


def small_dataset(n=96):
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (n, 2, 4, 4), dtype=np.uint8)
    return datasets.Dataset(name="toy", split="train", images=images, labels=rng.integers(0, 3, n),
                            classes=["a", "b", "c"],
                            mean=(0.5, 0.4), std=(0.25, 0.2))


def test_statistics_are_the_mean_of_the_batch_statistics():
    model, ds = small_model(0), small_dataset()
    precise_batchnorm(model, ds, 32, np.random.default_rng(3))
    batches = [x for x, _ in datasets.batches(ds, 32, np.random.default_rng(3))]     # the same shuffle
    means = [x.mean(axis=(0, 2, 3)) for x in batches]
    variances = [x.var(axis=(0, 2, 3), ddof=1) for x in batches]
    bn1 = model.layers[0]
    np.testing.assert_allclose(bn1.buffers["running_mean"], np.mean(means, axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn1.buffers["running_var"], np.mean(variances, axis=0), rtol=1e-5)
    assert bn1.momentum == BatchNorm(2, spatial=True).momentum    # restored


def test_test_input_ignores_the_bit_errors_and_training_input_sees_them():
    ds = small_dataset()
    stats = {}
    for name, ber, training_input in (("clean", 0.0, True), ("errors, test input", 0.3, False),
                                      ("errors, training input", 0.3, True)):
        model = small_model(0)
        attach_errors(model, ErrorConfig(ber=ber), 0, np.random.default_rng(1))
        precise_batchnorm(model, ds, 32, np.random.default_rng(3), training_input=training_input)
        bn2 = model.layers[-1].buffers
        stats[name] = bn2["running_mean"].copy(), bn2["running_var"].copy()
    np.testing.assert_allclose(stats["errors, test input"][0], stats["clean"][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats["errors, test input"][1], stats["clean"][1], rtol=1e-5, atol=1e-6)
    # Flips at BER 0.3 shrink the binary layer's output toward 0 by about (1 - 2 * 0.3) and add variance.
    assert not np.allclose(stats["errors, training input"][0], stats["clean"][0], rtol=0.05)
