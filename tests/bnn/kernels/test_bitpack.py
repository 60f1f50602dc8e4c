"""Bit packing: the one bit convention (bit 1 = +1, LSB first, tail bits 0) and its NumPy twin."""
import numpy as np
import pytest

from bnn.kernels import (n_words, pack_conv_input, pack_conv_weights, pack_signs, tail_mask, unpack_conv_input,
                         unpack_signs)
from bnn.kernels import reference as ref
from bnn.kernels.bitpack import check_packed

NBITS = [1, 2, 63, 64, 65, 127, 128, 129, 1000]


def test_bit_layout_is_lsb_first_with_bit_one_for_plus_one():
    x = -np.ones(130, np.float32)
    x[[0, 5, 64, 129]] = 1.0
    packed, nbits = pack_signs(x)
    assert nbits == 130
    assert packed.dtype == np.uint64 and packed.shape == (3,)
    assert packed.tolist() == [(1 << 0) | (1 << 5), 1 << 0, 1 << 1]


def test_zero_packs_as_plus_one():
    packed, _ = pack_signs(np.zeros((2, 3)))
    assert (packed == 0b111).all()


@pytest.mark.parametrize("nbits", NBITS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_pack_last_axis_matches_twin(nbits, dtype):
    rng = np.random.default_rng(nbits)
    x = (rng.standard_normal((5, nbits)) * 3).astype(dtype)
    got, got_bits = pack_signs(x)
    want, want_bits = ref.pack_signs(x)
    assert got_bits == want_bits == nbits
    assert got.dtype == np.uint64 and got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape", [(3, 70, 2, 5), (1, 1, 1, 1), (2, 64, 3, 1), (4, 129, 1, 2)])
@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -3])
def test_pack_any_axis_matches_twin_and_unpacks(shape, axis):
    x = np.random.default_rng(7).standard_normal(shape)
    x[tuple(0 for _ in shape)] = 0.0
    got, nbits = pack_signs(x, axis=axis)
    want, _ = ref.pack_signs(x, axis=axis)
    np.testing.assert_array_equal(got, want)
    assert got.flags.c_contiguous
    np.testing.assert_array_equal(unpack_signs(got, nbits, axis=axis), ref.sign(x))


@pytest.mark.parametrize("nbits", NBITS)
def test_tail_bits_are_zero(nbits):
    packed, _ = pack_signs(np.ones((3, nbits)))   # every valid bit is 1
    assert (packed[:, :-1] == np.uint64(2**64 - 1)).all()
    assert (packed[:, -1] == tail_mask(nbits)).all()
    assert bin(int(tail_mask(nbits))).count("1") == nbits - 64 * (n_words(nbits) - 1)


@pytest.mark.parametrize("shape, axis", [((4, 3), -1), ((2, 3, 5), 1), ((3, 2, 2, 7), 0), ((1, 1), 1), ((6, 2, 1), 1)])
@pytest.mark.parametrize("nbits_in_last_word", [1, 37, 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8])
def test_unpack_matches_twin_on_random_words(shape, axis, nbits_in_last_word, dtype):
    nbits = 64 * (shape[axis] - 1) + nbits_in_last_word
    words = np.random.default_rng(nbits).integers(0, 2**64 - 1, shape, dtype=np.uint64, endpoint=True)
    last = [slice(None)] * len(shape)
    last[axis] = -1
    words[tuple(last)] &= tail_mask(nbits)
    got = unpack_signs(words, nbits, axis=axis, dtype=dtype)
    assert got.dtype == dtype and got.shape[axis] == nbits
    np.testing.assert_array_equal(got, ref.unpack_signs(words, nbits, axis=axis, dtype=dtype))


@pytest.mark.parametrize("shape, axis", [((0, 70), -1), ((0, 70, 3), 1), ((2, 0, 70), 2)])
def test_empty_batches_round_trip(shape, axis):
    packed, nbits = pack_signs(np.ones(shape), axis=axis)
    assert packed.shape[axis] == 2
    assert unpack_signs(packed, nbits, axis=axis).shape == shape


def test_unpack_rejects_dtypes_that_cannot_hold_minus_one():
    packed, nbits = pack_signs(np.ones(3))
    with pytest.raises(TypeError, match="signed"):
        unpack_signs(packed, nbits, dtype=np.uint8)


def test_unpack_dtype():
    packed, nbits = pack_signs(np.array([[-1.0, 2.0, 0.0]]))
    out = unpack_signs(packed, nbits, dtype=np.float64)
    assert out.dtype == np.float64
    assert out.tolist() == [[-1.0, 1.0, 1.0]]


@pytest.mark.parametrize("channels", [1, 3, 64, 65, 130])
def test_conv_layouts_are_channel_words_per_pixel(channels):
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((2, channels, 5, 3)).astype(np.float32)
    w = rng.standard_normal((4, channels, 3, 2))
    xp = pack_conv_input(x)
    wp = pack_conv_weights(w)
    assert xp.shape == (2, 5, 3, n_words(channels)) and xp.flags.c_contiguous
    assert wp.shape == (4, 3, 2, n_words(channels)) and wp.flags.c_contiguous
    np.testing.assert_array_equal(xp, np.moveaxis(ref.pack_signs(x, axis=1)[0], 1, -1))
    np.testing.assert_array_equal(wp, np.moveaxis(ref.pack_signs(w, axis=1)[0], 1, -1))
    back = unpack_conv_input(xp, channels)
    assert back.shape == x.shape and back.dtype == np.float32
    np.testing.assert_array_equal(back, ref.sign(x))


@pytest.mark.parametrize("bad", [np.array([True, False]), np.array([1 + 2j]), np.array(["a"])])
def test_pack_rejects_non_real_dtypes(bad):
    with pytest.raises(TypeError, match="real"):
        pack_signs(bad)


def test_pack_rejects_bad_axis_and_scalars():
    with pytest.raises(ValueError, match="axis 2"):
        pack_signs(np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="at least one axis"):
        pack_signs(np.float32(1.0))
    with pytest.raises(ValueError, match="empty"):
        pack_signs(np.ones((2, 0)))
    with pytest.raises(ValueError, match="NCHW"):
        pack_conv_input(np.ones((2, 3, 4)))


def test_check_packed_errors_name_the_problem():
    good, nbits = pack_signs(np.ones((2, 65)))
    assert check_packed(good, nbits) is good
    with pytest.raises(TypeError, match="uint64"):
        check_packed(good.astype(np.int64), nbits)
    with pytest.raises(ValueError, match="expected ceil\\(200/64\\) = 4"):
        check_packed(good, 200)
    bad = good.copy()
    bad[1, -1] |= np.uint64(1) << np.uint64(1)   # bit 65: beyond nbits = 65
    with pytest.raises(ValueError, match="tail bits"):
        check_packed(bad, nbits)
    with pytest.raises(ValueError, match="tail bits"):
        unpack_signs(bad, nbits)
