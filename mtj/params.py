"""Device parameters of a perpendicular STT-MRAM cell, and the checks every public function shares.

All physics in `mtj` runs on dimensionless numbers (MTJ.md section 1):

- ``delta`` = E_b / k_B T, the thermal stability;
- ``drive`` i = V / V_c, the write voltage in units of the critical switching voltage;
- ``field`` h = H / H_k, an easy-axis field in units of the anisotropy field;
- ``pulse`` τ = t / τ_D, the pulse width in units of the characteristic time τ_D.

`MTJParams` carries these plus the few dimensional numbers needed to convert volts and nanoseconds into them.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MTJParams:
    """One write direction of one cell.

    delta:        thermal stability E_b / k_B T (dimensionless). Default 40: *inferred* from the paper's
                  worked example (section III.2), which matches Δ = 40 to all printed digits.
    tau_d_ns:     characteristic time τ_D = (1 + α²) / (α γ μ0 H_k), in ns. Default 1 ns (MTJ.md: "≈ 1 ns").
    v_c_volts:    critical switching voltage V_c, in volts. Default 0.3 V: *assumed*, not from the paper.
    v_bd_volts:   dielectric breakdown voltage of the MgO barrier, in volts. Default 1.2 V: *assumed*
                  (V_bd / V_c = 4 keeps the paper's 2.78 V_c operating point below breakdown).
    field:        easy-axis field h = H / H_k (dimensionless, positive opposes the write). Default 0, as in the paper.

    Only the ratios V / V_c, V / V_bd and t / τ_D enter the results, so the assumed volts only set the scale.
    """

    delta: float = 40.0
    tau_d_ns: float = 1.0
    v_c_volts: float = 0.3
    v_bd_volts: float = 1.2
    field: float = 0.0

    def __post_init__(self):
        check_delta(self.delta)
        for name in ("tau_d_ns", "v_c_volts", "v_bd_volts"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        if self.v_bd_volts <= self.v_c_volts:
            raise ValueError(f"v_bd_volts must exceed v_c_volts={self.v_c_volts}, got {self.v_bd_volts}")
        check_field(self.field)

    @property
    def v_bd_drive(self):
        """The breakdown voltage in units of V_c."""
        return self.v_bd_volts / self.v_c_volts

    def drive(self, voltage_volts):
        """Write voltage (V, any shape) → drive i = V / V_c."""
        return np.asarray(voltage_volts, dtype=float) / self.v_c_volts

    def volts(self, drive):
        """Drive i = V / V_c (any shape) → voltage in V."""
        return np.asarray(drive, dtype=float) * self.v_c_volts

    def pulse(self, pulse_ns):
        """Pulse width (ns, any shape) → τ = t / τ_D."""
        return np.asarray(pulse_ns, dtype=float) / self.tau_d_ns


def check_delta(delta):
    """Raise unless Δ is a positive finite number; return it as a float."""
    delta = float(delta)
    if not (np.isfinite(delta) and delta > 0):
        raise ValueError(f"delta (thermal stability E_b/k_BT) must be positive and finite, got {delta!r}")
    return delta


def check_field(field):
    """Raise unless |h| < 1 (beyond it the field alone erases the upper well); return it as a float."""
    field = float(field)
    if not (np.isfinite(field) and abs(field) < 1):
        raise ValueError(f"field h = H/H_k must lie in (-1, 1), got {field!r}")
    return field


def check_pulse(pulse):
    """Raise unless every pulse width is finite and >= 0; return a float array."""
    pulse = np.asarray(pulse, dtype=float)
    bad = ~np.isfinite(pulse) | (pulse < 0)
    if bad.any():
        raise ValueError(f"pulse width (units of tau_D) must be finite and >= 0, got {float(pulse[bad].flat[0])!r}")
    return pulse


def check_drive(drive):
    """Raise unless every drive is finite; return a float array."""
    drive = np.asarray(drive, dtype=float)
    bad = ~np.isfinite(drive)
    if bad.any():
        raise ValueError(f"drive V/V_c must be finite, got {float(drive[bad].flat[0])!r}")
    return drive


def check_probability(name, p, *, open_interval=False):
    """Raise unless p is in [0, 1] (or (0, 1) when open_interval); return a float array."""
    p = np.asarray(p, dtype=float)
    bad = ~np.isfinite(p) | ((p <= 0) | (p >= 1) if open_interval else (p < 0) | (p > 1))
    if bad.any():
        interval = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must be a probability in {interval}, got {float(p[bad].flat[0])!r}")
    return p
