"""Max and average pooling kernels against their NumPy twins, bit for bit (ties and overlapping windows included)."""
import numpy as np
import pytest

from bnn.kernels import reference as ref
from bnn.kernels.pool import avgpool2d, avgpool2d_backward, maxpool2d, maxpool2d_backward

CASES = [  # (N, C, H, W, k, stride, padding)
    (1, 1, 2, 2, 2, 2, 0),
    (2, 3, 8, 8, 2, 2, 0),        # LeNet-4
    (2, 4, 9, 7, 3, 2, 1),        # NiN: overlapping windows, padding
    (1, 2, 5, 6, 3, 1, 1),        # stride 1: a cell in up to 9 windows
    (3, 2, 6, 6, 6, 6, 0),        # one global window
    (2, 2, 7, 5, 4, 3, 2),
]


# float64 on one geometry only: every (k, stride) compiles its own max-pool kernel
TYPED_CASES = [case + (np.float32,) for case in CASES] + [CASES[2] + (np.float64,)]


@pytest.mark.parametrize("n, c, h, w, k, stride, padding, dtype", TYPED_CASES)
def test_maxpool_matches_twin(n, c, h, w, k, stride, padding, dtype):
    rng = np.random.default_rng(h * w + k)
    x = rng.integers(-3, 3, (n, c, h, w)).astype(dtype)   # few distinct values: many ties
    out, winner = maxpool2d(x, k, stride, padding)
    ref_out, ref_winner = ref.maxpool2d(x, k, stride, padding)
    assert out.dtype == dtype and winner.dtype == np.uint8
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(winner, ref_winner)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = maxpool2d_backward(dout, winner, x.shape, k, stride, padding)
    np.testing.assert_array_equal(dx, ref.maxpool2d_backward(dout, winner, x.shape, k, stride, padding))


@pytest.mark.parametrize("n, c, h, w, k, stride, padding, dtype", TYPED_CASES)
def test_avgpool_matches_twin(n, c, h, w, k, stride, padding, dtype):
    rng = np.random.default_rng(h * w + k)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    out = avgpool2d(x, k, stride, padding)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, ref.avgpool2d(x, k, stride, padding))
    dout = rng.standard_normal(out.shape).astype(dtype)
    np.testing.assert_array_equal(avgpool2d_backward(dout, x.shape, k, stride, padding),
                                  ref.avgpool2d_backward(dout, x.shape, k, stride, padding))


def test_maxpool_winner_is_the_first_maximum_and_padding_never_wins():
    x = np.array([[[[-5.0, -5.0], [-5.0, -7.0]]]], np.float32)
    out, winner = maxpool2d(x, 3, 3, 1)   # one window: a padded ring around the 2x2 map
    assert out[0, 0, 0, 0] == -5 and winner[0, 0, 0, 0] == 4   # offset (1, 1): the first real cell, not padding
    dx = maxpool2d_backward(np.ones_like(out), winner, x.shape, 3, 3, 1)
    np.testing.assert_array_equal(dx, [[[[1, 0], [0, 0]]]])


def test_maxpool_propagates_nan():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 0] = np.nan
    x[0, 0, 1, 1] = 5
    out, _ = maxpool2d(x, 2, 2, 0)
    assert np.isnan(out[0, 0, 0, 0]) and np.array_equal(out[0, 0, 1], [0, 0])
    assert np.isnan(ref.maxpool2d(x, 2, 2, 0)[0][0, 0, 0, 0])


def test_large_kernels_record_winners_in_int32():
    x = np.random.default_rng(0).standard_normal((1, 1, 17, 17)).astype(np.float32)
    out, winner = maxpool2d(x, 17, 1, 0)
    assert winner.dtype == np.int32 and winner[0, 0, 0, 0] == np.argmax(x)
