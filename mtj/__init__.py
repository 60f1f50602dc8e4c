"""The STT-MRAM write-error calculator (pure NumPy; Numba only in `mtj.macrospin`).

Everything runs on dimensionless numbers: drive i = V/V_c, pulse τ = t/τ_D, Δ = E_b/k_BT, field h = H/H_k
(`MTJParams` converts volts and nanoseconds; `mtj.temperature` moves them with temperature). Start with
`write_error_rate`, `drive_for_wer` and `pulse_for_wer`; pulses with rise and fall times are in `mtj.pulses`,
retention and read disturb from the full solution in `mtj.retention`; `mtj.paper` rebuilds the paper's Table 1 and
Figure 5; `write_flip_probabilities` is the entry point for `bnn`. `mtj.plots` (matplotlib) and `mtj.macrospin`
(Numba) are imported on demand, not here.

Threads: the Fokker-Planck work is many small dense products (100-300 wide), which a multi-threaded OpenBLAS runs
slower than one thread, and `mtj.wer` runs its drives in parallel Python threads instead. So importing `mtj` sets
single-threaded BLAS (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS = 1, unless set), as `bnn` does. That
takes effect only if NumPy is not imported yet, as with `python -m mtj`; a script that imports NumPy first should
set OPENBLAS_NUM_THREADS=1 itself (`mtj.wer` then uses one thread, see `mtj.wer.default_threads`).
"""
import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from .closed_forms import (brown_retention_failure, neel_arrhenius_retention_failure, precessional_wer,  # noqa: E402
                           read_disturb_probability, thermal_switching_rate, thermal_wer, ValidityWarning)
from .ecc import bch_word_bits, ecc_bits_needed, word_failure_probability  # noqa: E402
from .endurance import EnduranceSurrogate, relative_write_energy  # noqa: E402
from .flips import FlipProbabilities, write_flip_probabilities  # noqa: E402
from .inversion import drive_for_wer, long_pulse_wer, pulse_for_wer  # noqa: E402
from .params import MTJParams  # noqa: E402
from .pulses import piecewise_wer, trapezoid_wer  # noqa: E402
from .retention import read_disturb, retention_failure, retention_failure_years, retention_time  # noqa: E402
from .temperature import TemperatureModel, params_at_temperature  # noqa: E402
from .wer import (ConvergenceError, Estimate, ResolutionError, switching_probability,  # noqa: E402
                  switching_probability_estimate, write_error_rate, write_error_rate_estimate)
from .windows import OperatingWindow, conventional_window, resilient_window  # noqa: E402

__all__ = [
    "MTJParams", "write_error_rate", "switching_probability", "write_error_rate_estimate",
    "switching_probability_estimate", "Estimate", "ResolutionError", "ConvergenceError", "drive_for_wer",
    "pulse_for_wer", "long_pulse_wer", "precessional_wer", "thermal_wer", "thermal_switching_rate",
    "read_disturb_probability", "ValidityWarning", "brown_retention_failure", "neel_arrhenius_retention_failure",
    "retention_failure", "retention_failure_years", "retention_time", "read_disturb", "piecewise_wer",
    "trapezoid_wer", "TemperatureModel", "params_at_temperature", "word_failure_probability", "bch_word_bits",
    "ecc_bits_needed", "EnduranceSurrogate", "relative_write_energy", "OperatingWindow", "conventional_window",
    "resilient_window", "FlipProbabilities", "write_flip_probabilities",
]
