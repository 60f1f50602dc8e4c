"""im2col / col2im against the cs231n-style NumPy twin, and col2im as the exact adjoint of im2col."""
import numpy as np
import pytest

from bnn.kernels import col2im, conv_output_size, im2col
from bnn.kernels import reference as ref

CASES = [  # (N, C, H, W, KH, KW, stride, padding)
    (1, 1, 1, 1, 1, 1, 1, 0),
    (2, 3, 5, 5, 3, 3, 1, 1),
    (1, 7, 9, 6, 2, 3, 2, 0),
    (3, 4, 8, 8, 5, 5, 3, 2),
    (2, 5, 4, 4, 3, 3, 1, 3),
    (2, 70, 9, 13, 1, 1, 1, 0),      # pointwise: the blocked-transpose path (channels and pixels not block multiples)
    (1, 3, 5, 5, 1, 1, 2, 0),        # 1x1 with stride: the generic path
]


@pytest.mark.parametrize("n, c, h, w, kh, kw, stride, padding", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_matches_twin(n, c, h, w, kh, kw, stride, padding, dtype):
    x = np.random.default_rng(h * w + c).standard_normal((n, c, h, w)).astype(dtype)
    got = im2col(x, kh, kw, stride, padding)
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    assert got.dtype == dtype and got.shape == (n * oh * ow, c * kh * kw)
    np.testing.assert_array_equal(got, ref.im2col(x, kh, kw, stride, padding))


@pytest.mark.parametrize("n, c, h, w, kh, kw, stride, padding", CASES)
def test_col2im_matches_twin_exactly_on_integers(n, c, h, w, kh, kw, stride, padding):
    """Integer-valued floats make every sum exact, so the summation order cannot matter."""
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    cols = np.random.default_rng(kh + kw).integers(-50, 50, (n * oh * ow, c * kh * kw)).astype(np.float32)
    got = col2im(cols, (n, c, h, w), kh, kw, stride, padding)
    assert got.dtype == np.float32 and got.shape == (n, c, h, w)
    np.testing.assert_array_equal(got, ref.col2im(cols, (n, c, h, w), kh, kw, stride, padding))


@pytest.mark.parametrize("n, c, h, w, kh, kw, stride, padding", CASES)
def test_col2im_is_the_adjoint_of_im2col(n, c, h, w, kh, kw, stride, padding):
    rng = np.random.default_rng(17)
    x = rng.standard_normal((n, c, h, w))
    cols = im2col(x, kh, kw, stride, padding)
    dcols = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * dcols)
    rhs = np.sum(x * col2im(dcols, x.shape, kh, kw, stride, padding))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_random_geometry_matches_twin(seed):
    rng = np.random.default_rng(200 + seed)
    n, c = rng.integers(1, 4), rng.integers(1, 9)
    kh, kw, stride, padding = rng.integers(1, 6), rng.integers(1, 6), rng.integers(1, 4), rng.integers(0, 4)
    h, w = rng.integers(max(1, kh - 2 * padding), 12), rng.integers(max(1, kw - 2 * padding), 12)
    x = rng.integers(-9, 10, (n, c, h, w)).astype(np.float64)
    cols = im2col(x, kh, kw, stride, padding)
    np.testing.assert_array_equal(cols, ref.im2col(x, kh, kw, stride, padding))
    np.testing.assert_array_equal(col2im(cols, x.shape, kh, kw, stride, padding),
                                  ref.col2im(cols, x.shape, kh, kw, stride, padding))


def test_im2col_convolution_matches_binary_conv_twin_on_signs():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    cols = im2col(ref.sign(x), 3, 3, 1, 1)
    out = (cols @ ref.sign(w).reshape(4, -1).T).reshape(2, 6, 6, 4).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(out, ref.binary_conv2d(x, w, 1, 1))


def test_im2col_col2im_reject_bad_input():
    with pytest.raises(TypeError, match="float32 or float64"):
        im2col(np.ones((1, 1, 3, 3), np.int64), 2, 2)
    with pytest.raises(ValueError, match="NCHW"):
        im2col(np.ones((3, 3)), 2, 2)
    with pytest.raises(ValueError, match="does not fit"):
        im2col(np.ones((1, 1, 3, 3)), 4, 4)
    with pytest.raises(ValueError, match="kernel size must be an integer >= 1, got 0"):
        im2col(np.ones((1, 1, 3, 3)), 0, 1)
    with pytest.raises(ValueError, match=r"expected \(9, 4\)"):
        col2im(np.ones((8, 4)), (1, 1, 4, 4), 2, 2)
