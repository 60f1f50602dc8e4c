"""Element-wise activations and their gradients in one pass each: sign with its straight-through gradient, and ReLU.
NumPy's `np.where` with scalars and the mask-and-multiply take several passes, with temporaries as large as the
activations (about 100 ms each on a 128x192x32x32 NiN layer)."""
import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def _sign_kernel(x, out):
    for i in prange(x.size):
        out[i] = 1 if x[i] >= 0 else -1


@njit(parallel=True, cache=True)
def _hardtanh_grad_kernel(dout, x, dx):
    for i in prange(x.size):
        dx[i] = dout[i] if abs(x[i]) < 1 else 0


@njit(parallel=True, cache=True)
def _relu_kernel(x, out):
    for i in prange(x.size):
        out[i] = 0 if x[i] <= 0 else x[i]   # not x > 0: a NaN passes through to the loss


@njit(parallel=True, cache=True)
def _relu_grad_kernel(dout, out, dx):
    for i in prange(out.size):
        dx[i] = dout[i] if out[i] > 0 else 0


@njit(parallel=True, cache=True)
def _count_not_unit(x):
    bad = 0
    for i in prange(x.size):
        bad += 0 if abs(x[i]) == 1 else 1
    return bad


def is_signs(x):
    """True iff every entry of x is -1 or +1."""
    return _count_not_unit(np.ascontiguousarray(x).reshape(-1)) == 0


def signs_scale(x):
    """What a binary layer may be given: a ±1 tensor, or one after inverted dropout (every entry -c, 0 or +c for one
    c > 0, c = 1 / (1 - p)). Returns (c, dropped) with dropped True iff some entry is 0; None for anything else."""
    if is_signs(x):
        return 1.0, False
    magnitude = np.abs(x)
    c = float(magnitude.max()) if x.size else 0.0
    if not c > 0 or not np.all((magnitude == c) | (x == 0)):
        return None
    return c, bool(np.any(x == 0))


def _elementwise(kernel, out_like, *arrays):
    arrays = [np.ascontiguousarray(a) for a in arrays]
    out = np.empty_like(arrays[out_like])
    kernel(*(a.reshape(-1) for a in arrays), out.reshape(-1))
    return out


def sign(x):
    """x (any shape, float) -> ±1 of the same shape and dtype; sign(0) = +1 (NaN gives -1)."""
    return _elementwise(_sign_kernel, 0, x)


def hardtanh_grad(dout, x):
    """dout * 1{|x| < 1}: the straight-through gradient of sign, shaped like x (dout's dtype)."""
    return _elementwise(_hardtanh_grad_kernel, 0, dout, x)


def relu(x):
    """max(x, 0) of the same shape and dtype (NaN stays NaN)."""
    return _elementwise(_relu_kernel, 0, x)


def relu_grad(dout, out):
    """dout * 1{out > 0}, from the ReLU's output (which the next layer holds anyway: no mask to keep)."""
    return _elementwise(_relu_grad_kernel, 0, dout, out)
