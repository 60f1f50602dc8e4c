"""Step 9: bit errors: flipping activations at a bit error rate; deterministic, stochastic and MTJ rounding.

In the paper's hardware each binary activation is written into an STT-MRAM cell and read by the next layer. A write
can fail (step 11): the cell keeps its old state. To the network that is a bit flip with some probability, the
bit error rate (BER). Three ways of turning a pre-activation x into the stored ±1 value (paper eqs. 1, 4-7):

    deterministic:   x_b = sign(x)                                  (sign(0) = +1)
    stochastic:      x_b = +1 with probability σ(x) = clip((x + 1)/2, 0, 1), else −1        (eq. 1)
    MTJ, fixed BER:  x_b = sign(x) with probability 1 − p, −sign(x) with probability p        (eqs. 4-7)

Stochastic rounding is *noise that depends on x* (values near 0 are coin flips, values beyond ±1 never flip); the
MTJ model flips every bit with the same p however confident the sign was. The two write directions of a real cell
fail at different rates, so `bnn.errors.BitErrors(p_pos_to_neg, p_neg_to_pos)` keeps them apart (the paper sets
both to the BER). p = 0.5 turns every activation into a fair coin.

Where the flips act: on the packed words, between packing and the XNOR-popcount product, exactly where a memory
would hold them (`bnn.kernels.flip_bits`: a random mask with each valid bit set with probability p, XOR-ed in; the
mask is drawn from geometric gaps between flips, so it costs O(p·K), and it never touches the tail bits). The
backward pass ignores the flips: the gradient is the straight-through estimator of the clean sign. By default the
errors act in training only; the paper tests error-free.

For rows of K independent bits the number of flips per row is Binomial(K, p). This script checks each rounding's
probability of +1 against its formula, and the flip counts against the binomial with a chi-square test.
"""
import numpy as np
from scipy import stats

from _common import fact, save_figure, setup

args = setup(__doc__)

from bnn.errors import BitErrors, ErrorConfig, stochastic_sign  # noqa: E402
from bnn.kernels import pack_signs, popcount, unpack_signs  # noqa: E402

rng = np.random.default_rng(9)
samples = 4_000 if args.quick else 40_000
grid = np.linspace(-2, 2, 41).astype(np.float32)
ber = 0.1
repeated = np.repeat(grid[:, None], samples, axis=1)                 # (41, samples): each x many times

deterministic = np.where(repeated >= 0, 1.0, -1.0)
stochastic = stochastic_sign(repeated, rng)
packed, nbits = pack_signs(repeated, axis=1)
mtj = unpack_signs(BitErrors(ber, ber).apply(packed, nbits, rng, training=True), nbits, axis=1)

predicted = {"deterministic": (grid >= 0).astype(float),
             "stochastic (eq. 1)": np.clip((grid + 1) / 2, 0, 1),
             f"MTJ, BER {ber}": np.where(grid >= 0, 1 - ber, ber)}
measured = {name: (values == 1).mean(axis=1) for name, values in
            zip(predicted, (deterministic, stochastic, mtj))}
for name in predicted:
    p = predicted[name]
    tolerance = 5 * np.sqrt(p * (1 - p) / samples) + 1e-12         # 5 standard errors of a frequency
    fact(f"{name}: frequency of +1 matches its formula at all 41 x (within 5 standard errors)",
         np.all(np.abs(measured[name] - p) <= tolerance))

# Flip counts per row: K bits per row, p per bit -> Binomial(K, p) flips per row.
rows, k, p = (2_000 if args.quick else 20_000), 1000, 0.01
x = rng.normal(size=(rows, k))
clean, _ = pack_signs(x)
errors = BitErrors(p, p)
flipped = errors.apply(clean, k, rng, training=True)
flips = popcount(clean ^ flipped).sum(axis=1, dtype=np.int64)
fact("errors act in training only by default (evaluation reads the clean bits)",
     errors.apply(clean, k, rng, training=False) is clean)
fact("the tail bits stay 0 (unpack_signs would refuse the words otherwise)", unpack_signs(flipped, k).shape == x.shape)
print(f"flips per row of {k} bits at p = {p}: mean {flips.mean():.3f} (expected {k * p}), "
      f"variance {flips.var():.3f} (expected {k * p * (1 - p):.3f})")
counts = np.bincount(flips, minlength=30)
edges = [0, 4, 6, 8, 9, 10, 11, 12, 14, 16, 10_000]                   # pooled so every bin expects >= 5 rows
observed = np.add.reduceat(counts, edges[:-1])[:len(edges) - 1]
expected = rows * np.diff(stats.binom.cdf(np.array(edges) - 1, k, p))
chi2 = stats.chisquare(observed, expected * observed.sum() / expected.sum())
print(f"chi-square against Binomial({k}, {p}): statistic {chi2.statistic:.1f} on {len(observed) - 1} dof, "
      f"p-value {chi2.pvalue:.3f}")
fact("the flip counts are consistent with Binomial(K, p) (chi-square p-value > 0.001)", chi2.pvalue > 0.001)

# Asymmetric writes: +1 -> -1 and -1 -> +1 fail at different rates.
asym = BitErrors(p_pos_to_neg=0.02, p_neg_to_pos=0.005)
read = unpack_signs(asym.apply(clean, k, rng, training=True), k)
stored = np.where(x >= 0, 1.0, -1.0)
rate_pos = np.mean(read[stored == 1] == -1)
rate_neg = np.mean(read[stored == -1] == 1)
print(f"asymmetric errors: measured +1→−1 {rate_pos:.4f} (set 0.02), −1→+1 {rate_neg:.4f} (set 0.005)")
fact("each direction flips at its own rate (within 5 standard errors)",
     abs(rate_pos - 0.02) < 5 * np.sqrt(0.02 * 0.98 / (stored == 1).sum())
     and abs(rate_neg - 0.005) < 5 * np.sqrt(0.005 * 0.995 / (stored == -1).sum()))

config = ErrorConfig(ber=0.01)
print(f"\na training run says ErrorConfig(ber=0.01); each binary layer then gets {config.bit_errors(0)}")

import matplotlib.pyplot as plt  # noqa: E402

fig, (ax_r, ax_h) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
fine = np.linspace(-2, 2, 801)
formulas = {"deterministic": (fine >= 0).astype(float), "stochastic (eq. 1)": np.clip((fine + 1) / 2, 0, 1),
            f"MTJ, BER {ber}": np.where(fine >= 0, 1 - ber, ber)}
for (name, curve), color in zip(formulas.items(), ("C0", "C1", "C2")):
    ax_r.plot(fine, curve, color=color, label=name)
    ax_r.plot(grid, measured[name], "o", ms=3, color=color)
ax_r.set(xlabel="pre-activation x", ylabel="P(stored bit = +1)", title="three roundings (dots: measured)")
ax_r.legend(fontsize=8)
ax_h.bar(np.arange(counts.size), counts / rows, color="0.75", label=f"{rows} rows of {k} bits")
support = np.arange(counts.size)
ax_h.plot(support, stats.binom.pmf(support, k, p), "o-", color="C3", ms=3, label=f"Binomial({k}, {p})")
ax_h.set(xlabel="flipped bits per row", ylabel="fraction of rows", xlim=(-0.5, 30.5),
         title=f"flips at BER {p}: chi-square p-value {chi2.pvalue:.2f}")
ax_h.legend(fontsize=8)
for ax in (ax_r, ax_h):
    ax.grid(alpha=0.3)
save_figure(fig, args.figure)
