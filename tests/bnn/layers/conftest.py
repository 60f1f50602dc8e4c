"""Finite-difference gradient checking for layers, in float64."""
import numpy as np
import pytest


def numerical_grad(f, array, h=1e-6):
    """Central differences of the scalar f() w.r.t. every entry of `array` (perturbed in place)."""
    grad = np.zeros_like(array)
    flat, gflat = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f()
        flat[i] = old - h
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def to_float64(layer):
    for store in (layer.params, layer.buffers):
        for key in store:
            store[key] = store[key].astype(np.float64)
    return layer


def check_layer_gradients(layer, x, rng, training=True, before_forward=None, rtol=1e-5, atol=1e-7):
    """Compare layer.backward with finite differences of sum(forward(x) * dout), for the input and every param."""
    to_float64(layer)
    x = x.astype(np.float64)

    def loss():
        if before_forward is not None:
            before_forward(layer)
        return float(np.sum(layer.forward(x, training) * dout))

    if before_forward is not None:
        before_forward(layer)
    out = layer.forward(x, training)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, numerical_grad(loss, x), rtol=rtol, atol=atol, err_msg=f"{layer.name}: dL/dx")
    for key, param in layer.params.items():
        np.testing.assert_allclose(layer.grads[key], numerical_grad(loss, param), rtol=rtol, atol=atol,
                                   err_msg=f"{layer.name}: dL/d{key}")


@pytest.fixture
def gradcheck():
    return check_layer_gradients


@pytest.fixture
def fd_grad():
    return numerical_grad
