"""Binary convolution: exactly the float convolution of zero-padded sign(x) with sign(w)."""
import numpy as np
import pytest

from bnn.kernels import (binary_conv2d, binary_conv2d_packed, flip_bits, pack_conv_input, pack_conv_weights,
                         unpack_conv_input)
from bnn.kernels import reference as ref

# (N, C, H, W, O, KH, KW, stride, padding): batch 1, odd channels, K = C*KH*KW of 1, 63, 64, 65 and large.
CASES = [
    (1, 1, 4, 4, 1, 1, 1, 1, 0),        # K = 1
    (2, 7, 6, 5, 3, 3, 3, 1, 1),        # K = 63
    (1, 64, 5, 5, 4, 1, 1, 1, 0),       # K = 64
    (3, 65, 4, 6, 5, 1, 1, 2, 1),       # K = 65, stride 2, padding with a 1x1 kernel
    (2, 130, 7, 7, 9, 5, 5, 1, 2),      # K = 3250, three words per tap
    (1, 3, 9, 8, 2, 3, 2, 2, 0),        # non-square kernel and input
    (2, 5, 10, 11, 6, 4, 4, 3, 2),      # stride 3, even kernel
    (1, 20, 12, 12, 50, 5, 5, 1, 0),    # LeNet-4 binary conv
    (2, 96, 8, 8, 12, 5, 5, 1, 2),      # NiN 5x5 block, reduced
    (1, 2, 3, 3, 2, 3, 3, 1, 3),        # padding larger than half the kernel: all-border outputs
    (1, 3, 40, 37, 2, 3, 3, 1, 1),      # 1480 output pixels: two pixel tiles, the last one partial
    (1, 700, 20, 20, 3, 5, 5, 1, 2),    # 11 words per tap: smaller pixel tiles
]


@pytest.mark.parametrize("n, c, h, w, o, kh, kw, stride, padding", CASES)
def test_binary_conv2d_matches_float_twin(n, c, h, w, o, kh, kw, stride, padding):
    rng = np.random.default_rng(n * 1000 + c * 10 + kh)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = rng.standard_normal((o, c, kh, kw)).astype(np.float32)
    x[0, 0, 0, 0], wt[0, 0, 0, 0] = 0.0, 0.0
    got = binary_conv2d(x, wt, stride, padding)
    want = ref.binary_conv2d(x, wt, stride, padding)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    packed = binary_conv2d_packed(pack_conv_input(x), pack_conv_weights(wt), c, stride, padding)
    np.testing.assert_array_equal(packed, got)


@pytest.mark.parametrize("seed", range(12))
def test_binary_conv2d_random_geometry(seed):
    """Random batch, channels, sizes, kernel, stride and padding (kernel fits the padded input)."""
    rng = np.random.default_rng(100 + seed)
    n, c, o = rng.integers(1, 4), rng.integers(1, 140), rng.integers(1, 11)
    kh, kw, stride, padding = rng.integers(1, 6), rng.integers(1, 6), rng.integers(1, 4), rng.integers(0, 4)
    h = rng.integers(max(1, kh - 2 * padding), 14)
    w = rng.integers(max(1, kw - 2 * padding), 14)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = rng.standard_normal((o, c, kh, kw)).astype(np.float32)
    np.testing.assert_array_equal(binary_conv2d(x, wt, stride, padding), ref.binary_conv2d(x, wt, stride, padding))


def test_non_contiguous_and_float64_inputs():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((3, 10, 9, 8))[:, ::2, :, ::-1]    # float64, strided, reversed
    w = np.asfortranarray(rng.standard_normal((4, 5, 3, 3)))
    np.testing.assert_array_equal(binary_conv2d(x, w, 1, 1), ref.binary_conv2d(x, w, 1, 1))


def test_padding_contributes_zero_not_minus_one():
    x = -np.ones((1, 3, 2, 2), np.float32)
    w = np.ones((1, 3, 3, 3), np.float32)
    got = binary_conv2d(x, w, padding=1)
    # every output pixel sees the 4 image pixels (3 channels each, all -1 against +1) and 5 padded taps (0)
    np.testing.assert_array_equal(got, np.full((1, 1, 2, 2), -12.0))


def test_conv_of_flipped_packed_input_equals_conv_of_unpacked_flips():
    """The engine's path: pack, inject write errors, convolve; backward reads the same flipped signs."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 70, 6, 6)).astype(np.float32)
    w = rng.standard_normal((8, 70, 3, 3)).astype(np.float32)
    xp = flip_bits(pack_conv_input(x), 70, 0.2, 0.1, np.random.default_rng(5))
    flipped = unpack_conv_input(xp, 70)
    assert 0 < np.mean(flipped != ref.sign(x)) < 0.3
    got = binary_conv2d_packed(xp, pack_conv_weights(w), 70, 1, 1)
    np.testing.assert_array_equal(got, ref.binary_conv2d(flipped, w, 1, 1))


def test_binary_conv2d_packed_writes_into_out():
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((2, 5, 6, 6)), rng.standard_normal((3, 5, 3, 3))
    xp, wp = pack_conv_input(x), pack_conv_weights(w)
    out = np.full((2, 3, 6, 6), np.nan, np.float32)
    assert binary_conv2d_packed(xp, wp, 5, 1, 1, out=out) is out
    np.testing.assert_array_equal(out, ref.binary_conv2d(x, w, 1, 1))
    with pytest.raises(ValueError, match=r"float32 array of shape \(2, 3, 6, 6\)"):
        binary_conv2d_packed(xp, wp, 5, 1, 1, out=np.empty((2, 3, 4, 4), np.float32))


def test_binary_conv2d_rejects_bad_input():
    x, w = np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3))
    with pytest.raises(ValueError, match="equal C"):
        binary_conv2d(x, w)
    with pytest.raises(ValueError, match="does not fit"):
        binary_conv2d(x, np.ones((2, 3, 7, 7)))
    with pytest.raises(ValueError, match="stride must be an integer >= 1, got 0"):
        binary_conv2d(x, np.ones((2, 3, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="padding must be an integer >= 0, got -1"):
        binary_conv2d(x, np.ones((2, 3, 3, 3)), padding=-1)
    xp, wp = pack_conv_input(x), pack_conv_weights(np.ones((2, 3, 3, 3)))
    with pytest.raises(ValueError, match="expected ceil"):
        binary_conv2d_packed(xp, wp, 65)
    with pytest.raises(ValueError, match="tail bits"):
        binary_conv2d_packed(xp, wp, 2)    # bit 2 (channel 3) is set but only 2 channels are declared
    with pytest.raises(TypeError, match="uint64"):
        binary_conv2d_packed(xp.astype(np.int64), wp, 3)
