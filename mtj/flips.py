"""The device's answer to the network: flip probabilities of the two write directions (for the `bnn` bridge).

A junction stores a bit as parallel (P, low resistance) or antiparallel (AP) free-layer magnetization. The two write
directions use opposite polarities and in general differ: V_c(P→AP) > V_c(AP→P) in most stacks, a stray field
helps one direction (h of opposite sign), Δ can differ. So each direction has its own `MTJParams`; the same
applied voltage magnitude and pulse width drive both.

What the numbers mean: `p_to_ap` is the probability that a write meant to switch P → AP leaves the cell in P
(the WER of that switching event), `ap_to_p` likewise. A write that finds the cell already in the target state
cannot fail (the pulse pushes it deeper into its well). Which logical value (+1/−1) is stored as P is the caller's
convention; a caller writing into cells of unknown previous content must multiply by the probability that a switch
was needed (1/2 for uniformly random old bits).
"""
from typing import NamedTuple

from .params import MTJParams
from .wer import write_error_rate


class FlipProbabilities(NamedTuple):
    """Per-switching-event write error rates (arrays of the broadcast input shape)."""

    p_to_ap: object
    ap_to_p: object


def write_flip_probabilities(voltage_volts, pulse_ns, p_to_ap=MTJParams(), ap_to_p=None, *,
                             below_resolution="raise"):
    """Write error rates of both directions at applied |V| (volts) and pulse width (ns); the two broadcast.

    p_to_ap, ap_to_p: `MTJParams` of each direction (ap_to_p defaults to p_to_ap: a symmetric cell, as in the
    paper). below_resolution: "raise" or "nan" for rates below their floor (~1e-14 for write
    pulses above the critical drive; see `mtj.wer`); a caller that wants to treat
    them as error-free can map NaN to 0.
    Returns FlipProbabilities(p_to_ap, ap_to_p).
    """
    ap_to_p = p_to_ap if ap_to_p is None else ap_to_p
    rates = [write_error_rate(params.drive(voltage_volts), params.pulse(pulse_ns), params.delta, params.field,
                              below_resolution=below_resolution)
             for params in (p_to_ap, ap_to_p)]
    return FlipProbabilities(*rates)
