"""Optimizers against their defining formulas (PyTorch's), and learning-rate schedules."""
import math

import numpy as np
import pytest

from bnn.optim import SGD, Adam, learning_rate, make_optimizer


def test_adam_matches_the_reference_formula():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(3)]
    params = {"w": w0.copy()}
    opt = Adam(params, lr=0.01, weight_decay=1e-2)
    for g in grads:
        opt.step({"w": g})
    w, m, v = w0.copy(), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads, 1):
        g = g + 1e-2 * w
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(params["w"], w, rtol=1e-12)


def test_sgd_momentum_and_weight_decay():
    params = {"w": np.array([1.0, -2.0])}
    opt = SGD(params, lr=0.1, momentum=0.9, weight_decay=0.5)
    opt.step({"w": np.array([1.0, 1.0])})      # g = [1.5, 0], buf = g
    np.testing.assert_allclose(params["w"], [0.85, -2.0])
    opt.step({"w": np.array([0.0, 0.0])})      # g = [0.425, -1], buf = 0.9*[1.5, 0] + g
    np.testing.assert_allclose(params["w"], [0.85 - 0.1 * (1.35 + 0.425), -2.0 + 0.1])


def test_optimizer_state_round_trip():
    params = {"w": np.ones(3)}
    opt = Adam(params, lr=0.1)
    opt.step({"w": np.array([1.0, 2.0, 3.0])})
    arrays, scalars = opt.state_dict()
    other = Adam({"w": np.ones(3)}, lr=0.1)
    other.load_state_dict({k: {n: a.copy() for n, a in v.items()} for k, v in arrays.items()}, dict(scalars))
    assert other.t == 1
    np.testing.assert_array_equal(other.m["w"], opt.m["w"])
    with pytest.raises(ValueError, match="missing"):
        Adam({"w": np.ones(3), "b": np.ones(1)}, lr=0.1).load_state_dict(arrays, scalars)


def test_schedules():
    assert [learning_rate(e, 0.01, "step", 15) for e in (0, 14, 15, 44, 45)] == pytest.approx(
        [0.01, 0.01, 0.001, 0.0001, 0.00001])
    assert [learning_rate(e, 1.0, "step", 1.25) for e in range(5)] == pytest.approx([1, 1, 0.1, 0.01, 0.001])
    assert [learning_rate(e, 1.0, "multistep", milestones=(2, 4)) for e in range(5)] == pytest.approx(
        [1, 1, 0.1, 0.1, 0.01])
    assert learning_rate(7, 0.5) == 0.5
    with pytest.raises(ValueError, match="'cosine'"):
        learning_rate(0, 0.1, "cosine")
    with pytest.raises(ValueError, match="'rmsprop'"):
        make_optimizer("rmsprop", {}, 0.1)
    assert math.isclose(learning_rate(30, 0.01, "step", 15), 1e-4)
