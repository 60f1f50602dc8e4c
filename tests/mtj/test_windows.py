"""Operating windows of eqs. 8 and 9."""
import pytest

from mtj.params import MTJParams
from mtj.windows import conventional_window, resilient_window


def test_resilient_window_is_wider_than_conventional():
    conventional, resilient = conventional_window(), resilient_window(wer_target=1e-3)
    assert conventional.lower == pytest.approx(2.7827, abs=1e-3) and conventional.ecc_bits == 3
    assert resilient.ecc_bits == 0 and resilient.lower < conventional.lower
    assert conventional.upper == resilient.upper == pytest.approx(4.0)
    assert resilient.margin > conventional.margin > 1


def test_empty_window_raises():
    with pytest.raises(ValueError, match="empty write window"):
        conventional_window(MTJParams(v_bd_volts=0.75), pulse=5.0)  # V_bd = 2.5 V_c < 2.78 V_c


def test_asymmetric_cell_takes_the_harder_direction():
    weak = MTJParams(v_c_volts=0.35)  # AP->P needs more voltage
    window = conventional_window(MTJParams(), ap_to_p=weak)
    alone = conventional_window(weak)
    assert window.lower_volts == pytest.approx(alone.lower_volts) and window.upper_volts == 1.2
    assert window.lower == pytest.approx(window.lower_volts / 0.3)  # in units of the P->AP V_c
    with pytest.raises(ValueError, match="empty write window"):
        resilient_window(MTJParams(), ap_to_p=MTJParams(v_c_volts=0.35, v_bd_volts=0.5))
