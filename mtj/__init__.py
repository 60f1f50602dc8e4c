"""The STT-MRAM write-error calculator (pure NumPy; Numba only in `mtj.macrospin`).

Everything runs on dimensionless numbers: drive i = V/V_c, pulse τ = t/τ_D, Δ = E_b/k_BT, field h = H/H_k
(`MTJParams` converts volts and nanoseconds). Start with `write_error_rate`, `drive_for_wer` and `pulse_for_wer`;
`mtj.paper` rebuilds the paper's Table 1 and Figure 5; `write_flip_probabilities` is the entry point for `bnn`.
`mtj.plots` (matplotlib) and `mtj.macrospin` (Numba) are imported on demand, not here.

Threads: the Fokker-Planck work is many small dense products (100-300 wide), which multi-threaded OpenBLAS runs
*slower* than one thread, by 20× on a busy machine (benchmarks/mtj.py). Run with OPENBLAS_NUM_THREADS=1 (set before
NumPy is imported) unless the cores are idle.
"""
from .closed_forms import (brown_retention_failure, neel_arrhenius_retention_failure, precessional_wer,
                           read_disturb_probability, thermal_switching_rate, thermal_wer)
from .ecc import bch_word_bits, ecc_bits_needed, word_failure_probability
from .endurance import EnduranceSurrogate, relative_write_energy
from .flips import FlipProbabilities, write_flip_probabilities
from .inversion import drive_for_wer, long_pulse_wer, pulse_for_wer
from .params import MTJParams
from .wer import RESOLUTION_FLOOR, ConvergenceError, ResolutionError, switching_probability, write_error_rate
from .windows import OperatingWindow, conventional_window, resilient_window

__all__ = [
    "MTJParams", "write_error_rate", "switching_probability", "RESOLUTION_FLOOR", "ResolutionError",
    "ConvergenceError", "drive_for_wer", "pulse_for_wer", "long_pulse_wer", "precessional_wer", "thermal_wer",
    "thermal_switching_rate", "read_disturb_probability", "brown_retention_failure",
    "neel_arrhenius_retention_failure", "word_failure_probability", "bch_word_bits", "ecc_bits_needed",
    "EnduranceSurrogate", "relative_write_energy", "OperatingWindow", "conventional_window", "resilient_window",
    "FlipProbabilities", "write_flip_probabilities",
]
