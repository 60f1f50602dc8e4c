"""Model: shape validation, state round trip, summary, and a tiny binarized model that overfits a tiny batch."""
import numpy as np
import pytest

from bnn.layers import (BatchNorm, BinaryConv2d, BinaryDense, Conv2d, Dense, Flatten, MaxPool2d, ReLU, Sign,
                        XnorWeights, softmax_cross_entropy)
from bnn.model import Model
from bnn.models import build
from bnn.optim import Adam


def tiny_model(rng):
    weights = XnorWeights(scale_by_fan_in=True)
    return Model([
        ("conv1", Conv2d(1, 8, 3, rng, padding=1)),
        ("bn1", BatchNorm(8, spatial=True, affine=False)),
        ("relu1", ReLU()),
        ("pool1", MaxPool2d(2)),
        ("bn2", BatchNorm(8, spatial=True, min_weight=0.01)),
        ("sign2", Sign()),
        ("conv2", BinaryConv2d(8, 16, 3, rng, weights, padding=1)),
        ("relu2", ReLU()),
        ("bn3", BatchNorm(16, spatial=True, min_weight=0.01)),
        ("sign3", Sign()),
        ("flatten", Flatten()),
        ("fc3", BinaryDense(16 * 4 * 4, 32, rng, weights)),
        ("relu3", ReLU()),
        ("fc4", Dense(32, 4, rng)),
    ], input_shape=(1, 8, 8))


def test_tiny_binarized_model_overfits_a_tiny_batch():
    rng = np.random.default_rng(0)
    model = tiny_model(rng)
    x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 4, 32)
    optimizer = Adam(model.params(), lr=0.01)
    model.constrain()
    first = None
    for _ in range(150):
        loss, dlogits = softmax_cross_entropy(model.forward(x), y)
        first = loss if first is None else first
        model.backward(dlogits)
        optimizer.step(model.grads())
        model.constrain()
    assert first > 1.0
    assert loss < 0.05, f"loss fell only from {first:.3f} to {loss:.3f}"
    assert (model.predict(x).argmax(axis=1) == y).mean() == 1.0


def test_lenet4_shapes_and_summary():
    model = build("lenet4", np.random.default_rng(0))
    assert model.output_shapes(batch=2)[-1] == (2, 10)
    assert model.layers[0].needs_input_grad is False
    text = model.summary()
    assert "conv2" in text and "1,600,000" in text and "400,000" in text   # binary MACs of conv2 and fc3
    assert "compression" in text
    assert len(model.binary_layers()) == 2


def test_model_names_the_layer_that_rejects_an_input():
    model = build("lenet4", np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"conv1 \(1 -> 20 5x5\): expected input of shape \(N, 1, H, W\), "
                                         r"got \(2, 3, 28, 28\)"):
        model.forward(np.zeros((2, 3, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"fc3 \(800 -> 500\): expected input of shape \(N, 800\), got \(1, 1250\)"):
        Model([(n, l) for n, l in zip([l.name for l in model.layers], model.layers)], input_shape=(1, 32, 32))


def test_state_round_trip_and_mismatch():
    a, b = build("lenet4", np.random.default_rng(0)), build("lenet4", np.random.default_rng(1))
    b.load_state(a.state())
    x = np.random.default_rng(2).standard_normal((4, 1, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    state = a.state()
    state["fc4.weight"] = state["fc4.weight"][:5]
    with pytest.raises(ValueError, match=r"fc4.weight"):
        b.load_state(state)
