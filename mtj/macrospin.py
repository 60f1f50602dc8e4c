"""Stochastic LLG-Slonczewski macrospin Monte Carlo: an independent check of the Fokker-Planck WER.

The Gilbert form with a thermal field (MTJ.md section 6),

    dm/dt = −γμ0 m × (H_eff + H_th) + α m × dm/dt − γμ0 a_J m × (m × p),   H_eff = (H_k m_z + H) ẑ,

is solved for dm/dt (apply m × and use m ⊥ dm/dt) and scaled by H_k and t' = γμ0 H_k t / (1 + α²):

    dm/dt' = −m × h − α m × (m × h) − a m × (m × p) + α a m × p,   h = (m_z + h_app) ẑ + h_th,  a = α i,  p = −ẑ.

Its z-component without noise is dm_z/dt' = α (1 − m_z²)(m_z + h_app − i), i.e. MTJ.md's dx/dτ with τ = α t'.
p = −ẑ: the spin current pushes toward m_z = −1, the write direction of `mtj.wer`. The thermal field has independent
Gaussian components of variance 2αk_BT/(γμ0² M_s V Δt) (SI); with Δ = μ0 M_s H_k V / 2k_BT that becomes
α / (Δ (1 + α²) Δt') in these units. In τ units the axisymmetric problem does not depend on α at all, so the
damping is a free numerical choice: a large α (default 0.5) needs fewest steps per τ_D.

Integration: Stratonovich Heun (the noise field is held over a step, predictor and corrector share it), then
|m| renormalized. Initial angle from the Boltzmann density ∝ exp(Δ(m_z² + 2 h_app m_z)) on the upper hemisphere
(the ∝ exp(−Δ sin²θ) sin θ of MTJ.md at h = 0), azimuth uniform. A trajectory is a write error if m_z > 0 when the
pulse ends.

Randomness: one `numpy.random.Generator` draws all initial states, then all noise, trajectory after trajectory;
chunks only bound memory, so results do not depend on the chunk size or on the number of threads. The noise is
drawn in float32 (in float64, drawing it takes half the run time: `benchmarks/mtj.py` reports noise-only
trajectories per second; 24-bit normals are ample for a thermal kick) and
the integration runs in float64.
`integrate` (Numba, parallel over trajectories) and `integrate_reference` (NumPy, vectorized over trajectories)
evaluate the same `_torque` source in the same order, and tests compare them bit for bit.
"""
from dataclasses import dataclass

import numba
import numpy as np
from scipy.special import betaincinv

from .params import check_delta, check_drive, check_field, check_pulse

NOISE_BUDGET = 1_500_000  # trajectory-steps of noise held at once, × 3 float32 = 18 MB


def _torque(mx, my, mz, hx, hy, hz, spin_torque, damping):
    """dm/dt' for total field h and damping-like torque a = spin_torque with p = −ẑ (scalars or equal arrays)."""
    cx = my * hz - mz * hy  # c = m × h
    cy = mz * hx - mx * hz
    cz = mx * hy - my * hx
    dx = my * cz - mz * cy  # d = m × (m × h)
    dy = mz * cx - mx * cz
    dz = mx * cy - my * cx
    # with p = −ẑ: m × p = (−m_y, m_x, 0) and m × (m × p) = (−m_z m_x, −m_z m_y, m_x² + m_y²)
    fx = -cx - damping * dx + spin_torque * (mz * mx) + damping * spin_torque * (-my)
    fy = -cy - damping * dy + spin_torque * (mz * my) + damping * spin_torque * mx
    fz = -cz - damping * dz - spin_torque * (mx * mx + my * my)
    return fx, fy, fz


_torque_jit = numba.njit(cache=True, inline="always")(_torque)


@numba.njit(parallel=True, cache=True)
def integrate(m0, noise, drive, field, damping, step, noise_scale):
    """Heun-integrate trajectories; Numba twin of `integrate_reference`.

    m0: (n, 3) unit vectors; noise: (n, steps, 3) standard normals (float32 or float64);
    drive i, field h_app, damping α;
    step: Δt' (reduced time); noise_scale: thermal field standard deviation per component. Returns m, (n, 3).
    """
    n, steps = noise.shape[0], noise.shape[1]
    spin_torque = damping * drive
    out = np.empty((n, 3))
    for k in numba.prange(n):
        mx, my, mz = m0[k, 0], m0[k, 1], m0[k, 2]
        for s in range(steps):
            hx = noise_scale * noise[k, s, 0]
            hy = noise_scale * noise[k, s, 1]
            hz = noise_scale * noise[k, s, 2] + field
            fx, fy, fz = _torque_jit(mx, my, mz, hx, hy, hz + mz, spin_torque, damping)
            px = mx + step * fx
            py = my + step * fy
            pz = mz + step * fz
            gx, gy, gz = _torque_jit(px, py, pz, hx, hy, hz + pz, spin_torque, damping)
            mx = mx + 0.5 * step * (fx + gx)
            my = my + 0.5 * step * (fy + gy)
            mz = mz + 0.5 * step * (fz + gz)
            norm = np.sqrt(mx * mx + my * my + mz * mz)
            mx, my, mz = mx / norm, my / norm, mz / norm
        out[k, 0], out[k, 1], out[k, 2] = mx, my, mz
    return out


def integrate_reference(m0, noise, drive, field, damping, step, noise_scale):
    """Plain NumPy twin of `integrate` (same arguments, same result bit for bit), vectorized over trajectories."""
    spin_torque = damping * drive
    noise = np.asarray(noise, dtype=np.float64)  # as Numba widens each float32 draw before multiplying
    mx, my, mz = m0[:, 0].copy(), m0[:, 1].copy(), m0[:, 2].copy()
    for s in range(noise.shape[1]):
        hx = noise_scale * noise[:, s, 0]
        hy = noise_scale * noise[:, s, 1]
        hz = noise_scale * noise[:, s, 2] + field
        fx, fy, fz = _torque(mx, my, mz, hx, hy, hz + mz, spin_torque, damping)
        px, py, pz = mx + step * fx, my + step * fy, mz + step * fz
        gx, gy, gz = _torque(px, py, pz, hx, hy, hz + pz, spin_torque, damping)
        mx = mx + 0.5 * step * (fx + gx)
        my = my + 0.5 * step * (fy + gy)
        mz = mz + 0.5 * step * (fz + gz)
        norm = np.sqrt(mx * mx + my * my + mz * mz)
        mx, my, mz = mx / norm, my / norm, mz / norm
    return np.stack([mx, my, mz], axis=1)


def initial_states(n, delta, field, rng):
    """n unit vectors (n, 3) in the upper well, m_z from the Boltzmann density ∝ exp(Δ(m_z² + 2h m_z)) on [0, 1].

    m_z by inverting the tabulated CDF (200 001 points: finer than the 1/2Δ-wide peak by far), azimuth uniform.
    """
    x = np.linspace(0.0, 1.0, 200_001)
    density = np.exp(delta * (x * x + 2 * field * x - 1 - 2 * field))
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2)])
    mz = np.interp(rng.random(n) * cdf[-1], cdf, x)
    azimuth = rng.random(n) * 2 * np.pi
    sin_theta = np.sqrt(1 - mz * mz)
    return np.stack([sin_theta * np.cos(azimuth), sin_theta * np.sin(azimuth), mz], axis=1)


@dataclass(frozen=True)
class MonteCarloWER:
    """errors out of trajectories, the WER estimate errors / trajectories, and a Clopper-Pearson interval."""

    errors: int
    trajectories: int
    ci_low: float
    ci_high: float
    confidence: float

    @property
    def wer(self):
        return self.errors / self.trajectories

    def contains(self, value):
        """True if value lies inside the confidence interval."""
        return self.ci_low <= value <= self.ci_high


def binomial_interval(errors, trials, confidence=0.95):
    """Exact (Clopper-Pearson) two-sided interval for a binomial probability: (low, high)."""
    if not 0 <= errors <= trials or trials < 1:
        raise ValueError(f"need 0 <= errors <= trials and trials >= 1, got errors={errors}, trials={trials}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    tail = (1 - confidence) / 2
    low = 0.0 if errors == 0 else float(betaincinv(errors, trials - errors + 1, tail))
    high = 1.0 if errors == trials else float(betaincinv(errors + 1, trials - errors, 1 - tail))
    return low, high


def simulate_wer(drive, pulse, delta, rng, n_trajectories, *, field=0.0, damping=0.5, step_tau=0.0025,
                 confidence=0.95, reference=False):
    """Monte Carlo write error rate of one pulse: drive i = V/V_c, pulse τ = t/τ_D, Δ, with a seeded Generator.

    step_tau: time step in units of τ_D (the Heun step in t' is step_tau / damping); the pulse is rounded to a
    whole number of steps. reference=True runs the NumPy twin (slow; for tests). Returns a `MonteCarloWER`.
    """
    drive, pulse = float(check_drive(drive)), float(check_pulse(pulse))
    delta, field = check_delta(delta), check_field(field)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if int(n_trajectories) != n_trajectories or n_trajectories < 1:
        raise ValueError(f"n_trajectories must be a positive integer, got {n_trajectories!r}")
    if not (0 < damping and 0 < step_tau <= pulse):
        raise ValueError(f"need damping > 0 and 0 < step_tau <= pulse, got damping={damping}, step_tau={step_tau}")
    steps = max(1, round(pulse / step_tau))
    step = pulse / steps / damping  # τ = α t'
    noise_scale = np.sqrt(damping / (delta * (1 + damping**2) * step))
    m0 = initial_states(int(n_trajectories), delta, field, rng)
    run = integrate_reference if reference else integrate
    errors = 0
    chunk = max(1, NOISE_BUDGET // steps)
    for start in range(0, m0.shape[0], chunk):
        part = m0[start:start + chunk]
        noise = rng.standard_normal((part.shape[0], steps, 3), dtype=np.float32)
        errors += int((run(part, noise, drive, field, damping, step, noise_scale)[:, 2] > 0).sum())
    low, high = binomial_interval(errors, m0.shape[0], confidence)
    return MonteCarloWER(errors=errors, trajectories=m0.shape[0], ci_low=low, ci_high=high, confidence=confidence)
