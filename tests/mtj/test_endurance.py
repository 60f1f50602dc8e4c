"""The endurance surrogate and the relative write energy."""
import pytest

from mtj.endurance import EnduranceSurrogate, relative_write_energy


def test_surrogate_power_law():
    model = EnduranceSurrogate()
    assert model.cycles(1.2, 1.0, breakdown_volts=1.2) == pytest.approx(1e6)
    # halving the voltage multiplies the cycles by 2^40; doubling the pulse halves them
    assert model.cycles(0.6, 1.0, 1.2) == pytest.approx(1e6 * 2.0**40)
    assert model.cycles(0.6, 2.0, 1.2) == pytest.approx(0.5e6 * 2.0**40)
    assert model.is_unlimited(1e15) and not model.is_unlimited(9.9e14)


def test_bad_surrogate_parameters_and_inputs():
    with pytest.raises(ValueError, match="voltage_exponent"):
        EnduranceSurrogate(voltage_exponent=0)
    with pytest.raises(ValueError, match="voltage and pulse"):
        EnduranceSurrogate().cycles(-0.5, 1.0, 1.2)


def test_relative_energy_is_v_squared_t():
    assert relative_write_energy(2.0, 5.0, 2.0, 5.0) == pytest.approx(1.0)
    assert relative_write_energy(1.0, 5.0, 2.0, 5.0) == pytest.approx(0.25)
    assert relative_write_energy(2.0, 2.5, 2.0, 5.0) == pytest.approx(0.5)
