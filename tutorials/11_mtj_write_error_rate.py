"""Step 11: an MTJ's write error rate against voltage and pulse width (Fokker-Planck vs closed forms).

A magnetic tunnel junction stores a bit in the magnetization of its free layer, up or down along an easy axis
(parallel or antiparallel to a fixed layer: low or high resistance). Writing pushes a current through it whose spin
torque drives the magnetization over. Everything depends on four dimensionless numbers (mtj/params.py):
Δ = E_b/k_BT, the thermal stability (40 here); drive i = V/V_c, the write voltage in units of the critical voltage;
τ = t/τ_D, the pulse width in units of the characteristic time τ_D (≈ 1 ns); and a field h (0 here).

Without noise the polar component x = cos θ obeys dx/dτ = (1 − x²)(x + h − i). For i > 1 the starting state
x = 1 is unstable and the magnetization spirals over in a time ∝ ln(π/2θ₀)/(i − 1), where θ₀ is its initial tilt;
at temperature T, θ₀ is random, P(θ₀ < θ) = 1 − exp(−Δθ²), and the chance that the switch is not finished
within τ is the *precessional* closed form WER ≈ 1 − exp[−(π²Δ/4)·exp(−2(i − 1)τ)]. It ignores the noise during
the pulse: it overestimates the WER below i ≈ 5 (by orders of magnitude close to i = 1, where thermal activation
during the pulse does much of the switching) and slightly underestimates it above. For i < 1 the state is
stable and only a thermal kick can cross the lowered barrier Δ(1 − i)²: switching is a Poisson process with rate
k = √(Δ/π)(1 − i)(1 − i²)e^(−Δ(1 − i)²), WER = e^(−kτ) (*thermal* closed form, valid when Δ(1 − i)² ≳ 10 and the
pulse outlasts the settling of the well; outside that regime `mtj` warns and returns the full solution instead).

The full answer solves the Fokker-Planck equation for the probability density of x, expanded in Legendre
polynomials: r(τ) = exp(Aτ)·r(0), WER = the probability left in the upper hemisphere (Tzoufras 2018; MTJ.md).
`mtj.write_error_rate(drive, pulse)` does this, vectorized, and refuses to report values below what double
precision resolves (we ask for NaN there). This script draws both regimes and measures how close each closed
form comes.
"""
import os

# mtj multiplies many small (~100 × 100) matrices: one BLAS thread does it fastest, and several threads on a busy
# machine are up to 50× slower (benchmarks/mtj.py). Set before NumPy loads its BLAS; an explicit setting wins.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

from _common import fact, save_figure, setup  # noqa: E402

args = setup(__doc__)

import mtj  # noqa: E402

delta = 40.0
params = mtj.MTJParams(delta=delta)
pulses = (1.0, 3.0, 5.0, 10.0)
drives = np.linspace(1.1, 5.0, 14 if args.quick else 40)
wer = mtj.write_error_rate(drives[:, None], np.array(pulses)[None, :], delta, below_resolution="nan")
precessional = mtj.precessional_wer(drives[:, None], np.array(pulses)[None, :], delta)
for k, pulse in enumerate(pulses):
    column = wer[:, k][~np.isnan(wer[:, k])]
    fact(f"pulse {pulse:g} τ_D: the WER falls as the drive rises", np.all(np.diff(column) < 0))
steps = np.diff(wer, axis=1)
fact("at every drive a longer pulse gives a lower WER", np.all(steps[~np.isnan(steps)] < 0))
regime = (drives[:, None] >= 1.5) & (wer > 1e-9) & (wer < 1e-2)
ratio = precessional[regime] / wer[regime]
print(f"precessional closed form / Fokker-Planck where 1e-9 < WER < 1e-2, i >= 1.5: {ratio.min():.2f} .. "
      f"{ratio.max():.2f} (worse for longer pulses: the noise during the pulse matters more)")
fact("the precessional closed form overestimates the WER in its regime, by less than 20x", ratio.min() > 0.9
     and ratio.max() < 20)

operating = mtj.write_error_rate(params.drive(0.834), params.pulse(5.0), delta)
print(f"\nwith V_c = {params.v_c_volts} V and τ_D = {params.tau_d_ns} ns (assumed): a 5 ns pulse at 0.834 V "
      f"(i = {0.834 / params.v_c_volts:.2f}) fails with probability {float(operating):.2e}")

# Thermal regime: weak drives, long pulses. The WER decays as exp(-k tau); compare the rates.
thermal_drives = (0.3, 0.4, 0.5)
thermal_curves = []
for i in thermal_drives:
    k = float(mtj.thermal_switching_rate(i, delta))
    tau = np.geomspace(0.02, 3.0, 12 if args.quick else 30) / k
    fp = mtj.write_error_rate(i, tau, delta, below_resolution="nan")
    fitted = -np.polyfit(tau[(fp > 0.05) & (fp < 0.8)], np.log(fp[(fp > 0.05) & (fp < 0.8)]), 1)[0]
    thermal_curves.append((i, tau, fp, k, fitted))
    print(f"i = {i}: Δ(1 − i)² = {delta * (1 - i) ** 2:.0f}, closed-form rate {k:.3e} per τ_D, "
          f"Fokker-Planck decay rate {fitted:.3e} ({fitted / k - 1:+.1%})")
fact("in the thermal regime (Δ(1 − i)² >= 10) the closed-form rate is within 15 % of the Fokker-Planck decay",
     all(abs(fitted / k - 1) < 0.15 for *_, k, fitted in thermal_curves))

import matplotlib.pyplot as plt  # noqa: E402

fig, (ax_p, ax_t) = plt.subplots(1, 2, figsize=(12, 4.3), layout="constrained")
for k, pulse in enumerate(pulses):
    line, = ax_p.plot(drives, wer[:, k], label=f"t = {pulse:g} τ_D")
    ax_p.plot(drives, precessional[:, k], "--", color=line.get_color(), lw=0.9)
ax_p.plot([], [], "k--", lw=0.9, label="precessional closed form")
ax_p.set(yscale="log", ylim=(1e-12, 1.5), xlabel="drive i = V / V_c", ylabel="write error rate",
         title=f"precessional regime (i > 1), Δ = {delta:g}: Fokker-Planck (solid)")
top = ax_p.secondary_xaxis("top", functions=(lambda d: d * params.v_c_volts, lambda v: v / params.v_c_volts))
top.set_xlabel(f"volts (V_c = {params.v_c_volts} V, assumed)")
ax_p.legend(fontsize=8)
for i, tau, fp, k, _ in thermal_curves:
    line, = ax_t.plot(tau, fp, label=f"i = {i}")
    ax_t.plot(tau, np.exp(-k * tau), ":", color=line.get_color())
ax_t.plot([], [], "k:", label="thermal closed form e^(−kτ)")
ax_t.set(xscale="log", yscale="log", ylim=(1e-2, 1.2), xlabel="pulse width τ = t / τ_D", ylabel="write error rate",
         title="thermally activated regime (i < 1)")
ax_t.legend(fontsize=8)
for ax in (ax_p, ax_t):
    ax.grid(alpha=0.3, which="both")
save_figure(fig, args.figure)
