"""The write voltage windows of the paper's eqs. 8 and 9.

Conventional (eq. 8):    V(raw WER that ECC can repair) <= V_write < V_bd, with ECC.
Error resilient (eq. 9): V(moderate WER, no ECC)        <= V_write << V_bd.

Both return an `OperatingWindow` in volts and in units of the (P→AP) direction's V_c. A cell whose two write
directions differ (`ap_to_p`) needs the larger of their voltages at the lower end and stays below the lower of
their breakdown voltages.
"""
from dataclasses import dataclass

from .ecc import ecc_bits_needed
from .inversion import drive_for_wer
from .params import MTJParams


@dataclass(frozen=True)
class OperatingWindow:
    """Allowed write drives lower <= i < upper (units of the P→AP V_c), the raw WER at `lower`, the ECC it relies
    on, and the same window in volts."""

    lower: float
    upper: float
    wer_at_lower: float
    ecc_bits: int
    lower_volts: float = float("nan")
    upper_volts: float = float("nan")

    @property
    def margin(self):
        """upper / lower: how far below breakdown the lowest usable write sits (eq. 9 asks for >> 1)."""
        return self.upper / self.lower


def conventional_window(params=MTJParams(), pulse=5.0, raw_wer=1e-6, word_failure=1e-15, data_bits=64, ap_to_p=None):
    """Eq. 8: write at a raw WER that a t-correcting BCH code on `data_bits` brings down to `word_failure`.

    pulse in units of params' τ_D; ap_to_p: the AP→P direction if it differs. Raises ValueError when the window is
    empty (the needed voltage reaches breakdown).
    """
    return _window(params, ap_to_p, pulse, raw_wer, ecc_bits_needed(raw_wer, word_failure, data_bits))


def resilient_window(params=MTJParams(), pulse=5.0, wer_target=1e-3, ap_to_p=None):
    """Eq. 9: write at the WER the network tolerates, without ECC. pulse in units of params' τ_D."""
    return _window(params, ap_to_p, pulse, wer_target, 0)


def _window(params, ap_to_p, pulse, wer, ecc_bits):
    directions = [params] if ap_to_p is None or ap_to_p == params else [params, ap_to_p]
    pulse_ns = pulse * params.tau_d_ns
    lower = max(float(d.volts(drive_for_wer(wer, float(d.pulse(pulse_ns)), d.delta, d.field))) for d in directions)
    upper = min(d.v_bd_volts for d in directions)
    if lower >= upper:
        raise ValueError(f"empty write window: WER {wer:g} needs {lower:.3f} V ({lower / params.v_c_volts:.3f} V_c), "
                         f"at or above breakdown {upper:.3f} V ({upper / params.v_c_volts:.3f} V_c)")
    return OperatingWindow(lower=lower / params.v_c_volts, upper=upper / params.v_c_volts, wer_at_lower=wer,
                           ecc_bits=ecc_bits, lower_volts=lower, upper_volts=upper)
