"""Error-correcting codes on raw bit errors: word failure probability and the correction strength a target needs.

A code that corrects t bits in an n-bit word fails when more than t bits are wrong:
P_fail = Σ_{k>t} C(n,k) pᵏ (1−p)ⁿ⁻ᵏ. Written as 1 − Σ_{k<=t} it cancels catastrophically at p ~ 1e-6 (P_fail ~ 1e-20
is far below the spacing of doubles near 1), so the tail is summed directly, term by term in log space.
"""
import numpy as np
from scipy.special import gammaln, logsumexp, xlog1py, xlogy

from .params import check_probability


def word_failure_probability(p, n_bits, t_correctable):
    """P(more than t of n independent bits are wrong), each wrong with probability p (any shape).

    Returns an array of p's shape. Relative accuracy ~1e-15 for any p, including p ~ 1e-12.
    """
    p = check_probability("bit error probability p", p)
    if int(n_bits) != n_bits or n_bits < 1:
        raise ValueError(f"n_bits must be a positive integer, got {n_bits!r}")
    if int(t_correctable) != t_correctable or not 0 <= t_correctable:
        raise ValueError(f"t_correctable must be an integer >= 0, got {t_correctable!r}")
    n, t = int(n_bits), int(t_correctable)
    if t >= n:
        return np.zeros_like(p)
    k = np.arange(t + 1, n + 1)
    log_choose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    with np.errstate(divide="ignore"):  # log 0 = −inf is the right value at p = 0 or 1; xlogy keeps 0·log 0 = 0
        log_terms = log_choose + xlogy(k, p[..., None]) + xlog1py(n - k, -p[..., None])
    return np.exp(logsumexp(log_terms, axis=-1))


def bch_word_bits(data_bits, t_correctable):
    """Length n = k + m·t of a binary BCH code correcting t errors in k data bits, m the smallest with 2ᵐ − 1 >= n."""
    if int(data_bits) != data_bits or data_bits < 1:
        raise ValueError(f"data_bits must be a positive integer, got {data_bits!r}")
    m = 1
    while 2**m - 1 < data_bits + m * t_correctable:
        m += 1
    return data_bits + m * t_correctable


def ecc_bits_needed(p, target_word_failure, data_bits=64, max_t=64):
    """Smallest t such that a t-correcting BCH word over `data_bits` fails with probability <= the target.

    p: raw bit error probability (scalar). Each extra corrected bit also adds m parity bits that can fail, which
    `bch_word_bits` accounts for. Raises ValueError if max_t bits of correction are not enough.
    """
    p = float(check_probability("bit error probability p", p))
    target = float(check_probability("target_word_failure", target_word_failure, open_interval=True))
    for t in range(max_t + 1):
        if word_failure_probability(p, bch_word_bits(data_bits, t), t) <= target:
            return t
    raise ValueError(f"no t <= {max_t} reaches word failure {target:g} at bit error probability {p:g}")
