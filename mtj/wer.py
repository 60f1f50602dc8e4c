"""Write error rate from the Fokker-Planck/Legendre solution, vectorized over drive and pulse width.

For a constant pulse r(τ) = exp(Aτ) r(0) (Tzoufras eq. 11) and WER = 2π s·r(τ) (eq. 12); `mtj.legendre` builds A,
`mtj.propagation` evaluates the exponential and estimates the numerical error of every point.

Resolution: a value is reported when its estimated error is at most RELATIVE_RESOLUTION (10 %) of it, i.e. when it
is above its point's *floor* = error / RELATIVE_RESOLUTION. The error estimate comes from the solver itself
(rounding of the propagated deviation, the stationary sum and any slow mode, and the truncation error of the
stationary state: see `mtj.propagation`); it is ~1e-15 for write pulses above the critical drive, so WERs down to
~1e-14 are reported there, and it grows with the pulse below the critical drive until the wells settle. Values
under their floor raise `ResolutionError` by default, or become NaN with ``below_resolution="nan"``.
`write_error_rate_estimate` returns the values with their error estimates and never refuses.

Truncation: N comes from `legendre.n_terms_for` unless given, and every call re-solves its weakest and strongest
drive with 25 % more terms and raises `ConvergenceError` if any value moves by more than CONVERGENCE_RTOL (relative)
plus both error estimates.

Threads: the drives are independent problems, solved in a pool of `threads` Python threads (BLAS releases the GIL).
The default uses every core when BLAS is single-threaded (importing `mtj` sets it so unless NumPy was loaded
earlier; see `mtj/__init__.py`), else one thread, since two multi-threaded BLAS calls at once oversubscribe the cores.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from . import propagation
from .legendre import n_terms_for
from .params import check_delta, check_drive, check_field, check_pulse

RELATIVE_RESOLUTION = 0.1
CONVERGENCE_RTOL = 1e-3
BLAS_SINGLE_THREADED = os.environ.get("OPENBLAS_NUM_THREADS") == "1"  # read at import, after mtj/__init__.py


class ResolutionError(ValueError):
    """The requested probability lies below what double precision resolves at that point (see the module doc)."""


class ConvergenceError(RuntimeError):
    """The Legendre series did not converge at the chosen truncation order."""


class Estimate(NamedTuple):
    """Probabilities and their estimated absolute numerical errors, arrays of the broadcast input shape."""

    value: np.ndarray
    error: np.ndarray

    @property
    def floor(self):
        """The smallest value reported at each point: error / RELATIVE_RESOLUTION."""
        return self.error / RELATIVE_RESOLUTION

    @property
    def resolved(self):
        """True where the value is at or above its floor."""
        return self.value >= self.floor


def write_error_rate(drive, pulse, delta=40.0, field=0.0, *, n_terms=None, below_resolution="raise", threads=None):
    """Probability that a write pulse leaves the bit unswitched (Tzoufras eq. 12).

    drive: i = V / V_c, any shape; pulse: τ = t / τ_D >= 0, any shape; the two broadcast together.
    delta: Δ = E_b / k_B T > 0; field: h = H / H_k in (−1, 1), positive opposes the write.
    n_terms: Legendre truncation order N, default `n_terms_for(delta, drive, field)` per drive.
    below_resolution: "raise" (ResolutionError) or "nan" for values below their point's floor (module doc).
    threads: Python threads over the drives (default: module doc).
    Returns a float array of the broadcast shape (a 0-d array for scalar inputs), values in [floor, 1].
    """
    estimate = write_error_rate_estimate(drive, pulse, delta, field, n_terms=n_terms, threads=threads)
    return _apply_resolution(estimate, drive, pulse, delta, field, below_resolution, "WER")


def switching_probability(drive, pulse, delta=40.0, field=0.0, *, n_terms=None, below_resolution="raise",
                          threads=None):
    """Probability that the write succeeds, 2π ∫₋₁⁰ ρ dx, computed directly (not as 1 − WER, which loses digits).

    Same arguments and shapes as `write_error_rate`; the resolution floor applies to this probability.
    """
    estimate = _estimate(drive, pulse, delta, field, n_terms, threads, upper=False)
    return _apply_resolution(estimate, drive, pulse, delta, field, below_resolution, "switching probability")


def write_error_rate_estimate(drive, pulse, delta=40.0, field=0.0, *, n_terms=None, threads=None):
    """`Estimate`(WER, error) for every (drive, pulse): the values with no resolution check; same arguments."""
    return _estimate(drive, pulse, delta, field, n_terms, threads, upper=True)


def switching_probability_estimate(drive, pulse, delta=40.0, field=0.0, *, n_terms=None, threads=None):
    """`Estimate` of the switching probability; see `write_error_rate_estimate`."""
    return _estimate(drive, pulse, delta, field, n_terms, threads, upper=False)


def default_threads():
    """Threads used when `threads=None`: every core this process may use if BLAS is single-threaded, else 1."""
    if not BLAS_SINGLE_THREADED:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _estimate(drive, pulse, delta, field, n_terms, threads, upper):
    delta, field = check_delta(delta), check_field(field)
    drive, pulse = np.broadcast_arrays(check_drive(drive), check_pulse(pulse))
    if n_terms is not None and (int(n_terms) != n_terms or n_terms < 4):
        raise ValueError(f"n_terms must be an integer >= 4, got {n_terms!r}")
    threads = default_threads() if threads is None else int(threads)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    unique, inverse = np.unique(drive, return_inverse=True)
    inverse = inverse.reshape(drive.shape)
    where = [inverse == k for k in range(unique.size)]
    orders = [n_terms_for(delta, i, field) if n_terms is None else int(n_terms) for i in unique]

    def solve(k, extra=0):
        return propagation.hemisphere_probability(delta, unique[k], field, pulse[where[k]], orders[k] + extra, upper)

    def finer(k):
        return solve(k, max(20, orders[k] // 4))

    value, error = np.empty(drive.shape), np.empty(drive.shape)
    extremes = sorted({0, unique.size - 1}) if unique.size else []
    with ThreadPoolExecutor(max_workers=max(1, min(threads, unique.size))) as pool:
        solved = list(pool.map(solve, range(unique.size)))
        for k, more in zip(extremes, pool.map(finer, extremes)):
            _check_convergence(delta, unique[k], solved[k][0], solved[k][1], more[0], more[1], pulse[where[k]],
                               orders[k])
    for k, (v, rounding, truncation) in enumerate(solved):
        value[where[k]], error[where[k]] = v, rounding + truncation
    np.minimum(value, 1.0, out=value)  # rounding can overshoot 1 by a few ulps
    return Estimate(value, error)


def _apply_resolution(estimate, drive, pulse, delta, field, below_resolution, what):
    if below_resolution not in ("raise", "nan"):
        raise ValueError(f"below_resolution must be 'raise' or 'nan', got {below_resolution!r}")
    out, low = np.array(estimate.value, dtype=float), ~np.asarray(estimate.resolved)
    if low.any():
        if below_resolution == "raise":
            drive, pulse = np.broadcast_arrays(np.asarray(drive, dtype=float), np.asarray(pulse, dtype=float))
            at = tuple(np.argwhere(low)[0])
            raise ResolutionError(
                f"{what} at drive={drive[at]:g}, pulse={pulse[at]:g}, delta={delta:g}, field={field:g} is below "
                f"{estimate.floor[at]:.2g}, what double precision resolves there (computed {estimate.value[at]:.2e}, "
                f"estimated error {estimate.error[at]:.1e}); pass below_resolution='nan' to mark such points instead")
        out[low] = np.nan
    return out


def _check_convergence(delta, drive, value, rounding, finer, finer_rounding, pulse, n):
    """Raise ConvergenceError unless N·1.25 terms reproduce `value` within CONVERGENCE_RTOL plus both roundings."""
    excess = np.abs(finer - value) - (CONVERGENCE_RTOL * np.abs(finer) + rounding + finer_rounding)
    if (excess > 0).any():
        at = np.argmax(excess)
        raise ConvergenceError(
            f"Legendre series not converged at drive={drive:g}, pulse={pulse[at]:g}, delta={delta:g} with N={n}: "
            f"{value[at]:.6e} vs {finer[at]:.6e} with more terms; pass a larger n_terms")


propagate = propagation.propagate  # the exponential itself, for callers that build their own problem
