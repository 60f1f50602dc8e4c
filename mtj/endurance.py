"""Write endurance as limited by MgO barrier breakdown: a SURROGATE, not a fitted model.

Kan et al. (2017) project > 1e15 cycles at low voltage; Carboni et al. (2018) measure endurance against voltage,
pulse width, polarity and delay. Their fitted forms are not available here, so this module uses the usual
power-law time-dependent-dielectric-breakdown shape with every parameter explicit and assumed:

    N_BD = cycles_at_breakdown_voltage · (V_bd / V)^voltage_exponent · (reference_pulse / t)^pulse_exponent.

Use it to compare operating points of the same cell (ratios), not to predict a device's lifetime.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EnduranceSurrogate:
    """Power-law breakdown surrogate; all defaults are assumptions chosen to be of the published orders of magnitude.

    cycles_at_breakdown_voltage: cycles survived at V = V_bd with the reference pulse (assumed 1e6).
    voltage_exponent:            voltage acceleration n (assumed 40: steep, as TDDB of thin MgO is).
    pulse_exponent:              pulse-width acceleration m (assumed 1: damage ∝ time under stress).
    reference_pulse_ns:          pulse width at which cycles_at_breakdown_voltage holds (assumed 1 ns).
    unlimited_cycles:            endurance at or above this counts as "unlimited" (1e15, Kan et al.'s projection).
    """

    cycles_at_breakdown_voltage: float = 1e6
    voltage_exponent: float = 40.0
    pulse_exponent: float = 1.0
    reference_pulse_ns: float = 1.0
    unlimited_cycles: float = 1e15

    def __post_init__(self):
        for name in ("cycles_at_breakdown_voltage", "voltage_exponent", "reference_pulse_ns", "unlimited_cycles"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not self.pulse_exponent >= 0:
            raise ValueError(f"pulse_exponent must be >= 0, got {self.pulse_exponent!r}")

    def cycles(self, voltage_volts, pulse_ns, breakdown_volts):
        """Write cycles to breakdown at the given voltage (V) and pulse width (ns); broadcasts, returns floats."""
        voltage, pulse = np.asarray(voltage_volts, dtype=float), np.asarray(pulse_ns, dtype=float)
        if (voltage <= 0).any() or (pulse <= 0).any():
            raise ValueError(f"voltage and pulse must be > 0, got voltage {voltage.min():g} V, "
                             f"pulse {pulse.min():g} ns")
        return (self.cycles_at_breakdown_voltage * (breakdown_volts / voltage) ** self.voltage_exponent
                * (self.reference_pulse_ns / pulse) ** self.pulse_exponent)

    def is_unlimited(self, cycles):
        """True where the endurance reaches `unlimited_cycles`."""
        return np.asarray(cycles) >= self.unlimited_cycles


def relative_write_energy(drive, pulse, reference_drive, reference_pulse):
    """Write energy per bit relative to a reference operating point: E ∝ V² t / R at fixed resistance R.

    drive, pulse: the operating point (V/V_c, t/τ_D, any broadcastable shapes); reference_*: the baseline.
    Returns E / E_ref (1.0 = same energy).
    """
    return (np.asarray(drive, dtype=float) / reference_drive) ** 2 * (np.asarray(pulse, dtype=float) / reference_pulse)
