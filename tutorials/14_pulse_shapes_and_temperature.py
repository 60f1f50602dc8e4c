"""Step 14: a real write pulse (rise and fall times) and a real chip (temperature).

Steps 11 and 12 wrote with square pulses at 300 K. A driver circuit cannot switch a current on instantly: the
voltage ramps up over a rise time t_r, holds for the plateau, and ramps down over t_f. The Fokker-Planck equation
handles that piece by piece: over any stretch of constant drive i_k the Legendre coefficients evolve as
r ← exp(A(i_k) τ_k) r, so a pulse that changes in time is a product of such propagators. A linear ramp becomes a
staircase of short steps, each held at the ramp's value at its midpoint (the exponential midpoint rule: the error
falls as 1/steps²). `mtj.pulses.trapezoid_wer` does this; `mtj.pulses.piecewise_wer` takes any list of levels.

Temperature moves every dimensionless number of the model. With the magnetization M_s(T) ∝ 1 − (T/T_C)^(3/2)
(Bloch) and the anisotropy K ∝ M_sⁿ (Callen-Callen), m = M_s(T)/M_s(300 K) gives Δ(T) = Δ₃₀₀ mⁿ 300/T,
V_c(T) = V_c,300 mⁿ (the critical current is proportional to the barrier) and τ_D(T) = τ_D,300 m^(1−n)
(`mtj.temperature`; T_C = 900 K and n = 2 are assumed, typical of CoFeB/MgO). A hotter cell has a lower barrier:
the same voltage writes it more easily, and it forgets sooner (`mtj.retention`, from the full solution, to ten years).
"""
import os

# mtj multiplies many small matrices: one BLAS thread each is fastest (mtj runs its drives in parallel threads).
# Set before NumPy loads its BLAS; an explicit setting wins.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

from _common import fact, save_figure, setup  # noqa: E402

args = setup(__doc__)

import mtj  # noqa: E402
from mtj.pulses import trapezoid_wer  # noqa: E402
from mtj.temperature import TemperatureModel, write_error_rate_at  # noqa: E402

delta, plateau = 40.0, 5.0

# 1. Rise and fall times at the paper's operating point (Δ = 40, 2.78 V_c, a 5 τ_D plateau).
edges = (0.0, 0.5, 1.0, 2.0)
amplitudes = np.linspace(1.6, 3.2, 5 if args.quick else 17)
curves = np.array([trapezoid_wer(amplitudes, plateau, edge, below_resolution="nan") for edge in edges])
fact("zero rise and fall time is the square pulse",
     np.allclose(curves[0], mtj.write_error_rate(amplitudes, plateau, delta, below_resolution="nan"), rtol=1e-10,
                 equal_nan=True))
print("\nWER at 2.78 V_c, plateau 5 τ_D, rise = fall = t_r; the square pulse of equal WER at 2.78 V_c:")
equivalent = []
for edge in edges[1:]:
    wer = float(trapezoid_wer(2.78, plateau, edge))
    width = mtj.pulse_for_wer(wer, 2.78, delta)
    equivalent.append((width - plateau) / (2 * edge))
    print(f"  t_r = {edge:3.1f} τ_D: WER {wer:.3e}, like a square pulse of {width:.3f} τ_D "
          f"(each edge counts for {equivalent[-1]:.0%} of its length)")
fact("each edge counts for less than half its length (the drive climbs through sub-critical values first)",
     all(0.3 < share < 0.5 for share in equivalent))
fact("longer edges at the same plateau lower the WER at every amplitude",
     all(np.all(np.nan_to_num(curves[k + 1], nan=0) <= np.nan_to_num(curves[k], nan=0)) for k in range(3)))
steps = [float(trapezoid_wer(2.78, plateau, 1.0, steps=s)) for s in (8, 16, 32)]
print(f"  staircase of 8, 16, 32 steps per 1 τ_D ramp: {steps[0]:.6e}, {steps[1]:.6e}, {steps[2]:.6e}")
fact("the midpoint staircase converges like 1/steps² (each doubling cuts the change about fourfold)",
     3 < abs(steps[0] - steps[1]) / abs(steps[1] - steps[2]) < 5)

# 2. Temperature: the paper's cell at Δ(300 K) = 40 and a retention-grade cell at Δ(300 K) = 60.
model = TemperatureModel()
temperatures = np.linspace(250.0, 400.0, 4 if args.quick else 13)
paper, retentive = mtj.MTJParams(delta=40.0), mtj.MTJParams(delta=60.0)
print(f"\n{'T (K)':>6} {'Δ (40 at 300 K)':>16} {'V_c (V)':>8} {'τ_D (ns)':>9} {'WER at 0.834 V, 5 ns':>21} "
      f"{'P(flip in 10 y), Δ300 = 60':>27}")
wer_t, retention_t = [], []
for kelvin in temperatures:
    hot = model.params_at(paper, kelvin)
    wer_t.append(float(write_error_rate_at(0.834, 5.0, kelvin, paper, below_resolution="nan")))
    retention_t.append(float(mtj.retention_failure_years(10.0, model.params_at(retentive, kelvin),
                                                         below_resolution="nan")))
    print(f"{kelvin:6.0f} {hot.delta:16.2f} {hot.v_c_volts:8.3f} {hot.tau_d_ns:9.3f} {wer_t[-1]:21.3e} "
          f"{retention_t[-1]:27.3e}")
fact("at the reference temperature the parameters are the reference ones",
     model.params_at(paper, 300.0) == paper)
fact("a hotter cell is written more easily at the same voltage and pulse", np.all(np.diff(wer_t) < 0))
known = np.array(retention_t)[~np.isnan(retention_t)]
fact("and forgets sooner: ten-year retention failure rises with temperature by orders of magnitude",
     known.size >= 3 and np.all(np.diff(known) > 0) and known[-1] > 1e3 * known[0])

import matplotlib.pyplot as plt  # noqa: E402

fig, (ax_p, ax_t) = plt.subplots(1, 2, figsize=(12, 4.3), layout="constrained")
for edge, curve in zip(edges, curves):
    ax_p.plot(amplitudes, curve, "o-" if args.quick else "-",
              label="square" if edge == 0 else f"t_r = t_f = {edge:g} τ_D")
ax_p.set(yscale="log", xlabel="plateau drive I = V / V_c", ylabel="write error rate",
         title=f"trapezoid pulses, plateau {plateau:g} τ_D, Δ = {delta:g}")
ax_p.legend(fontsize=8)
ax_t.plot(temperatures, wer_t, "o-", label="WER, 0.834 V for 5 ns (Δ300 = 40)")
ax_t.plot(temperatures, retention_t, "s-", label="P(flip within 10 years), Δ300 = 60")
ax_t.set(yscale="log", xlabel="temperature (K)", ylabel="probability",
         title="temperature: easier writes, shorter memory (T_C = 900 K, n = 2 assumed)")
ax_t.legend(fontsize=8)
for ax in (ax_p, ax_t):
    ax.grid(alpha=0.3, which="both")
save_figure(fig, args.figure)
