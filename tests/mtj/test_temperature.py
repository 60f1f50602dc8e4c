"""Temperature scaling of Δ, V_c and τ_D: the reference point, the limits, and what it does to WER and retention."""
import numpy as np
import pytest

from mtj.params import MTJParams
from mtj.temperature import (TemperatureModel, read_disturb_at, retention_failure_at, write_error_rate_at)
from mtj.wer import write_error_rate


def test_reference_temperature_gives_the_reference_parameters():
    params, model = MTJParams(delta=60.0, v_c_volts=0.35, tau_d_ns=1.5), TemperatureModel()
    assert model.params_at(params, 300.0) == params
    assert model.magnetization_ratio(300.0) == 1.0


def test_scaling_laws():
    model = TemperatureModel(curie_kelvin=900.0, bloch_exponent=1.5, anisotropy_exponent=2.0)
    kelvin = np.array([250.0, 350.0, 400.0])
    m = (1 - (kelvin / 900) ** 1.5) / (1 - (300 / 900) ** 1.5)
    np.testing.assert_allclose(model.delta(kelvin, 60.0), 60.0 * m**2 * 300 / kelvin, rtol=1e-14)
    np.testing.assert_allclose(model.critical_voltage(kelvin, 0.3), 0.3 * m**2, rtol=1e-14)
    np.testing.assert_allclose(model.tau_d(kelvin, 1.0), 1.0 / m, rtol=1e-14)
    assert (np.diff(model.delta(np.linspace(200, 850, 30), 60.0)) < 0).all()
    assert model.delta(899.999, 60.0) < 1e-3  # the barrier vanishes at T_C
    # n = 1: H_k does not change, so neither does τ_D
    assert TemperatureModel(anisotropy_exponent=1.0).tau_d(400.0, 1.0) == pytest.approx(1.0)


def test_hotter_cells_write_easier_and_forget_sooner():
    params = MTJParams(delta=60.0)
    volts, ns = params.volts(2.0), 5.0
    wers = [float(write_error_rate_at(volts, ns, t, params)) for t in (300.0, 350.0)]
    assert wers[1] < wers[0]  # lower V_c: the same voltage is a stronger drive
    assert wers[0] == pytest.approx(float(write_error_rate(2.0, 5.0, 60.0)), rel=1e-12)
    retention = [float(retention_failure_at(10.0, t, params, below_resolution="nan")) for t in (300.0, 350.0)]
    assert retention[1] > 100 * retention[0]
    disturb = [float(read_disturb_at(params.volts(0.5), 10.0, t, 1000, params)) for t in (300.0, 350.0)]
    assert disturb[1] > disturb[0]


@pytest.mark.parametrize("kwargs, match", [(dict(curie_kelvin=250.0), "below curie"),
                                           (dict(bloch_exponent=0.0), "bloch_exponent")])
def test_bad_models_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TemperatureModel(**kwargs)
    with pytest.raises(ValueError, match="Curie"):
        TemperatureModel().delta(950.0, 40.0)
