"""Bit-error and rounding models: where the MRAM meets the network.

A binary activation is the sign of a pre-activation, written to a memory cell and read back by the next layer.
Three ways of producing the stored bit are modelled (paper eqs. 1 and 4-7):

- deterministic rounding: x_b = sign(x), with sign(0) = +1;
- stochastic rounding (eq. 1): x_b = +1 with probability sigma(x) = clip((x + 1) / 2, 0, 1), else -1;
- MTJ fixed-BER rounding (eqs. 4-7): x_b = sign(x) with probability 1 - p, the opposite sign with probability p.
  An STT-MRAM write fails with different rates in its two directions (P->AP and AP->P), so a stored +1 turns into
  -1 with `p_pos_to_neg` and a stored -1 into +1 with `p_neg_to_pos`; the paper sets both equal to the BER.
  BER 0.5 makes every binary activation a fair coin.

Where the flips act. They are applied in the forward pass to the *packed* activations, between packing and the
XNOR-popcount product (`bnn.kernels.flip_bits`; in a binary layer `bnn.kernels.flips.flip_bits_in_place`, which
also sets the same entries of the layer's ±1 input array, in place), i.e. exactly to the bits a memory would hold.
The backward pass is the straight-through estimator of the *clean* sign: the gradient flows through a flipped bit
as if it had not flipped, as in the authors' code. (The alternative, treating a flip as multiplication by -1 and
passing the gradient with the flipped sign, models an error the optimizer could "see"; a real memory gives it no
such signal, so it is not the default.) The weight gradient does use the flipped activations, because those are
what the layer consumed.

By default errors act during training only (the paper tests error-free); `at_test=True` keeps them at evaluation
time to study matched train/test error rates. Rates may be one for all binary layers, one per binary layer, and may
change with the epoch (a multi-step schedule).
"""
import math
from dataclasses import dataclass, field

import numpy as np

from bnn.kernels import flip_bits
from bnn.kernels.flips import check_probability, flip_rows_in_place

ROUNDINGS = ("deterministic", "stochastic")


def stochastic_sign(x, rng):
    """Stochastic rounding to +-1 (paper eq. 1).

    x: float array of pre-activations. Returns an array of the same shape and dtype with +1 where
    u < sigma(x) = clip((x + 1) / 2, 0, 1) for u ~ U[0, 1) drawn from `rng`, else -1.
    """
    sigma = np.clip((x + 1.0) * 0.5, 0.0, 1.0)
    return np.where(rng.random(x.shape) < sigma, 1.0, -1.0).astype(x.dtype)


@dataclass(frozen=True)
class BitErrors:
    """Write errors of one memory array: the flip probabilities of stored +1 and -1 bits.

    `apply(packed, nbits, rng, training)` returns the packed words as read back (a new array; tail bits untouched).
    `apply_to_activations(packed, x, rng, training)` does the same to a binary layer's packed input in place and
    returns the ±1 input as read back (see there).  Both draw the same flips from the same Generator state.
    """
    p_pos_to_neg: float = 0.0
    p_neg_to_pos: float = 0.0
    at_test: bool = False

    def __post_init__(self):
        for name in ("p_pos_to_neg", "p_neg_to_pos"):   # validated once here: the forward pass relies on it
            object.__setattr__(self, name, check_probability(name, getattr(self, name)))

    @property
    def active(self):
        return self.p_pos_to_neg > 0.0 or self.p_neg_to_pos > 0.0

    def apply(self, packed, nbits, rng, training):
        if not self.active or not (training or self.at_test):
            return packed
        return flip_bits(packed, nbits, self.p_pos_to_neg, self.p_neg_to_pos, rng)

    def apply_to_activations(self, packed, x, rng, training):
        """Corrupt the activations a binary layer is about to multiply; returns x as read back.

        x: (N, nbits, ...) float input, ±1 or that after dropout (-c, 0, +c); packed: its signs packed along axis 1
        into a last word axis, (N, ..., ceil(nbits/64)) uint64, as the binary layers pack it (0 as bit 1, +1). The
        flipped bits are XORed into `packed` in place and the same entries of x are negated (a dropped 0 stays 0):
        in x itself when it is a writeable C-contiguous array (the activation memory is what the errors corrupt,
        and copying x would cost more than the flips), in a copy otherwise.
        """
        if not self.active or not (training or self.at_test):
            return x
        if not (x.flags.c_contiguous and x.flags.writeable):
            x = x.copy()
        x3 = x.reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:]))
        flip_rows_in_place(packed.reshape(-1, packed.shape[-1]), x3, self.p_pos_to_neg, self.p_neg_to_pos, rng)
        return x


@dataclass(frozen=True)
class ErrorConfig:
    """How a training run rounds and corrupts its binary activations (and optionally weights).

    ber:            flip probability of every binary activation, both directions (the paper's setting).
    ber_pos_to_neg, ber_neg_to_pos:
                    per-direction rates; each defaults to `ber` when None.
    layer_bers:     one BER per binary layer, in model order, overriding `ber` (directions stay symmetric).
    schedule:       ((epoch, ber), ...) multi-step schedule: from `epoch` (0-based) on, `ber` replaces the base rate.
    rounding:       "deterministic" (sign) or "stochastic" (eq. 1) rounding of activations before the memory.
    weights:        also flip the binary weights' bits at the same rates (the paper keeps weights error-free).
    at_test:        keep the errors at evaluation time (default: test error-free, as the paper).
    """
    ber: float = 0.0
    ber_pos_to_neg: float | None = None
    ber_neg_to_pos: float | None = None
    layer_bers: tuple | None = None
    schedule: tuple = field(default=())
    rounding: str = "deterministic"
    weights: bool = False
    at_test: bool = False

    def __post_init__(self):
        check_probability("ber", self.ber)
        for name in ("ber_pos_to_neg", "ber_neg_to_pos"):
            if getattr(self, name) is not None:
                check_probability(name, getattr(self, name))
        if self.layer_bers is not None:
            object.__setattr__(self, "layer_bers", tuple(check_probability("layer_bers[]", p) for p in self.layer_bers))
        schedule = []
        for item in self.schedule:
            if len(item) != 2 or int(item[0]) < 0:
                raise ValueError(f"schedule entries must be (epoch >= 0, ber) pairs, got {item!r}")
            schedule.append((int(item[0]), check_probability("schedule ber", item[1])))
        object.__setattr__(self, "schedule", tuple(sorted(schedule)))
        if self.rounding not in ROUNDINGS:
            raise ValueError(f"rounding must be one of {ROUNDINGS}, got {self.rounding!r}")

    def rates(self, layer, epoch=0):
        """(p_pos_to_neg, p_neg_to_pos) for binary layer number `layer` (0-based) during `epoch` (0-based)."""
        base = self.ber
        for start, ber in self.schedule:
            if epoch >= start:
                base = ber
        if self.layer_bers is not None:
            if not 0 <= layer < len(self.layer_bers):
                raise ValueError(f"layer_bers has {len(self.layer_bers)} rates, but binary layer {layer} was asked for")
            return self.layer_bers[layer], self.layer_bers[layer]
        if self.schedule:  # a schedule sets a symmetric rate
            return base, base
        pos = base if self.ber_pos_to_neg is None else self.ber_pos_to_neg
        neg = base if self.ber_neg_to_pos is None else self.ber_neg_to_pos
        return pos, neg

    def bit_errors(self, layer, epoch=0):
        """The BitErrors object for binary layer `layer` during `epoch`."""
        pos, neg = self.rates(layer, epoch)
        return BitErrors(pos, neg, self.at_test)
