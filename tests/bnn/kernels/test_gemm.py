"""XNOR-popcount GEMM and binary dense against their NumPy twins and the float product of signs."""
import numpy as np
import pytest

from bnn.kernels import binary_dense, pack_signs, xnor_gemm
from bnn.kernels import reference as ref

K_VALUES = [1, 63, 64, 65, 128, 130, 200, 300, 2400]   # W = 1, 1, 1, 2, 2, 3, 4, 5, 38 words


@pytest.mark.parametrize("k", K_VALUES)
@pytest.mark.parametrize("m, n", [(1, 1), (1, 5), (7, 64), (33, 65), (130, 3)])
def test_xnor_gemm_matches_twin_and_float(k, m, n):
    rng = np.random.default_rng(1000 * k + 10 * m + n)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((n, k))
    ap, nbits = pack_signs(a)
    bp, _ = pack_signs(b)
    got = xnor_gemm(ap, bp, nbits)
    assert got.dtype == np.int32 and got.shape == (m, n)
    np.testing.assert_array_equal(got, ref.xnor_gemm(ap, bp, nbits))
    np.testing.assert_array_equal(got, ref.sign(a) @ ref.sign(b).T)


def test_xnor_gemm_extremes():
    ones, k = pack_signs(np.ones((2, 65)))
    minus, _ = pack_signs(-np.ones((3, 65)))
    np.testing.assert_array_equal(xnor_gemm(ones, ones, k), np.full((2, 2), 65))
    np.testing.assert_array_equal(xnor_gemm(ones, minus, k), np.full((2, 3), -65))


def test_xnor_gemm_accepts_non_contiguous_views():
    rng = np.random.default_rng(3)
    ap, k = pack_signs(rng.standard_normal((10, 150)))
    bp, _ = pack_signs(rng.standard_normal((6, 150)))
    np.testing.assert_array_equal(xnor_gemm(ap[::2], bp[::3], k), ref.xnor_gemm(ap[::2], bp[::3], k))


def test_xnor_gemm_writes_into_out():
    rng = np.random.default_rng(4)
    ap, k = pack_signs(rng.standard_normal((9, 100)))
    bp, _ = pack_signs(rng.standard_normal((5, 100)))
    out = np.full((9, 5), 12345, np.int32)
    assert xnor_gemm(ap, bp, k, out=out) is out
    np.testing.assert_array_equal(out, ref.xnor_gemm(ap, bp, k))
    with pytest.raises(ValueError, match=r"int32 array of shape \(9, 5\)"):
        xnor_gemm(ap, bp, k, out=np.empty((9, 5), np.int64))
    with pytest.raises(ValueError, match="C-contiguous"):
        xnor_gemm(ap, bp, k, out=np.empty((5, 9), np.int32).T)


def test_xnor_gemm_rejects_bad_input():
    ap, k = pack_signs(np.ones((4, 70)))
    with pytest.raises(ValueError, match="expected ceil"):
        xnor_gemm(ap, ap, 200)
    with pytest.raises(TypeError, match="uint64"):
        xnor_gemm(ap.astype(np.float64), ap, k)
    with pytest.raises(ValueError, match="2-D"):
        xnor_gemm(ap[None], ap, k)
    bad = ap.copy()
    bad[0, 1] |= np.uint64(1 << 63)
    with pytest.raises(ValueError, match="tail bits"):
        xnor_gemm(ap, bad, k)


@pytest.mark.parametrize("n, k, o", [(1, 1, 1), (128, 800, 500), (3, 65, 10), (5, 64, 7)])
def test_binary_dense_matches_twin(n, k, o):
    rng = np.random.default_rng(n + k + o)
    x, w = rng.standard_normal((n, k)).astype(np.float32), rng.standard_normal((o, k)).astype(np.float32)
    x[0, 0] = 0.0
    got = binary_dense(x, w)
    assert got.dtype == np.float32 and got.shape == (n, o)
    np.testing.assert_array_equal(got, ref.binary_dense(x, w))


def test_binary_dense_rejects_shape_mismatch():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        binary_dense(np.ones((2, 3)), np.ones((4, 5)))
