"""Step 6: batch normalization before the sign: what it does to the fraction of +1s.

A bit carries the most information when it is +1 half of the time (entropy 1 bit) and none when it is always the
same. Look at what LeNet-4's first block hands to the first binarization: conv → maxpool → ReLU. ReLU outputs are
>= 0, and sign(0) = +1, so sign(ReLU(·)) is +1 *everywhere*: the binary layer would see a constant.

BatchNorm in training mode normalizes every channel c over the batch and the pixels,
    x̂ = (x − μ_c) / √(σ²_c + ε),   y = γ_c·x̂ + β_c,
and then sign(y) = +1 exactly when x̂ >= −β_c/γ_c (for γ_c > 0), i.e. when x >= μ_c − (β_c/γ_c)·σ_c.
So "BatchNorm, then sign" is nothing but a *learned threshold per channel*, placed relative to the channel's own
statistics: β = 0 puts it at the mean, β/γ moves it by that many standard deviations. (γ must stay positive, or
the comparison flips: the LeNet-4 recipe clamps γ >= 0.01 for this reason.) With β = 0 the fraction of +1s is the
fraction of values above the channel mean, which is near, not at, ½ for skewed inputs like these ReLU outputs; for
Gaussian inputs it would be Φ(β/γ). The curves in the figure jump where the threshold crosses the background:
every blank 5×5 patch of a digit gives the same conv output, so a large share of the values sit at one number.

At evaluation BatchNorm uses running averages of μ and σ², so the thresholds are fixed numbers. This script runs
the first block of LeNet-4 (random initial weights) on real MNIST digits and checks these statements.
"""
import numpy as np
from scipy.stats import norm

from _common import fact, save_figure, setup

args = setup(__doc__)

import datasets  # noqa: E402
from bnn.layers import BatchNorm, Conv2d, MaxPool2d, ReLU, Sign  # noqa: E402

rng = np.random.default_rng(6)
test = datasets.load("mnist", "test", root=args.data)
n = 200 if args.quick else 2000
x = datasets.normalize(test.images[:n], test.mean, test.std)       # float32 (n, 1, 28, 28)

# LeNet-4's first block, as in bnn/models/lenet4.py
conv1 = Conv2d(1, 20, 5, rng)
bn1 = BatchNorm(20, spatial=True, affine=False, eps=1e-4)
relu_out = ReLU().forward(MaxPool2d(2).forward(bn1.forward(conv1.forward(x, True), True), True), True)
sign = Sign()
print(f"ReLU output: {relu_out.shape}, all >= 0: {bool(np.all(relu_out >= 0))}, {np.mean(relu_out == 0):.0%} zeros")
fact("sign(ReLU output) is +1 everywhere: a constant, 0 bits of information",
     np.all(sign.forward(relu_out, False) == 1))

bn2 = BatchNorm(20, spatial=True, affine=True, eps=1e-4)
bits = sign.forward(bn2.forward(relu_out, training=True), False)
fraction = (bits == 1).mean(axis=(0, 2, 3))
entropy = -(fraction * np.log2(fraction) + (1 - fraction) * np.log2(1 - fraction))
print(f"after BatchNorm (γ = 1, β = 0): fraction of +1 per channel {fraction.min():.2f}..{fraction.max():.2f}, "
      f"entropy {entropy.min():.2f}..{entropy.max():.2f} bits")
mean, std = relu_out.mean(axis=(0, 2, 3)), relu_out.std(axis=(0, 2, 3))
above_mean = (relu_out >= mean[None, :, None, None]).mean(axis=(0, 2, 3))
fact("with β = 0 the fraction of +1 is the fraction of values above the channel mean",
     np.allclose(fraction, above_mean, atol=1e-3))
fact("every channel now carries more than 0.7 bit (before BatchNorm: 0)", entropy.min() > 0.7)

# BN + sign is a threshold at μ − (β/γ)·σ: check it for random β and positive γ.
bn2.params["weight"][:] = rng.uniform(0.5, 2.0, 20)
bn2.params["bias"][:] = rng.normal(size=20)
bits = sign.forward(bn2.forward(relu_out, training=True), False)
gamma, beta = bn2.params["weight"], bn2.params["bias"]
threshold = mean - beta / gamma * np.sqrt(std**2 + bn2.eps)
by_threshold = np.where(relu_out >= threshold[None, :, None, None], 1, -1)
agree = np.mean(bits == by_threshold)
fact(f"BatchNorm then sign == 'x >= μ − (β/γ)·σ' per channel (agree on {agree:.4%} of values; float rounding at the "
     "threshold aside)", agree > 0.9999)

# The fraction of +1 as β/γ moves, against the Gaussian prediction Φ(β/γ).
shifts = np.linspace(-2.5, 2.5, 51)
x_hat = (relu_out - mean[None, :, None, None]) / std[None, :, None, None]
curves = np.array([(x_hat >= -s).mean(axis=(0, 2, 3)) for s in shifts])     # (shifts, channels)
gaussian = rng.normal(size=100_000)
fact("for Gaussian input the fraction of +1 is Φ(β/γ) (within 1 %)",
     np.allclose([(gaussian >= -s).mean() for s in shifts], norm.cdf(shifts), atol=0.01))

import matplotlib.pyplot as plt  # noqa: E402

fig, (ax_h, ax_f) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
channel = int(np.argmin(above_mean))
values = relu_out[:, channel].ravel()
ax_h.hist(values, bins=60, color="0.7")
ax_h.axvline(0, color="C3", label="sign(x) switches at 0: everything here is +1")
ax_h.axvline(mean[channel], color="C0", ls="--", label="BatchNorm (β = 0) + sign: threshold at the mean")
ax_h.axvline(mean[channel] + std[channel], color="C2", ls=":", label="β/γ = −1: one σ above the mean")
levels, counts = np.unique(np.round(values, 4), return_counts=True)
ax_h.annotate("blank background: every empty patch\ngives the same value", (levels[counts.argmax()], counts.max()),
              xytext=(0.3, 0.6), textcoords="axes fraction", fontsize=8, arrowprops=dict(arrowstyle="->", lw=0.6))
ax_h.set(xlabel=f"ReLU output, channel {channel}", ylabel="count", yscale="log",
         title="what the first binarization would read")
ax_h.legend(fontsize=8)
ax_f.plot(shifts, curves, color="C0", alpha=0.35, lw=0.8)
ax_f.plot([], [], color="C0", alpha=0.5, label="20 channels of LeNet-4's first block")
ax_f.plot(shifts, norm.cdf(shifts), "k--", label="Gaussian input: Φ(β/γ)")
ax_f.set(xlabel="β/γ", ylabel="fraction of +1 after sign", title="BatchNorm's β/γ sets the fraction of +1s")
ax_f.grid(alpha=0.3)
ax_f.legend(fontsize=8)
save_figure(fig, args.figure)
