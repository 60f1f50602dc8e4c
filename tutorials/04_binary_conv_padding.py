"""Step 4: binary convolution, and why zero padding needs a correction.

A convolution is a matrix product in disguise (im2col): every output pixel is the dot product of the kernel with
the input patch under it, C·KH·KW numbers long. With ±1 inputs and weights each of those is an XNOR-popcount
(steps 1-3). `bnn.kernels.binary_conv2d(x, w, stride, padding)` packs the C channels of every pixel into words
(NCHW → (N, H, W, ceil(C/64))) and the weights per kernel tap the same way, then XOR-popcounts word against word.

The trap is padding. A "same" convolution pads the input with zeros, and the float model it must reproduce is
the convolution of *zero-padded* sign(x): padded positions are 0 and contribute nothing. But 0 is neither +1 nor
−1; a bit cannot hold it. The two obvious shortcuts are both wrong at the border:

- pad x with zeros, then take signs: sign(0) = +1, so every outside tap adds +Σ_c sign(w)[c, tap];
- pad the packed words with zero words: bit 0 means −1, so every outside tap adds −Σ_c sign(w)[c, tap].

For one output pixel with inside taps T, the exact result is Σ_{t∈T} (C − 2·popcount(x_t XOR w_t)). The kernel
gathers zero words for outside taps (so all pixels run the same vectorized loop), which adds popcount(w_t) per
outside tap to the popcount sum; that depends on the weights only, so it subtracts it afterwards, and it counts
C·|T| with the inside taps only. This script shows the two wrong answers, the size of their error (exactly
the weight sums above), and checks the kernel against the float convolution of zero-padded signs.
"""
import numpy as np

from _common import fact, save_figure, setup

args = setup(__doc__)

from bnn.kernels import binary_conv2d  # noqa: E402
from bnn.kernels import reference  # noqa: E402


def float_conv(x, w, stride, padding):
    """The definition: zero-pad x, slide w over it (im2col + matmul, the NumPy twin of step 3's GEMM), NCHW out."""
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    cols = reference.im2col(x.astype(np.float64), kh, kw, stride, padding)
    oh, ow = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    return (cols @ w.reshape(o, -1).T.astype(np.float64)).reshape(n, oh, ow, o).transpose(0, 3, 1, 2)


def sign(a):
    return np.where(a >= 0, 1.0, -1.0)


rng = np.random.default_rng(4)

# The kernel against the definition, over odd shapes (C not a multiple of 64, C > 64, stride 2, batch of 1).
for (n, c, h, wd, o, k, stride, padding) in ((1, 1, 5, 5, 1, 3, 1, 1), (2, 3, 7, 6, 5, 3, 1, 2),
                                              (3, 20, 12, 12, 50, 5, 1, 2), (2, 70, 9, 9, 4, 3, 2, 1),
                                              (1, 129, 6, 6, 3, 1, 1, 0)):
    x = rng.normal(size=(n, c, h, wd)).astype(np.float32)
    w = rng.normal(size=(o, c, k, k)).astype(np.float32)
    out = binary_conv2d(x, w, stride, padding)
    fact(f"C={c:3d} {k}x{k} stride {stride} pad {padding}: binary_conv2d == NumPy twin == float conv of zero-padded "
         "signs", np.array_equal(out, reference.binary_conv2d(x, w, stride, padding))
         and np.array_equal(out, float_conv(sign(x), sign(w), stride, padding)))

# The two wrong shortcuts on one example, and what their errors are made of.
c, size, k, padding = 16, 12, 5, 2
x = rng.normal(size=(1, c, size, size)).astype(np.float32)
w = rng.normal(size=(1, c, k, k)).astype(np.float32)
exact = float_conv(sign(x), sign(w), 1, padding)[0, 0]
padded_then_signed = float_conv(sign(np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2))), sign(w), 1, 0)[0, 0]
padded_with_minus_one = float_conv(np.pad(sign(x), ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2),
                                          constant_values=-1.0), sign(w), 1, 0)[0, 0]
fact("the kernel gives the exact border", np.array_equal(binary_conv2d(x, w, 1, padding)[0, 0], exact))

# Predicted error: the sum of sign(w) over the outside taps of each output pixel (an indicator of outside taps,
# convolved with the per-tap weight sums).
tap_sums = sign(w)[0].sum(axis=0)                                   # (k, k): Σ_c sign(w)[c, tap]
outside = np.pad(np.zeros((1, 1, size, size)), ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2), constant_values=1)
predicted = float_conv(outside, tap_sums[None, None], 1, 0)[0, 0]
fact("pad-then-sign is off by exactly +Σ sign(w) over the outside taps", np.array_equal(padded_then_signed - exact,
                                                                                      predicted))
fact("padding with −1 bits is off by exactly −Σ sign(w) over the outside taps",
     np.array_equal(padded_with_minus_one - exact, -predicted))
interior = (slice(padding, size - padding),) * 2
fact("all three agree away from the border", np.array_equal(exact[interior], padded_then_signed[interior])
     and np.array_equal(exact[interior], padded_with_minus_one[interior]))
print(f"largest border error: {np.abs(predicted).max():.0f} (outputs range over ±{c * k * k})")

import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), layout="constrained")
limit = np.abs(predicted).max()
axes[0].imshow(exact, cmap="viridis")
axes[0].set_title("exact (the kernel):\nconv of zero-padded sign(x)")
for ax, wrong, label in ((axes[1], padded_then_signed, "pad x with 0, then sign (0 → +1)"),
                         (axes[2], padded_with_minus_one, "pad with zero words (bit 0 = −1)")):
    image = ax.imshow(wrong - exact, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(f"error of the shortcut:\n{label}")
fig.colorbar(image, ax=axes[1:], shrink=0.8, label="output − exact")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"{c} channels, {k}×{k} kernel, padding {padding}: only border pixels see padded taps")
save_figure(fig, args.figure)
