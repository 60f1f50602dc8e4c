"""XNOR-Net binarization and latent gradient kernels against their NumPy twins: signs exactly, row sums within
float32 rounding (the kernels sum in float64)."""
import numpy as np
import pytest

from bnn.kernels import reference as ref
from bnn.kernels.weights import xnor_binarize, xnor_latent_grad


@pytest.mark.parametrize("shape", [(1, 1), (5, 3, 2, 2), (500, 800), (7, 130)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binarize_matches_twin(shape, dtype):
    w = np.random.default_rng(shape[-1]).uniform(-1.5, 1.5, shape).astype(dtype)
    w.flat[0] = 0.0   # sign(0) = +1
    signs, alpha = xnor_binarize(w)
    ref_signs, ref_alpha = ref.xnor_binarize(w)
    assert signs.dtype == alpha.dtype == dtype and signs.shape == shape and alpha.shape == shape[:1]
    np.testing.assert_array_equal(signs, ref_signs)
    np.testing.assert_allclose(alpha, ref_alpha, rtol=1e-6 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("shape", [(5, 3, 2, 2), (50, 800)])
@pytest.mark.parametrize("full", [True, False])
def test_latent_grad_matches_twin(shape, full):
    rng = np.random.default_rng(len(shape))
    w = rng.uniform(-1.5, 1.5, shape).astype(np.float32)   # some |W| > 1: the clip indicator matters
    dwb = rng.standard_normal(shape).astype(np.float32)
    signs, alpha = ref.xnor_binarize(w)
    got = xnor_latent_grad(w, dwb, signs, alpha, full, 3.5)
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_allclose(got, ref.xnor_latent_grad(w, dwb, signs, alpha, full, 3.5), rtol=2e-6, atol=2e-6)
