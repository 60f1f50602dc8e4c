"""The Adam kernel against its NumPy twin, bit for bit, over several steps."""
import math

import numpy as np
import pytest

from bnn.kernels import reference as ref
from bnn.kernels.adam import adam_update


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight_decay", [0.0, 1e-4])
@pytest.mark.parametrize("shape", [(5, 3, 5, 5), (300, 256)])   # the serial and the parallel kernel
def test_adam_matches_twin(dtype, weight_decay, shape):
    rng = np.random.default_rng(3)
    p = rng.standard_normal(shape).astype(dtype)
    mine = [p, np.zeros_like(p), np.zeros_like(p)]
    twin = [a.copy() for a in mine]
    for t in range(1, 6):   # Python floats, as the optimizer passes them (NumPy float64 scalars would promote)
        g = rng.standard_normal(p.shape).astype(dtype)
        settings = (0.01 / (1 - 0.9 ** t), 0.9, 0.999, math.sqrt(1 - 0.999 ** t), 1e-8, weight_decay)
        adam_update(*mine[:1], g, *mine[1:], *settings)
        ref.adam_update(*twin[:1], g, *twin[1:], *settings)
        for a, b in zip(mine, twin):
            assert a.dtype == dtype
            np.testing.assert_array_equal(a, b)
