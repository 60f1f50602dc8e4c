"""Step 7: binary weights: latent weights, the scaling factor α, clipping.

The optimizer cannot work on ±1 weights directly: a step of size 0.001 cannot change a sign, and rounding it away
would lose it. So a binary layer keeps real-valued *latent weights* W that the optimizer updates, and the forward
pass reads only their binarized form W_b. Small gradient steps accumulate in W until a sign flips.

XNOR-Net binarizes each output unit's n weights as W_b = α·sign(W) with α = mean|W|. That α is the best scale:
for a fixed sign pattern B = sign(W), ‖W − αB‖² = ‖W‖² − 2α·Σ|W_i| + nα² is minimized at α = Σ|W_i|/n. The ±1
part still runs as XNOR-popcount; α multiplies the integer result once per output unit.

The gradient. Given dL/dW_b, W_b = α(W)·sign(W) has two paths back to W: through sign (no gradient; use the STE
of step 5, with the window |W| <= 1) and through α (a real derivative, dα/dW_j = sign(W_j)/n):

    dW_i = α·1{|W_i| <= 1}·dW_b,i  +  sign(W_i)·(1/n)·Σ_j sign(W_j)·dW_b,j        (gradient="full")

The XNOR-Net paper writes the simpler dW_i = dW_b,i·(1/n + α·1{|W_i| <= 1}) ("paper"). `bnn` implements both.

Before every step the latent weights are mean-centred per unit and clipped to [−1, 1] (`constrain`). The clip
keeps every weight inside the STE window, so none can get stuck saturated on the wrong side (step 5), and it
keeps a weight that has been pushed far one way from needing many steps to come back.

This script checks α's optimality, the α path of the gradient against finite differences, the binary dense layer
against float math, and trains a binary layer to recover a teacher's ±1 weights.
"""
import numpy as np

from _common import fact, save_figure, setup

args = setup(__doc__)

from bnn.layers import BinaryDense, XnorWeights  # noqa: E402
from bnn.optim import make_optimizer  # noqa: E402

rng = np.random.default_rng(7)
scheme = XnorWeights(gradient="full")
w = rng.normal(scale=0.3, size=(4, 100))
signs, alpha = scheme.binarize(w)
fact("alpha = mean |W| per output unit", np.allclose(alpha, np.abs(w).mean(axis=1)))
scan = np.linspace(0, 1, 2001)
best = np.array([scan[np.argmin([np.sum((row - a * np.sign(row)) ** 2) for a in scan])] for row in w])
fact("alpha minimizes ‖W − α·sign(W)‖² (a scan over α agrees to its 5e-4 grid)", np.allclose(best, alpha, atol=5e-4))

# The alpha path of the gradient: hold the signs fixed (tiny steps cannot flip them) and differentiate
# L(W) = Σ G ⊙ α(W)·sign(W). The full gradient minus its STE term must equal that finite difference.
g = rng.normal(size=w.shape)                               # dL/dW_b
full = scheme.latent_grad(w, g, signs, alpha)
ste_term = alpha[:, None] * (np.abs(w) <= 1) * g
eps = 1e-6
numeric = np.empty_like(w)
for idx in np.ndindex(w.shape):
    step = np.zeros_like(w)
    step[idx] = eps
    loss = [np.sum(g * np.abs(v).mean(axis=1, keepdims=True) * signs) for v in (w + step, w - step)]
    numeric[idx] = (loss[0] - loss[1]) / (2 * eps)
fact("full gradient − STE term == finite difference through α (max error < 1e-7)",
     np.max(np.abs(full - ste_term - numeric)) < 1e-7)
paper = XnorWeights(gradient="paper").latent_grad(w, g, signs, alpha)
difference = np.linalg.norm(paper - full) / np.linalg.norm(full)
print(f"  the paper's form differs from the full derivative by {difference:.0%} (relative norm) here")

# The binary dense layer: forward = alpha * (sign(x) @ sign(W).T) + bias, computed by XNOR-popcount.
layer = BinaryDense(100, 4, rng, XnorWeights())
x = np.where(rng.normal(size=(8, 100)) >= 0, 1, -1).astype(np.float32)
out = layer.forward(x, training=True)
s, a = layer.binary_weight()
fact("BinaryDense forward == α·(x·sign(W)ᵀ) + b in float math", np.allclose(out, a * (x @ s.T) + layer.params["bias"],
                                                                           atol=1e-5))
layer.params["weight"] += 3.0
layer.constrain()
fact("constrain() mean-centres each unit and clips to [−1, 1]", np.abs(layer.params["weight"]).max() <= 1
     and np.allclose(layer.params["weight"].mean(axis=1), 0, atol=0.05))

# Recover a teacher's binary weights: y = α*·(x·w*ᵀ), x random ±1. Only the latent weights' signs matter.
k, units = 256, 4
teacher = np.where(rng.normal(size=(units, k)) >= 0, 1.0, -1.0)
student = BinaryDense(k, units, rng, XnorWeights(gradient="full"))
student.constrain()
optimizer = make_optimizer("adam", student.params, lr=0.01)
steps = 150 if args.quick else 600
watched = np.flatnonzero(np.sign(student.params["weight"][0]) != teacher[0])[:6]   # start on the wrong side
agreement, trace, losses = [], [], []
for _ in range(steps):
    xb = np.where(rng.normal(size=(64, k)) >= 0, 1, -1).astype(np.float32)
    y = 0.05 * xb @ teacher.T
    pred = student.forward(xb, training=True)
    losses.append(0.5 * np.mean((pred - y) ** 2))
    student.backward((pred - y) / pred.size)
    optimizer.step(student.grads)
    student.constrain()
    agreement.append(np.mean(np.sign(student.params["weight"]) == teacher))
    trace.append(student.params["weight"][0, watched].copy())
print(f"  after {steps} Adam steps: {agreement[-1]:.1%} of the student's signs match the teacher "
      f"(start {agreement[0]:.1%}); loss {losses[0]:.4f} -> {losses[-1]:.5f}")
fact("the latent weights learned the teacher's signs (> 98 % agree)", agreement[-1] > 0.98)

import matplotlib.pyplot as plt  # noqa: E402

fig, (ax_w, ax_a) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
trace = np.array(trace)
for j in range(trace.shape[1]):
    ax_w.plot(trace[:, j], lw=1, color="C0" if teacher[0, watched[j]] > 0 else "C3")
ax_w.plot([], [], color="C0", label="teacher's weight +1")
ax_w.plot([], [], color="C3", label="teacher's weight −1")
ax_w.axhline(0, color="k", lw=0.6)
ax_w.set(xlabel="step", ylabel="latent weight W", title="latent weights that started with the wrong sign")
ax_w.legend(fontsize=8)
ax_a.plot(100 * np.array(agreement))
ax_a.set(xlabel="step", ylabel="sign(W) = teacher (%)", title="binary weights recovered by training latent weights")
for ax in (ax_w, ax_a):
    ax.grid(alpha=0.3)
save_figure(fig, args.figure)
