"""The function the bnn bridge calls: write error rates of both write directions."""
import numpy as np
import pytest

from mtj.flips import write_flip_probabilities
from mtj.params import MTJParams
from mtj.wer import write_error_rate


def test_symmetric_cell_gives_equal_rates_in_volts_and_ns():
    flips = write_flip_probabilities(0.3 * 2.78, 5.0)  # default V_c = 0.3 V, tau_D = 1 ns
    assert flips.p_to_ap == flips.ap_to_p == pytest.approx(write_error_rate(2.78, 5.0))


def test_directions_differ_when_their_parameters_do():
    p_to_ap = MTJParams(v_c_volts=0.35)
    ap_to_p = MTJParams(v_c_volts=0.25, delta=45.0)
    flips = write_flip_probabilities(np.array([0.6, 0.7]), 5.0, p_to_ap, ap_to_p)
    np.testing.assert_allclose(flips.p_to_ap, write_error_rate(np.array([0.6, 0.7]) / 0.35, 5.0, 40.0))
    np.testing.assert_allclose(flips.ap_to_p, write_error_rate(np.array([0.6, 0.7]) / 0.25, 5.0, 45.0))
    assert (flips.ap_to_p < flips.p_to_ap).all()  # the lower V_c direction is driven harder


def test_unresolved_rates_can_be_marked():
    flips = write_flip_probabilities(0.3 * 6, 20.0, below_resolution="nan")
    assert np.isnan(flips.p_to_ap) and np.isnan(flips.ap_to_p)
