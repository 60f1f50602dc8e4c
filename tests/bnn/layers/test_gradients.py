"""Every float layer's backward pass against float64 finite differences (input and every parameter)."""
import numpy as np
import pytest

from bnn.layers import (AvgPool2d, BatchNorm, Conv2d, Dense, Dropout, Flatten, MaxPool2d, ReLU, Sign,
                        softmax_cross_entropy)
from bnn.layers.activation import sign_backward


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("n,d,m", [(1, 3, 2), (4, 7, 5)])
def test_dense(gradcheck, rng, n, d, m):
    layer = Dense(d, m, rng, weight_std=0.5)
    layer.params["bias"] = rng.standard_normal(m).astype(np.float32)
    gradcheck(layer, rng.standard_normal((n, d)), rng)


@pytest.mark.parametrize("c,o,k,stride,padding,hw", [(1, 2, 3, 1, 0, 5), (3, 4, 3, 2, 1, 6), (2, 3, (2, 3), 1, 2, 4)])
def test_conv2d(gradcheck, rng, c, o, k, stride, padding, hw):
    layer = Conv2d(c, o, k, rng, stride=stride, padding=padding, weight_std=0.5)
    layer.params["bias"] = rng.standard_normal(o).astype(np.float32)
    gradcheck(layer, rng.standard_normal((2, c, hw, hw + 1)), rng)


def test_conv2d_matches_direct_convolution(rng):
    layer = Conv2d(3, 2, 3, rng, stride=2, padding=1)
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    out = layer.forward(x, True)
    w, b = layer.params["weight"], layer.params["bias"]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros_like(out)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = xp[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
            ref[:, :, i, j] = np.einsum("nchw,ochw->no", window, w) + b
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape,spatial", [((6, 4), False), ((3, 2, 3, 4), True)])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_training(gradcheck, rng, shape, spatial, affine):
    layer = BatchNorm(shape[1], spatial=spatial, affine=affine, eps=1e-4)
    if affine:
        layer.params["weight"] = rng.uniform(0.5, 2, shape[1]).astype(np.float32)
        layer.params["bias"] = rng.standard_normal(shape[1]).astype(np.float32)
    gradcheck(layer, 3 + 2 * rng.standard_normal(shape), rng)


def test_batchnorm_eval_and_running_statistics(rng):
    layer = BatchNorm(3, spatial=True, momentum=0.1)
    x = (5 + 2 * rng.standard_normal((4, 3, 5, 5))).astype(np.float32)
    out = layer.forward(x, True)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-3)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)   # running var is unbiased, as PyTorch
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.buffers["running_var"], 0.9 + 0.1 * var, rtol=1e-5)
    out_eval = layer.forward(x, False)
    rm, rv = layer.buffers["running_mean"], layer.buffers["running_var"]
    np.testing.assert_allclose(out_eval, (x - rm[:, None, None]) / np.sqrt(rv[:, None, None] + 1e-5), rtol=1e-4,
                               atol=1e-5)


def test_batchnorm_clamps_weight():
    layer = BatchNorm(3, spatial=False, min_weight=0.01)
    layer.params["weight"][:] = [-1, 0.005, 2]
    layer.constrain()
    np.testing.assert_array_equal(layer.params["weight"], np.float32([0.01, 0.01, 2]))


def test_relu(gradcheck, rng):
    x = rng.standard_normal((3, 4))
    x[np.abs(x) < 1e-3] = 0.5   # keep finite differences away from the kink
    gradcheck(ReLU(), x, rng)


@pytest.mark.parametrize("layer_factory,hw", [
    (lambda: MaxPool2d(2), 4), (lambda: MaxPool2d(3, 2, 1), 7), (lambda: MaxPool2d(3, 1), 5),
    (lambda: AvgPool2d(2), 4), (lambda: AvgPool2d(3, 2, 1), 7), (lambda: AvgPool2d(None), 5)])
def test_pools(gradcheck, rng, layer_factory, hw):
    gradcheck(layer_factory(), rng.standard_normal((2, 3, hw, hw)), rng)


def test_maxpool_sends_a_tie_to_one_input():
    layer = MaxPool2d(2)
    x = np.zeros((1, 1, 2, 2), np.float32)
    out = layer.forward(x, True)
    dx = layer.backward(np.ones_like(out))
    assert dx.sum() == 1 and dx[0, 0, 0, 0] == 1


def test_pool_values(rng):
    x = rng.standard_normal((2, 3, 7, 7)).astype(np.float32)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    out = MaxPool2d(3, 2, 1).forward(x, True)
    ref = np.array([[[[xp[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max() for j in range(4)] for i in range(4)]
                     for c in range(3)] for n in range(2)])
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_allclose(AvgPool2d(None).forward(x, True)[..., 0, 0], x.mean(axis=(2, 3)), rtol=1e-5)


def test_dropout(gradcheck, rng):
    layer = Dropout(0.3, np.random.default_rng(0))

    def same_mask(layer):
        layer.rng = np.random.default_rng(0)

    gradcheck(layer, rng.standard_normal((5, 6)), rng, before_forward=same_mask)
    x = np.ones((200, 100), np.float32)
    out = Dropout(0.3, np.random.default_rng(1)).forward(x, True)
    assert abs((out == 0).mean() - 0.3) < 0.01            # 20,000 draws: 4.6 standard deviations
    assert set(np.unique(out)) == {0, np.float32(1 / 0.7)}
    np.testing.assert_array_equal(Dropout(0.3, rng).forward(x, False), x)


def test_flatten(gradcheck, rng):
    gradcheck(Flatten(), rng.standard_normal((2, 3, 2, 2)), rng)


def test_sign_forward_and_straight_through_estimator(rng):
    x = np.array([-2, -1, -0.5, 0, 0.5, 1, 2], np.float32)
    layer = Sign()
    np.testing.assert_array_equal(layer.forward(x, True), [-1, -1, -1, 1, 1, 1, 1])
    dout = rng.standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(dout), dout * [0, 0, 1, 1, 1, 0, 0])


def test_sign_gradient_is_the_hard_tanh_derivative(fd_grad, rng):
    x = rng.uniform(-2, 2, 50)
    x[np.abs(np.abs(x) - 1) < 1e-3] = 0.3   # away from the hard-tanh kinks
    dout = rng.standard_normal(50)
    numeric = fd_grad(lambda: float(np.sum(np.clip(x, -1, 1) * dout)), x)
    np.testing.assert_allclose(sign_backward(dout, x), numeric, rtol=1e-6, atol=1e-8)


def test_softmax_cross_entropy(fd_grad, rng):
    logits = rng.standard_normal((5, 4))
    labels = rng.integers(0, 4, 5)
    loss, dlogits = softmax_cross_entropy(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.log(p[np.arange(5), labels]).mean(), rel=1e-12)
    np.testing.assert_allclose(dlogits, fd_grad(lambda: softmax_cross_entropy(logits, labels)[0], logits), rtol=1e-6,
                               atol=1e-9)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    loss, d = softmax_cross_entropy(np.array([[1e4, 0], [0, 1e4]], np.float32), np.array([0, 0]))
    assert loss == pytest.approx(5e3) and np.all(np.isfinite(d))


def test_softmax_cross_entropy_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))


@pytest.mark.parametrize("k,stride,padding", [(3, 2, 1), (1, 1, 0)])   # (1, 1, 0): the column-free 1x1 path
def test_chunked_conv_backward_equals_the_whole_batch_backward(rng, k, stride, padding):
    from bnn.layers.conv import conv2d_backward, conv2d_backward_chunked, conv2d_forward
    x = rng.standard_normal((5, 3, 6, 6))
    w = rng.standard_normal((4, 3, k, k))
    out, cache = conv2d_forward(x, w, None, stride, padding)
    dout = rng.standard_normal(out.shape)
    for got, want, name in zip(conv2d_backward_chunked(dout, x, w, stride, padding, images_per_chunk=2),
                               conv2d_backward(dout, cache), ("dx", "dw", "db")):
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)
    assert conv2d_backward_chunked(dout, x, w, stride, padding, need_dx=False)[0] is None
