"""Device parameters: defaults, conversions, and named errors."""
import pytest

from mtj.params import MTJParams


def test_defaults_and_conversions():
    params = MTJParams()
    assert params.delta == 40.0 and params.field == 0.0
    assert params.v_bd_drive == pytest.approx(4.0)
    assert params.drive(0.6) == pytest.approx(2.0) and params.volts(2.0) == pytest.approx(0.6)
    assert MTJParams(tau_d_ns=2.0).pulse(10.0) == pytest.approx(5.0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(delta=0.0), "delta"), (dict(delta=float("nan")), "delta"), (dict(tau_d_ns=-1.0), "tau_d_ns"),
    (dict(v_c_volts=0.0), "v_c_volts"), (dict(v_bd_volts=0.2), "v_bd_volts must exceed"), (dict(field=-1.0), "field"),
])
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MTJParams(**kwargs)


def test_frozen():
    with pytest.raises(AttributeError):
        MTJParams().delta = 60.0
