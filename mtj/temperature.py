"""Temperature: a cell's Δ, V_c and τ_D at temperature T from their values at a reference temperature.

Everything in `mtj` runs on Δ = E_b/k_BT, i = V/V_c and τ = t/τ_D, and all three move with temperature:

- the saturation magnetization follows Bloch's law, M_s(T) ∝ 1 − (T/T_C)^β (β = 3/2);
- the anisotropy energy density follows M_s to a power (Callen-Callen scaling), K(T) ∝ M_s(T)ⁿ, so with
  m = M_s(T)/M_s(T_ref):
- Δ(T) = E_b(T)/(k_B T) = Δ_ref · mⁿ · T_ref/T (the barrier shrinks, and k_B T grows);
- V_c(T) = V_c,ref · mⁿ: the critical current I_c0 = (4eα/ħη) E_b is proportional to the barrier, and V_c = I_c0 R;
- τ_D(T) = τ_D,ref · m^(1−n): τ_D = (1 + α²)/(α γ μ0 H_k) with H_k = 2K/(μ0 M_s) ∝ m^(n−1).

Assumed, and named in `TemperatureModel`: the damping α, the spin polarization η, the resistance R and the
breakdown voltage V_bd do not change with T (in real stacks the TMR and so R_AP fall with T), and the exponents and
T_C are typical values, not a fit to a device. T = T_ref returns the reference parameters exactly.
Everything broadcasts over arrays of temperatures (kelvin).
"""
from dataclasses import dataclass, replace

import numpy as np

from .params import MTJParams


@dataclass(frozen=True)
class TemperatureModel:
    """Temperature scaling of a cell's parameters; every default is an assumption, typical of CoFeB/MgO free layers.

    reference_kelvin:    the temperature at which the `MTJParams` values hold (300 K).
    curie_kelvin:        T_C of the free layer (assumed 900 K; thin CoFeB films sit below bulk CoFeB's ~1100 K).
    bloch_exponent:      β in M_s ∝ 1 − (T/T_C)^β (3/2, Bloch's law).
    anisotropy_exponent: n in K ∝ M_sⁿ (assumed 2; Callen-Callen gives 3 for single-ion bulk anisotropy, CoFeB/MgO
                         interface anisotropy measures ~2-2.5).
    """

    reference_kelvin: float = 300.0
    curie_kelvin: float = 900.0
    bloch_exponent: float = 1.5
    anisotropy_exponent: float = 2.0

    def __post_init__(self):
        for name in ("reference_kelvin", "curie_kelvin", "bloch_exponent", "anisotropy_exponent"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        if self.reference_kelvin >= self.curie_kelvin:
            raise ValueError(f"reference_kelvin {self.reference_kelvin} must lie below curie_kelvin "
                             f"{self.curie_kelvin}")

    def magnetization_ratio(self, kelvin):
        """m = M_s(T) / M_s(T_ref), any shape of T in kelvin, 0 < T < T_C."""
        kelvin = self._check(kelvin)
        bloch = lambda t: 1 - (t / self.curie_kelvin) ** self.bloch_exponent  # noqa: E731
        return bloch(kelvin) / bloch(self.reference_kelvin)

    def delta(self, kelvin, delta_ref):
        """Δ(T) = Δ_ref mⁿ T_ref/T."""
        return delta_ref * self.magnetization_ratio(kelvin) ** self.anisotropy_exponent * (
            self.reference_kelvin / self._check(kelvin))

    def critical_voltage(self, kelvin, v_c_ref_volts):
        """V_c(T) = V_c,ref mⁿ, in volts."""
        return v_c_ref_volts * self.magnetization_ratio(kelvin) ** self.anisotropy_exponent

    def tau_d(self, kelvin, tau_d_ref_ns):
        """τ_D(T) = τ_D,ref m^(1−n), in ns."""
        return tau_d_ref_ns * self.magnetization_ratio(kelvin) ** (1 - self.anisotropy_exponent)

    def params_at(self, params, kelvin):
        """The `MTJParams` of one write direction at temperature `kelvin` (scalar): Δ, V_c and τ_D scaled.

        Raises ValueError if the scaled V_c reaches the (temperature-independent) breakdown voltage.
        """
        kelvin = float(self._check(kelvin))
        return replace(params, delta=float(self.delta(kelvin, params.delta)),
                       v_c_volts=float(self.critical_voltage(kelvin, params.v_c_volts)),
                       tau_d_ns=float(self.tau_d(kelvin, params.tau_d_ns)))

    def _check(self, kelvin):
        kelvin = np.asarray(kelvin, dtype=float)
        bad = ~np.isfinite(kelvin) | (kelvin <= 0) | (kelvin >= self.curie_kelvin)
        if bad.any():
            raise ValueError(f"temperature must lie in (0, {self.curie_kelvin:g}) K (below the Curie temperature), "
                             f"got {float(kelvin[bad].flat[0])!r}")
        return kelvin


def params_at_temperature(params=MTJParams(), kelvin=300.0, model=TemperatureModel()):
    """Shorthand for `model.params_at(params, kelvin)`."""
    return model.params_at(params, kelvin)


def write_error_rate_at(voltage_volts, pulse_ns, kelvin, params=MTJParams(), model=TemperatureModel(), *,
                        below_resolution="raise"):
    """WER of a write at `voltage_volts` (V) for `pulse_ns` (ns), broadcast, with the cell at temperature `kelvin`."""
    from .wer import write_error_rate

    hot = model.params_at(params, kelvin)
    return write_error_rate(hot.drive(voltage_volts), hot.pulse(pulse_ns), hot.delta, hot.field,
                            below_resolution=below_resolution)


def retention_failure_at(years, kelvin, params=MTJParams(), model=TemperatureModel(), *, below_resolution="raise"):
    """Probability that a stored bit has flipped after `years` (any shape) at temperature `kelvin`."""
    from .retention import retention_failure_years

    return retention_failure_years(years, model.params_at(params, kelvin), below_resolution=below_resolution)


def read_disturb_at(read_volts, read_ns, kelvin, n_reads=1, params=MTJParams(), model=TemperatureModel(), *,
                    below_resolution="raise"):
    """Probability that n_reads reads at `read_volts` (V) for `read_ns` (ns) flip the bit at temperature `kelvin`."""
    from .retention import read_disturb

    hot = model.params_at(params, kelvin)
    return read_disturb(hot.drive(read_volts), hot.pulse(read_ns), hot.delta, hot.field, n_reads,
                        below_resolution=below_resolution)
