"""Step 1: ±1 numbers, and why their dot product is K − 2·popcount(a XOR b).

A binarized network keeps every activation and weight as one of two values, −1 or +1, so each fits in one bit.
The project's one convention (bnn/kernels/bitpack.py): bit 1 means +1, bit 0 means −1.

Two ±1 numbers multiply to +1 when they are equal and to −1 when they differ, and "the bits differ" is exactly
their XOR. For ±1 vectors a, b of length K, with d = popcount(a XOR b) the number of positions that differ
(the Hamming distance; popcount counts the 1 bits of a word):

    a·b = (#equal) − (#different) = (K − d) − d = K − 2·popcount(a XOR b).

One XOR and one popcount replace K multiplications and K − 1 additions. Papers often write XNOR instead:
popcount(a XNOR b) = K − d counts the agreements, and a·b = 2·popcount(a XNOR b) − K. It is the same identity.

Consequences worth remembering: a·b is an integer in [−K, K] with the parity of K (K − 2d), and for random,
independent signs d ~ Binomial(K, 1/2), so a·b has mean 0 and standard deviation √K. That spread is why the
next layers need batch normalization (step 6) and why XNOR-Net scales by α (step 7).

This script checks the identity with Python loops on a small example, then vectorized over many random vectors,
and draws both.
"""
import numpy as np
from scipy.stats import binom

from _common import fact, save_figure, setup

args = setup(__doc__)
rng = np.random.default_rng(1)

# A small example, spelled out. Bits are Python ints 0/1; values are ±1.
K = 16
a_bits = rng.integers(0, 2, K)
b_bits = rng.integers(0, 2, K)
a, b = 2 * a_bits - 1, 2 * b_bits - 1          # bit 1 -> +1, bit 0 -> -1
xor = a_bits ^ b_bits
print(f"a      = {' '.join(f'{v:+d}' for v in a)}")
print(f"b      = {' '.join(f'{v:+d}' for v in b)}")
print(f"a XOR b: {' '.join(f' {v}' for v in xor)}   popcount = {xor.sum()}")
dot_loop = sum(int(x) * int(y) for x, y in zip(a, b))
print(f"a·b by multiplying = {dot_loop};  K − 2·popcount = {K} − 2·{xor.sum()} = {K - 2 * xor.sum()}")
fact("a·b == K − 2·popcount(a XOR b) on the example", dot_loop == K - 2 * xor.sum())

# The same identity for many vectors at once, and for several lengths (odd K included: parity follows K).
n_pairs = 2_000 if args.quick else 100_000
for k in (1, 7, 64, 100, 1000):
    a_bits = rng.integers(0, 2, (n_pairs, k), dtype=np.uint8)
    b_bits = rng.integers(0, 2, (n_pairs, k), dtype=np.uint8)
    dots = ((2 * a_bits.astype(np.int64) - 1) * (2 * b_bits.astype(np.int64) - 1)).sum(axis=1)
    hamming = (a_bits ^ b_bits).sum(axis=1, dtype=np.int64)
    fact(f"K = {k:4d}: identity holds for {n_pairs} random pairs; every a·b has the parity of K",
         np.array_equal(dots, k - 2 * hamming) and np.all((dots - k) % 2 == 0))

# Distribution of a·b for random signs: K − 2·Binomial(K, 1/2).
k = 64
a_bits = rng.integers(0, 2, (n_pairs, k), dtype=np.uint8)
b_bits = rng.integers(0, 2, (n_pairs, k), dtype=np.uint8)
dots = k - 2 * (a_bits ^ b_bits).sum(axis=1, dtype=np.int64)
print(f"\nK = {k}: mean a·b = {dots.mean():+.2f} (expected 0), std = {dots.std():.2f} (expected √K = {np.sqrt(k):.2f})")
fact("the spread of a·b is √K within 5 %", abs(dots.std() / np.sqrt(k) - 1) < 0.05)

import matplotlib.pyplot as plt  # noqa: E402

fig, (ax_bits, ax_hist) = plt.subplots(2, 1, figsize=(7, 6), gridspec_kw={"height_ratios": [1, 2]})
strips = np.stack([a, b, 1 - 2 * xor])          # third row: -1 where the bits differ
ax_bits.imshow(strips, cmap="coolwarm_r", vmin=-2.5, vmax=2.5, aspect="auto")
for (row, col), value in np.ndenumerate(np.stack([a, b, xor])):
    ax_bits.text(col, row, f"{value:+d}" if row < 2 else str(value), ha="center", va="center", fontsize=8)
ax_bits.set_yticks([0, 1, 2], ["a", "b", "a XOR b"])
ax_bits.set_xticks([])
ax_bits.set_title(f"K = {K}: {K - xor.sum()} equal, {xor.sum()} differ → a·b = {K} − 2·{xor.sum()} = {dot_loop}")
values = np.arange(-k, k + 1, 2)
ax_hist.hist(dots, bins=np.arange(-k - 1, k + 2, 2), density=True, color="0.75", label=f"{n_pairs} random pairs")
ax_hist.plot(values, binom.pmf((k - values) // 2, k, 0.5) / 2, "o-", ms=3, color="C3",
             label="K − 2·Binomial(K, ½)")
ax_hist.set(xlabel=f"a·b for K = {k}", ylabel="probability density", xlim=(-40, 40))
ax_hist.legend()
fig.tight_layout()
save_figure(fig, args.figure)
