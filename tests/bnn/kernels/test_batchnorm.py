"""Batch-normalization kernels against their float64 NumPy twins (within float32 rounding: the kernels sum in
float64 in their own order, so the last bit of a float32 result may differ)."""
import numpy as np
import pytest

from bnn.kernels import reference as ref
from bnn.kernels.batchnorm import batchnorm_train, batchnorm_train_backward


@pytest.mark.parametrize("shape", [(1, 1, 2), (6, 4, 1), (5, 3, 49), (32, 20, 576)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_matches_twin(shape, affine, dtype):
    rng = np.random.default_rng(shape[2])
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    x = (3 + 2 * rng.standard_normal(shape)).astype(dtype)
    gamma = rng.uniform(0.5, 2, shape[1]).astype(dtype) if affine else None
    beta = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    got, want = batchnorm_train(x, gamma, beta, 1e-4), ref.batchnorm_train(x, gamma, beta, 1e-4)
    assert got[0].dtype == got[1].dtype == dtype and (affine or got[0] is got[1])
    for g, w, name in zip(got, want, ("out", "xhat", "mean", "var", "inv_std")):
        np.testing.assert_allclose(g, w, **tol, err_msg=name)
    dout = rng.standard_normal(shape).astype(dtype)
    scale = got[4] * (gamma if affine else 1)
    for g, w, name in zip(batchnorm_train_backward(dout, got[1], scale),
                          ref.batchnorm_train_backward(dout, got[1], scale), ("dx", "dgamma", "dbeta")):
        np.testing.assert_allclose(g, w, rtol=tol["rtol"], atol=tol["atol"] * shape[0] * shape[2], err_msg=name)


def test_batchnorm_propagates_nan():
    x = np.ones((4, 2, 3), np.float32)
    x[1, 0, 2] = np.nan
    out = batchnorm_train(x, None, None, 1e-5)[0]
    assert np.isnan(out[:, 0]).all() and np.isfinite(out[:, 1]).all()
