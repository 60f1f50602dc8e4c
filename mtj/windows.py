"""The write voltage windows of the paper's eqs. 8 and 9.

Conventional (eq. 8):    V(raw WER that ECC can repair) <= V_write < V_bd, with ECC.
Error resilient (eq. 9): V(moderate WER, no ECC)        <= V_write << V_bd.

Both return an `OperatingWindow` in units of V_c (convert with `MTJParams.volts`).
"""
from dataclasses import dataclass

from .ecc import ecc_bits_needed
from .inversion import drive_for_wer
from .params import MTJParams


@dataclass(frozen=True)
class OperatingWindow:
    """Allowed write drives lower <= i < upper (units of V_c), the raw WER at `lower`, and the ECC it relies on."""

    lower: float
    upper: float
    wer_at_lower: float
    ecc_bits: int

    @property
    def margin(self):
        """upper / lower: how far below breakdown the lowest usable write sits (eq. 9 asks for >> 1)."""
        return self.upper / self.lower


def conventional_window(params=MTJParams(), pulse=5.0, raw_wer=1e-6, word_failure=1e-15, data_bits=64):
    """Eq. 8: write at a raw WER that a t-correcting BCH code on `data_bits` brings down to `word_failure`.

    pulse in units of τ_D. Raises ValueError when the window is empty (the needed drive reaches breakdown).
    """
    lower = drive_for_wer(raw_wer, pulse, params.delta, params.field)
    return _window(params, lower, raw_wer, ecc_bits_needed(raw_wer, word_failure, data_bits))


def resilient_window(params=MTJParams(), pulse=5.0, wer_target=1e-3):
    """Eq. 9: write at the WER the network tolerates, without ECC. pulse in units of τ_D."""
    lower = drive_for_wer(wer_target, pulse, params.delta, params.field)
    return _window(params, lower, wer_target, 0)


def _window(params, lower, wer, ecc_bits):
    if lower >= params.v_bd_drive:
        raise ValueError(f"empty write window: WER {wer:g} needs drive {lower:.3f} V_c, at or above breakdown "
                         f"{params.v_bd_drive:.3f} V_c")
    return OperatingWindow(lower=lower, upper=params.v_bd_drive, wer_at_lower=wer, ecc_bits=ecc_bits)
