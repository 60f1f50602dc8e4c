"""popcount64 (LLVM ctpop intrinsic) against NumPy, from Python and from inside user @njit code."""
import numpy as np
import pytest
from numba import njit

from bnn.kernels import popcount, popcount64
from bnn.kernels import reference as ref


def special_words():
    singles = [1 << b for b in range(64)]
    return np.array([0, 2**64 - 1, 2**63, 2**63 - 1, 0x5555555555555555, 0xAAAAAAAAAAAAAAAA] + singles, np.uint64)


def random_words(n, seed):
    return np.random.default_rng(seed).integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)


def test_popcount_special_words():
    words = special_words()
    got = popcount(words)
    assert got[:6].tolist() == [0, 64, 1, 63, 32, 32]
    assert (got[6:] == 1).all()
    np.testing.assert_array_equal(got, ref.popcount(words))


@pytest.mark.parametrize("shape", [(1,), (1000,), (7, 13), (2, 3, 5)])
def test_popcount_random_matches_twin_and_numpy(shape):
    words = random_words(int(np.prod(shape)), seed=len(shape)).reshape(shape)
    got = popcount(words)
    assert got.shape == shape
    np.testing.assert_array_equal(got, ref.popcount(words))
    np.testing.assert_array_equal(got, np.bitwise_count(words))


@njit
def _hamming(a, b):
    total = 0
    for i in range(a.size):
        total += popcount64(a[i] ^ b[i])
    return total


def test_popcount64_is_usable_inside_user_njit_code():
    a, b = random_words(300, 1), random_words(300, 2)
    assert _hamming(a, b) == int(np.bitwise_count(a ^ b).sum())


def test_popcount_rejects_other_dtypes():
    with pytest.raises(TypeError, match="uint64"):
        popcount(np.arange(3))
