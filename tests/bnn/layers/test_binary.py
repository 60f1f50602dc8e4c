"""Binary layers: forward equals the float math of the same ±1 tensors (padding included), gradients equal the
float formulas, latent-weight gradients match finite differences of their surrogate, and the error hooks act on
the packed bits."""
import numpy as np
import pytest

from bnn.errors import BitErrors
from bnn.kernels.bitpack import pack_signs, unpack_signs
from bnn.layers import BinaryConv2d, BinaryDense, BinaryNetWeights, Dropout, XnorWeights
from bnn.layers.conv import conv2d_backward, conv2d_forward
from bnn.layers.dense import dense_backward, dense_forward


@pytest.fixture
def rng():
    return np.random.default_rng(99)


def pm1(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(np.float32)


def conv_layer(rng, weights, c=70, o=5, k=3, stride=2, padding=1):
    layer = BinaryConv2d(c, o, k, rng, weights, stride=stride, padding=padding, weight_std=0.5)
    layer.params["bias"] = rng.standard_normal(o).astype(np.float32)
    layer.constrain()
    return layer


def effective_weight(layer):
    signs, alpha = layer.binary_weight()
    return signs if alpha is None else signs * alpha.reshape((-1,) + (1,) * (signs.ndim - 1))


@pytest.mark.parametrize("weights", [XnorWeights(), BinaryNetWeights()])
@pytest.mark.parametrize("c,k,stride,padding,hw", [(70, 3, 2, 1, 7), (20, 5, 1, 0, 12), (3, 3, 1, 2, 4)])
def test_binary_conv_forward_equals_float_convolution(rng, weights, c, k, stride, padding, hw):
    layer = conv_layer(rng, weights, c=c, k=k, stride=stride, padding=padding)
    x = pm1(rng, (3, c, hw, hw + 1))
    ref, _ = conv2d_forward(x.astype(np.float64), effective_weight(layer).astype(np.float64),
                            layer.params["bias"].astype(np.float64), stride, padding)
    np.testing.assert_allclose(layer.forward(x, True), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("weights", [XnorWeights(), BinaryNetWeights()])
@pytest.mark.parametrize("d", [1, 64, 130])
def test_binary_dense_forward_equals_float_product(rng, weights, d):
    layer = BinaryDense(d, 7, rng, weights, weight_std=0.5)
    layer.params["bias"] = rng.standard_normal(7).astype(np.float32)
    x = pm1(rng, (4, d))
    ref, _ = dense_forward(x.astype(np.float64), effective_weight(layer).astype(np.float64),
                           layer.params["bias"].astype(np.float64))
    np.testing.assert_allclose(layer.forward(x, True), ref, rtol=1e-5, atol=1e-5)


def test_binary_conv_backward_is_the_float_backward_of_the_same_tensors(rng):
    layer = conv_layer(rng, BinaryNetWeights())
    x = pm1(rng, (2, 70, 7, 7))
    out = layer.forward(x, True)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(dout)
    _, cache = conv2d_forward(x, effective_weight(layer), layer.params["bias"], 2, 1)
    dx_ref, dwb, db = conv2d_backward(dout, cache)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-5, atol=1e-5, err_msg="dx")
    np.testing.assert_allclose(layer.grads["bias"], db, rtol=1e-5, atol=1e-5, err_msg="dbias")
    inside = np.abs(layer.params["weight"]) <= 1
    np.testing.assert_allclose(layer.grads["weight"], dwb * inside, rtol=1e-5, atol=1e-5, err_msg="dW (STE)")


def float_forward_backward(kind, layer, x, dout):
    """Output, dx and the bias gradient of the float layer with weights alpha * sign(W), in float64."""
    wb, bias = effective_weight(layer).astype(np.float64), layer.params["bias"].astype(np.float64)
    if kind == "conv":
        out, cache = conv2d_forward(x.astype(np.float64), wb, bias, layer.stride, layer.padding)
        dx, _, db = conv2d_backward(dout.astype(np.float64), cache)
    else:
        out, cache = dense_forward(x.astype(np.float64), wb, bias)
        dx, _, db = dense_backward(dout.astype(np.float64), cache)
    return out, dx, db


@pytest.mark.parametrize("p", [0.5, 0.3])
@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_binary_layers_after_dropout_equal_the_float_product_of_the_dropped_input(rng, kind, p):
    """Dropout after the sign (as the reference NiN): entries -c, 0, +c, c = 1/(1-p). Two XNOR products give the
    float product exactly, and the backward is the float backward of that same tensor."""
    if kind == "conv":
        layer, x = conv_layer(rng, XnorWeights()), pm1(rng, (3, 70, 7, 8))
    else:
        layer, x = BinaryDense(130, 6, rng, XnorWeights(), weight_std=0.5), pm1(rng, (5, 130))
        layer.params["bias"] = rng.standard_normal(6).astype(np.float32)
    dropped = Dropout(p, rng).forward(x, True)
    assert 0.2 < np.mean(dropped == 0) < 0.6
    out = layer.forward(dropped, True)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(dout)
    ref, dx_ref, db_ref = float_forward_backward(kind, layer, dropped, dout)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-5, atol=1e-5, err_msg="dx")
    np.testing.assert_allclose(layer.grads["bias"], db_ref, rtol=1e-5, atol=1e-5, err_msg="dbias")


@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_bit_errors_after_dropout_negate_kept_entries_and_leave_dropped_ones_zero(rng, kind):
    if kind == "conv":
        layer, x = conv_layer(rng, XnorWeights()), pm1(rng, (4, 70, 5, 5))
    else:
        layer, x = BinaryDense(70, 4, rng, XnorWeights(), weight_std=0.5), pm1(rng, (6, 70))
    dropped = Dropout(0.5, rng).forward(x, True)
    before = dropped.copy()
    layer.activation_errors = BitErrors(0.1, 0.1)
    out = layer.forward(dropped, True)
    np.testing.assert_array_equal(dropped == 0, before == 0)
    flipped = dropped != before
    assert flipped.any() and np.array_equal(dropped[flipped], -before[flipped])
    layer.activation_errors = None
    np.testing.assert_array_equal(layer.forward(dropped.copy(), True), out)


def xnor_latent_grad_by_finite_differences(fd_grad, w, x, dout):
    """d/dW of sum(conv(x, mean|W| * S0 + alpha0 * clip(W, -1, 1)) * dout), signs S0 and alpha0 frozen at W:
    the surrogate whose exact gradient is the 'full' XNOR-Net formula."""
    s0, alpha0 = np.sign(w), np.abs(w).mean(axis=(1, 2, 3))

    def loss():
        alpha = np.abs(w).mean(axis=(1, 2, 3))
        wb = alpha[:, None, None, None] * s0 + alpha0[:, None, None, None] * np.clip(w, -1, 1)
        return float(np.sum(conv2d_forward(x, wb, None, 1, 1)[0] * dout))

    return fd_grad(loss, w)


def test_xnor_full_gradient_matches_finite_differences_of_its_surrogate(rng, fd_grad):
    layer = BinaryConv2d(3, 2, 3, rng, XnorWeights(gradient="full"), padding=1, weight_std=0.4)
    layer.constrain()
    layer.params["weight"] = layer.params["weight"].astype(np.float64)
    w = layer.params["weight"]
    w[np.abs(np.abs(w) - 1) < 1e-3] = 0.5
    x = pm1(rng, (2, 3, 4, 4)).astype(np.float64)
    out = layer.forward(x, True)
    dout = rng.standard_normal(out.shape)
    layer.backward(dout)
    np.testing.assert_allclose(layer.grads["weight"], xnor_latent_grad_by_finite_differences(fd_grad, w, x, dout),
                               rtol=1e-5, atol=1e-7)


def test_xnor_gradient_variants(rng):
    w = rng.uniform(-1.5, 1.5, (4, 3, 2, 2))
    dwb = rng.standard_normal(w.shape)
    n, alpha, s = 12, np.abs(w).mean(axis=(1, 2, 3))[:, None, None, None], np.sign(w)
    inside = np.abs(w) <= 1
    full = alpha * inside * dwb + s * (s * dwb).sum(axis=(1, 2, 3), keepdims=True) / n
    paper = dwb * (1 / n + alpha * inside)
    for scheme, expected in [(XnorWeights("full"), full), (XnorWeights("paper"), paper),
                             (XnorWeights("full", scale_by_fan_in=True), full * n * (1 - 1 / 3))]:
        signs, a = scheme.binarize(w)
        np.testing.assert_allclose(scheme.latent_grad(w, dwb, signs, a), expected, rtol=1e-12, err_msg=repr(scheme))


def test_weight_constraints(rng):
    w = rng.uniform(-3, 3, (4, 3, 2, 2)).astype(np.float32)
    xnor = w.copy()
    XnorWeights().constrain(xnor)
    np.testing.assert_allclose(xnor, np.clip(w - w.mean(axis=1, keepdims=True), -1, 1), rtol=1e-6)
    binarynet = w.copy()
    BinaryNetWeights().constrain(binarynet)
    np.testing.assert_array_equal(binarynet, np.clip(w, -1, 1))


class FlipAll:
    """A test error model: every stored bit comes back inverted (tail bits kept 0). Records its calls."""

    def __init__(self):
        self.calls = []

    def apply(self, packed, nbits, rng, training):
        self.calls.append((packed.shape, nbits, training))
        signs = unpack_signs(packed, nbits, axis=-1)
        return pack_signs(-signs, axis=-1)[0]

    def apply_to_activations(self, packed, x, rng, training):
        packed[...] = self.apply(packed, x.shape[1], rng, training)
        return -x


@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_activation_error_hook_flips_the_bits_and_the_backward_uses_them(rng, kind):
    if kind == "conv":
        layer, x = conv_layer(rng, XnorWeights()), pm1(rng, (2, 70, 5, 5))
    else:
        layer, x = BinaryDense(70, 4, rng, XnorWeights(), weight_std=0.5), pm1(rng, (3, 70))
    clean = layer.forward(-x, True)
    dout = rng.standard_normal(clean.shape).astype(np.float32)
    layer.backward(dout)
    grads_of_flipped_input = {k: v.copy() for k, v in layer.grads.items()}
    layer.activation_errors = FlipAll()
    np.testing.assert_allclose(layer.forward(x, True), clean, rtol=1e-6, atol=1e-6)
    layer.backward(dout)
    for key, grad in grads_of_flipped_input.items():
        np.testing.assert_allclose(layer.grads[key], grad, rtol=1e-6, atol=1e-6, err_msg=key)
    nbits = 70
    words = (2, 5, 5, 2) if kind == "conv" else (3, 2)
    assert layer.activation_errors.calls == [(words, nbits, True)]


@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_bit_errors_corrupt_the_input_array_and_the_layer_computes_with_it(rng, kind):
    """With BitErrors the input array comes back as read back (flipped in place), and forward and backward are
    those of an error-free layer given that array."""
    if kind == "conv":
        layer, x = conv_layer(rng, XnorWeights()), pm1(rng, (4, 70, 5, 5))
    else:
        layer, x = BinaryDense(70, 4, rng, XnorWeights(), weight_std=0.5), pm1(rng, (6, 70))
    clean = x.copy()
    layer.activation_errors = BitErrors(0.05, 0.05)
    out = layer.forward(x, True)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(dout)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    assert not np.array_equal(x, clean) and np.all(np.abs(x) == 1)
    layer.activation_errors = None
    np.testing.assert_array_equal(layer.forward(x.copy(), True), out)
    np.testing.assert_array_equal(layer.backward(dout), dx)
    for key, grad in grads.items():
        np.testing.assert_array_equal(layer.grads[key], grad, err_msg=key)


def test_weight_error_hook_changes_the_forward_only(rng):
    layer = BinaryDense(10, 3, rng, BinaryNetWeights(), weight_std=0.5)
    x = pm1(rng, (2, 10))
    clean = layer.forward(x, True)
    layer.weight_errors = FlipAll()
    np.testing.assert_allclose(layer.forward(x, True), 2 * layer.params["bias"] - clean, rtol=1e-6, atol=1e-6)


def test_binary_layers_reject_bad_input(rng):
    conv = BinaryConv2d(20, 50, 5, rng, XnorWeights())
    conv.name = "conv2"
    with pytest.raises(ValueError, match=r"conv2 \(20 -> 50 5x5\): expected input of shape \(N, 20, H, W\), "
                                         r"got \(2, 3, 12, 12\)"):
        conv.forward(pm1(rng, (2, 3, 12, 12)), True)
    with pytest.raises(ValueError, match="conv2 .* input must be ±1"):
        conv.forward(rng.standard_normal((2, 20, 12, 12)).astype(np.float32), True)
    two_magnitudes = 2 * pm1(rng, (2, 20, 12, 12))
    two_magnitudes[0, 0, 0, :2] = (0, 1)
    with pytest.raises(ValueError, match=r"conv2 .* or that after dropout \(every entry -c, 0 or \+c"):
        conv.forward(two_magnitudes, True)
    dense = BinaryDense(800, 500, rng, XnorWeights())
    dense.name = "fc3"
    with pytest.raises(ValueError, match=r"fc3 \(800 -> 500\): expected input of shape \(N, 800\), got \(4, 801\)"):
        dense.forward(pm1(rng, (4, 801)), True)
