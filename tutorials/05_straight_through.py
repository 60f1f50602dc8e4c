"""Step 5: the sign function has no useful gradient; the straight-through estimator (STE) and hard-tanh.

Training needs dL/dx for every pre-activation x. But sign(x) is flat on both sides of 0: its derivative is 0
everywhere except at 0, where it does not exist. Backpropagating the true derivative gives zero gradients to
everything before the first binarization, and nothing learns. A finite difference sees exactly that: nudging x by
ε does not change sign(x) (unless x is within ε of 0, where the difference quotient is huge).

The straight-through estimator keeps sign(x) in the forward pass but, in the backward pass, pretends the forward
had been the hard-tanh, htanh(x) = clip(x, −1, 1), whose derivative is 1 for |x| < 1 and 0 outside:

    forward:  x_b = sign(x)            backward:  dL/dx = dL/dx_b · 1{|x| < 1}.

Why clip at 1 and not pass everything (the "identity" STE)? sign and htanh agree once |x| >= 1, so there the
surrogate is exact and its gradient 0 is honest: a pre-activation already far on one side stops moving instead of
drifting without bound. Inside (−1, 1) the surrogate is a straight line from −1 to +1, the simplest ramp that
connects the two outputs. The price: a value saturated on the wrong side gets no gradient either, and is stuck.
(`bnn.layers.activation.sign_backward` is this one line; BatchNorm before the sign,
step 6, keeps most pre-activations inside the window.)

This script (1) shows that finite differences of a loss through sign are 0, (2) checks the Sign layer's backward
against finite differences of the hard-tanh surrogate, and (3) trains latent values to match target signs with
the true gradient, the identity STE and the clipped STE.
"""
import numpy as np

from _common import fact, save_figure, setup

args = setup(__doc__)

from bnn.layers import Sign  # noqa: E402

rng = np.random.default_rng(5)
n = 200 if args.quick else 2000
x = rng.normal(size=n) * 1.5
x = x[np.abs(np.abs(x) - 1) > 1e-3]            # keep clear of the kinks at |x| = 1 and 0, where no derivative exists
x = x[np.abs(x) > 1e-3]
c = rng.normal(size=x.size)                    # dL/dx_b for the loss L = Σ c·x_b
eps = 1e-6


def finite_difference(f, x):
    """Central difference of a scalar function f at every coordinate of x (float64)."""
    grad = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def sign(v):
    return np.where(v >= 0, 1.0, -1.0)


true_grad = finite_difference(lambda v: c @ sign(v), x)
fact("the finite-difference gradient of a loss through sign(x) is 0 everywhere (away from x = 0)",
     np.all(true_grad == 0))

layer = Sign()
out = layer.forward(x, training=True)
ste = layer.backward(c)
surrogate = finite_difference(lambda v: c @ np.clip(v, -1, 1), x)
fact("the Sign layer's forward is sign(x), sign(0) = +1", np.array_equal(out, sign(x))
     and layer.forward(np.zeros(1), training=False)[0] == 1)
fact("its backward equals the finite-difference gradient of the hard-tanh surrogate (max error < 1e-6)",
     np.max(np.abs(ste - surrogate)) < 1e-6)
print(f"  {np.mean(np.abs(x) < 1):.0%} of these x lie in (−1, 1) and pass their gradient; the rest get 0")

# Learning signs: latent values v, loss L = −mean(t · sign(v)) (−1 when every sign matches the target t).
target = sign(rng.normal(size=1000))
steps, lr = (150 if args.quick else 400), 0.05
histories = {}
start = rng.normal(size=target.size) * 0.5
stuck = (np.abs(start) >= 1) & (sign(start) != target)        # saturated on the wrong side from the start
for name, backward in (("true gradient (0)", lambda v, g: 0 * g), ("identity STE", lambda v, g: g),
                       ("clipped STE", lambda v, g: g * (np.abs(v) < 1))):
    v = start.copy()
    matched, spread = [], []
    for _ in range(steps):
        dl_dvb = -target                                       # dL/d sign(v) (up to the 1/n of the mean)
        v -= lr * backward(v, dl_dvb)
        matched.append(np.mean(sign(v) == target))
        spread.append(np.mean(np.abs(v)))
    histories[name] = (np.array(matched), np.array(spread))
    print(f"  {name:>18}: signs matched {matched[-1]:.1%}, mean |v| {spread[-1]:.2f}")
fact("with the true gradient nothing moves: the match stays at chance", abs(histories["true gradient (0)"][0][-1]
                                                                         - histories["true gradient (0)"][0][0]) == 0)
fact("the identity STE learns every sign", histories["identity STE"][0][-1] == 1)
fact(f"the clipped STE learns every sign except the {stuck.sum()} values that started saturated (|v| >= 1) on the "
     "wrong side: they get no gradient, ever", histories["clipped STE"][0][-1] == 1 - stuck.mean())
print("  (that is why binary layers clip their latent weights to [−1, 1], step 7, and why BatchNorm keeps\n"
      "   activations inside the window, step 6)")
fact("the clipped STE leaves the latent values near |v| = 1 (mean below 1 + lr); the identity STE lets them grow",
     histories["clipped STE"][1][-1] < 1 + lr and histories["identity STE"][1][-1] > 2)

import matplotlib.pyplot as plt  # noqa: E402

fig, (ax_f, ax_m, ax_v) = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
grid = np.linspace(-2.5, 2.5, 1001)
ax_f.plot(grid, sign(grid), label="forward: sign(x)")
ax_f.plot(grid, np.clip(grid, -1, 1), "--", label="surrogate: htanh(x)")
ax_f.plot(grid, (np.abs(grid) < 1) - 0.03, label="STE gradient 1{|x| < 1}")
ax_f.set(xlabel="x", title="sign forward, hard-tanh backward")
ax_f.legend(fontsize=8)
for name, (matched, spread) in histories.items():
    ax_m.plot(100 * matched, label=name)
    ax_v.plot(spread, label=name)
ax_m.set(xlabel="step", ylabel="signs matching the target (%)", title="learning 1000 target signs")
ax_v.set(xlabel="step", ylabel="mean |latent value|", title="where the latent values go")
ax_v.axhline(1, color="0.5", lw=0.8, ls=":")
for ax in (ax_f, ax_m, ax_v):
    ax.grid(alpha=0.3)
ax_m.legend(fontsize=8)
save_figure(fig, args.figure)
