"""Step 2: packing ±1 values into 64-bit words, popcount, and the tail of the last word.

A float32 ±1 value spends 32 bits on one bit of information. Packing stores 64 of them in one uint64 word, so one
XOR compares 64 pairs at once and one popcount instruction counts their differences (step 1). The layout, fixed
once for the whole project in bnn/kernels/bitpack.py:

- bit 1 = +1, bit 0 = −1, and packing reads signs: bit = (x >= 0), so sign(0) = +1;
- element i of the packed axis goes to word i // 64, bit i % 64 (least significant bit first);
- K elements need ceil(K / 64) words. When K is not a multiple of 64 the last word has 64·ceil(K/64) − K unused
  high bits, the *tail*. They are always 0.

Why the tail must be 0 in both operands: K − 2·popcount(a XOR b) counts a tail bit as a difference only if the two
tail bits differ. Zero in both, XOR is 0 there, and the formula with the true K stays exact, with no masking in the
inner loop. Anything that edits packed words (the bit-error injection of step 9) must keep the tail at 0;
`bnn.kernels` checks it on every call.

Popcount: CPUs count the set bits of a 64-bit word in one instruction (x86 POPCNT). Numba has no builtin for it,
so bnn/kernels/popcount.py emits LLVM's `ctpop` intrinsic. Each Numba kernel has a slow, obvious NumPy twin in
bnn/kernels/reference.py; this script shows the twin first, then checks the fast kernel against it.
"""
import numpy as np

from _common import fact, save_figure, setup

args = setup(__doc__)

from bnn.kernels import pack_signs, popcount, tail_mask, unpack_signs  # noqa: E402
from bnn.kernels import reference  # noqa: E402

rng = np.random.default_rng(2)

# Packing by hand: K = 100 values need 2 words; the second holds 36 values and a 28-bit tail.
K = 100
x = rng.normal(size=K).astype(np.float32)
x[5] = 0.0                                     # sign(0) = +1: zero packs as bit 1
bits = (x >= 0).astype(np.uint64)
by_hand = np.zeros(2, np.uint64)
for i in range(K):
    by_hand[i // 64] |= bits[i] << np.uint64(i % 64)
twin, nbits = reference.pack_signs(x)          # np.packbits with little bit order, viewed as little-endian words
fast, _ = pack_signs(x)                        # the Numba kernel
print(f"x[:8]   = {np.array2string(x[:8], precision=2)}")
print(f"bits    = {''.join(str(int(b)) for b in bits[:8])}... (bit i = x[i] >= 0)")
for w in range(2):
    print(f"word {w}: {int(fast[w]):064b}  (printed most significant bit first: element {64 * w} is the last digit)")
fact("the loop, the NumPy twin and the Numba kernel pack the same words", np.array_equal(by_hand, twin)
     and np.array_equal(twin, fast) and nbits == K)
fact(f"the tail ({64 * 2 - K} high bits of word 1) is 0", int(fast[1]) >> (K - 64) == 0
     and (fast[1] & ~tail_mask(K)) == 0)
fact("x[5] = 0 packed as +1 (sign(0) = +1)", unpack_signs(fast, K)[5] == 1.0)
fact("unpack(pack(x)) == sign(x)", np.array_equal(unpack_signs(fast, K), np.where(x >= 0, 1.0, -1.0)))

# Packing along any axis: here a (3, 130, 5) tensor along its middle axis, 130 -> 3 words.
y = rng.normal(size=(3, 130, 5))
packed_y, _ = pack_signs(y, axis=1)
print(f"\npack_signs of shape {y.shape} along axis 1 -> {packed_y.shape} uint64")
fact("packing along a middle axis matches the twin, and unpacks to sign(y)",
     np.array_equal(packed_y, reference.pack_signs(y, axis=1)[0])
     and np.array_equal(unpack_signs(packed_y, 130, axis=1), np.where(y >= 0, 1.0, -1.0)))

# Popcount: the twin counts bit by bit; the kernel is one ctpop per word.
n_words = 10_000 if args.quick else 1_000_000
words = rng.integers(0, 2**63, n_words, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, n_words, dtype=np.uint64)
fact(f"popcount kernel == bit-by-bit twin on {n_words} random words",
     np.array_equal(popcount(words), reference.popcount(words)))
fact("popcount(0) = 0 and popcount(2**64 − 1) = 64",
     popcount(np.array([0, 2**64 - 1], np.uint64)).tolist() == [0, 64])

# Why the tail must be 0: a set tail bit in one operand would count as a difference that is not there.
a, _ = pack_signs(rng.normal(size=K))
b, _ = pack_signs(rng.normal(size=K))
exact = int(unpack_signs(a, K) @ unpack_signs(b, K))
via_words = K - 2 * int(popcount(a ^ b).sum())
dirty = a.copy()
dirty[1] |= np.uint64(1) << np.uint64(63)      # garbage in the tail of one operand
wrong = K - 2 * int(popcount(dirty ^ b).sum())
print(f"\na·b = {exact}; K − 2·popcount(a XOR b) = {via_words}; with one tail bit set in a: {wrong}")
fact("clean tails give the exact dot product; a dirty tail is off by 2", via_words == exact and wrong == exact - 2)

import matplotlib.pyplot as plt  # noqa: E402

grid = np.full((2, 64), np.nan)
grid.flat[:K] = np.where(x >= 0, 1, -1)
fig, ax = plt.subplots(figsize=(10, 2.2))
ax.imshow(np.ma.masked_invalid(grid), cmap="coolwarm_r", vmin=-2.5, vmax=2.5, aspect="auto")
ax.imshow(np.where(np.isnan(grid), 1.0, np.nan), cmap="Greys", vmin=0, vmax=3, aspect="auto")
for w in range(2):
    for bit in range(64):
        i = 64 * w + bit
        ax.text(bit, w, str(int(bits[i])) if i < K else "0", ha="center", va="center", fontsize=6,
                color="k" if i < K else "0.5")
ax.set_yticks([0, 1], ["word 0", "word 1"])
ax.set_xticks(range(0, 64, 8))
ax.set_xlabel("bit position in the word (element i sits at word i // 64, bit i % 64)")
ax.set_title(f"K = {K} signs in 2 uint64 words: blue +1 (bit 1), red −1 (bit 0), grey the tail (always 0)")
save_figure(fig, args.figure)
