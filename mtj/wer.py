"""Write error rate from the Fokker-Planck/Legendre solution, vectorized over drive and pulse width.

For a constant pulse r(τ) = exp(Aτ) r(0) (Tzoufras eq. 11) and WER = 2π s·r(τ) (eq. 12), see `mtj.legendre`.
exp(Aτ) is evaluated by scaling and squaring (`propagate`), never through an eigendecomposition: A is far from normal
(its eigenvector matrix has condition ~1e16), and mode sums Σ aₖ exp(λₖτ) were measured off by up to 3e-5 in absolute
probability at low drive, while scaling and squaring agrees with `scipy.linalg.expm` to rounding.
The problem (A, r(0), s) is cached per (Δ, i, h, N); a 200 × 200 (drive, pulse) grid costs 200 shared ladders.

Resolution: rounding leaves an absolute error in the probability of up to ~2e-13 at short pulses (cancellation among
O(1) coefficients: measured at Δ = 20-120) that grows like eps·‖A‖₁·τ for long pulses (a rounding perturbation of
the slowest rates, compounded over the pulse; it dominates sub-critical drives, e.g. ~2e-10 at Δ = 40, i = 0,
τ = 1e4). So each point has a floor max(RESOLUTION_FLOOR, ROUNDING_GROWTH·‖A‖₁·τ), 1e-12 for write pulses; values
below it are not reported as numbers: they raise `ResolutionError` by default, or become NaN with
``below_resolution="nan"``. (Beyond τ ~ 1e12 the floor passes 1: use `mtj.closed_forms` for retention.)
Truncation: N comes from `legendre.n_terms_for` unless given, and every call re-solves its weakest and strongest
drive with 25 % more terms and raises `ConvergenceError` if any value moves by more than CONVERGENCE_RTOL
(relative) plus 0.3 × its floor.
"""
from functools import lru_cache

import numpy as np
import scipy.linalg
import scipy.sparse

from .legendre import initial_coefficients, n_terms_for, operator, upper_hemisphere_weights
from .params import check_delta, check_drive, check_field, check_pulse

RESOLUTION_FLOOR = 1e-12
CONVERGENCE_RTOL = 1e-3
ROUNDING_GROWTH = 1e-15  # absolute error per unit ‖A‖₁τ: measured ~2e-16 (one ulp per unit of ‖A‖τ), × 4.5 margin


class ResolutionError(ValueError):
    """The requested probability lies below what double precision resolves at that point (see the module doc)."""


class ConvergenceError(RuntimeError):
    """The Legendre series did not converge at the chosen truncation order."""


def write_error_rate(drive, pulse, delta=40.0, field=0.0, *, n_terms=None, below_resolution="raise"):
    """Probability that a write pulse leaves the bit unswitched (Tzoufras eq. 12).

    drive: i = V / V_c, any shape; pulse: τ = t / τ_D >= 0, any shape; the two broadcast together.
    delta: Δ = E_b / k_B T > 0; field: h = H / H_k in (−1, 1), positive opposes the write.
    n_terms: Legendre truncation order N, default `n_terms_for(delta, drive, field)` per drive.
    below_resolution: "raise" (ResolutionError) or "nan" for values below the point's floor, which is
    RESOLUTION_FLOOR = 1e-12 for write pulses and grows with very long pulses (module doc).
    Returns a float array of the broadcast shape (a 0-d array for scalar inputs), values in [floor, 1].
    """
    return _hemisphere_probability(drive, pulse, delta, field, n_terms, below_resolution, upper=True)


def switching_probability(drive, pulse, delta=40.0, field=0.0, *, n_terms=None, below_resolution="raise"):
    """Probability that the write succeeds, 2π ∫₋₁⁰ ρ dx, computed directly (not as 1 − WER, which loses digits).

    Same arguments and shapes as `write_error_rate`; the resolution floor applies to this probability.
    """
    return _hemisphere_probability(drive, pulse, delta, field, n_terms, below_resolution, upper=False)


def _hemisphere_probability(drive, pulse, delta, field, n_terms, below_resolution, upper):
    delta, field = check_delta(delta), check_field(field)
    drive, pulse = np.broadcast_arrays(check_drive(drive), check_pulse(pulse))
    if below_resolution not in ("raise", "nan"):
        raise ValueError(f"below_resolution must be 'raise' or 'nan', got {below_resolution!r}")
    if n_terms is not None and (int(n_terms) != n_terms or n_terms < 4):
        raise ValueError(f"n_terms must be an integer >= 4, got {n_terms!r}")
    out, floor = np.empty(drive.shape), np.empty(drive.shape)
    unique, inverse = np.unique(drive, return_inverse=True)
    inverse = inverse.reshape(drive.shape)
    for k, i in enumerate(unique):
        where = inverse == k
        n = n_terms_for(delta, i, field) if n_terms is None else int(n_terms)
        out[where], floor[where] = _solve(delta, i, field, pulse[where], n, upper)
        if k == 0 or k == unique.size - 1:
            _check_convergence(delta, i, field, pulse[where], n, upper, out[where], floor[where])
    np.minimum(out, 1.0, out=out)  # rounding can overshoot 1 by ~1e-15
    low = out < floor
    if low.any():
        if below_resolution == "raise":
            at = tuple(np.argwhere(low)[0])
            what = "WER" if upper else "switching probability"
            if floor[at] >= 1:
                raise ResolutionError(
                    f"pulse={pulse[at]:g} tau_D at drive={drive[at]:g}, delta={delta:g} is too long for the "
                    "Fokker-Planck solution in double precision (rounding grows with the pulse); for retention and "
                    "slow thermal switching use mtj.closed_forms")
            raise ResolutionError(
                f"{what} at drive={drive[at]:g}, pulse={pulse[at]:g}, delta={delta:g}, field={field:g} is below "
                f"{floor[at]:.2g}, what double precision resolves there (computed {out[at]:.2e}); "
                "pass below_resolution='nan' to mark such points instead")
        out[low] = np.nan
    return out


def _solve(delta, drive, field, pulse, n, upper):
    """(probability, resolution floor) at one drive for a 1-D array of pulses; see `propagate` and the module doc."""
    a, r0, weights = _problem(delta, drive, field, n, upper)
    floor = np.maximum(RESOLUTION_FLOOR, ROUNDING_GROWTH * np.abs(a).sum(axis=0).max() * pulse)
    return weights @ propagate(a, r0, pulse), floor


def propagate(a, r0, pulse):
    """r(τ) = exp(Aτ) r(0) for every pulse τ: shape (N+1, M) for M pulses.

    One pulse costs one `scipy.linalg.expm`; many pulses share the work. With δ = 1/‖A‖₁ write τ = kδ + ρ, 0 <= ρ < δ:
    exp(Aρ) is a Taylor series that converges like 1/m! (‖Aρ‖ < 1, 24 terms leave < 1e-23) applied with the sparse
    pentadiagonal A, and exp(Akδ) is the product of the powers exp(A 2ʲ δ) for the bits j of k, each the square of the
    one before: a scaling-and-squaring shared by all pulses, as stable as expm itself (tests/mtj/test_wer.py compares).
    """
    step = 1.0 / np.abs(a).sum(axis=0).max()
    count = np.floor(pulse / step)
    if pulse.size <= 2 or count.max() >= 2.0**62:  # few pulses, or so long that k overflows: expm per pulse
        return np.stack([scipy.linalg.expm(a * t) @ r0 for t in pulse], axis=1)
    rest = pulse - count * step
    sparse = scipy.sparse.csr_matrix(a)
    r = np.repeat(r0[:, None], pulse.size, axis=1)
    term = r.copy()
    for m in range(1, 25):
        term = (sparse @ term) * (rest / m)
        r += term
    count = count.astype(np.int64)
    power = scipy.linalg.expm(a * step)
    while count.any():
        odd = (count & 1).astype(bool)
        if odd.any():
            r[:, odd] = power @ r[:, odd]
        count >>= 1
        if count.any():
            power = power @ power
    return r


def _check_convergence(delta, drive, field, pulse, n, upper, value, floor):
    """Raise ConvergenceError unless N·1.25 terms reproduce `value` within CONVERGENCE_RTOL + 0.3·floor."""
    finer, finer_floor = _solve(delta, drive, field, pulse, n + max(20, n // 4), upper)
    excess = np.abs(finer - value) - (CONVERGENCE_RTOL * np.abs(finer) + 0.3 * np.maximum(floor, finer_floor))
    excess[np.maximum(floor, finer_floor) >= 1] = 0  # pulses too long to resolve anything: flagged by the caller
    if (excess > 0).any():
        at = np.argmax(excess)
        raise ConvergenceError(
            f"Legendre series not converged at drive={drive:g}, pulse={pulse[at]:g}, delta={delta:g} with N={n}: "
            f"{value[at]:.6e} vs {finer[at]:.6e} with more terms; pass a larger n_terms")


@lru_cache(maxsize=1024)
def _problem(delta, drive, field, n, upper):
    """(A, r(0), 2π s) for one (Δ, i, h, N), read-only; s for the lower hemisphere is (−1)ⁿ sₙ by parity of Pₙ."""
    weights = 2 * np.pi * upper_hemisphere_weights(n)
    if not upper:
        weights[1::2] *= -1
    arrays = operator(n, delta, drive, field), initial_coefficients(n, delta, field), weights
    for array in arrays:
        array.setflags(write=False)
    return arrays
