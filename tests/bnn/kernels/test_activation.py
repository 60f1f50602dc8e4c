"""The sign and straight-through-gradient kernels against their NumPy twins, bit for bit."""
import numpy as np
import pytest

from bnn.kernels import reference as ref
from bnn.kernels.activation import hardtanh_grad, is_signs, relu, relu_grad, sign


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sign_and_hardtanh_grad_match_twins(dtype):
    rng = np.random.default_rng(4)
    x = (2 * rng.standard_normal((3, 5, 7, 2))).astype(dtype)
    x.flat[:4] = [0.0, -0.0, 1.0, -1.0]   # sign(±0) = +1; |x| = 1 blocks the gradient
    out = sign(x)
    assert out.dtype == dtype and out.shape == x.shape
    np.testing.assert_array_equal(out, ref.sign(x))
    dout = rng.standard_normal(x.shape).astype(dtype)
    np.testing.assert_array_equal(hardtanh_grad(dout, x), ref.hardtanh_grad(dout, x))
    assert np.array_equal(hardtanh_grad(dout, x).flat[:4], [dout.flat[0], dout.flat[1], 0, 0])


def test_sign_of_a_non_contiguous_view():
    x = np.arange(-6.0, 6.0).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(sign(x), ref.sign(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_and_its_gradient_match_twins(dtype):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3, 5, 5)).astype(dtype)
    x.flat[:3] = [0.0, -0.0, np.nan]
    out = relu(x)
    assert out.dtype == dtype and np.isnan(out.flat[2])
    np.testing.assert_array_equal(out, ref.relu(x))
    dout = rng.standard_normal(x.shape).astype(dtype)
    np.testing.assert_array_equal(relu_grad(dout, out), ref.relu_grad(dout, out))


@pytest.mark.parametrize("bad", [0.0, 0.5, -2.0, np.nan, np.inf])
def test_is_signs(bad):
    x = np.where(np.random.default_rng(7).standard_normal((3, 4, 5)) >= 0, 1.0, -1.0).astype(np.float32)
    assert is_signs(x)
    x[2, 3, 4] = bad
    assert not is_signs(x)
