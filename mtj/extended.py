"""An extended-precision twin of the Legendre solution: the reference that `mtj.propagation`'s error estimates are
checked against (tests/mtj/test_propagation.py, benchmarks/mtj.py --resolution).

Same equations, written again in `numpy.longdouble`: the operator from its integer formula, the initial state by
Gauss-Legendre quadrature with nodes refined by Newton's method in extended precision, and exp(Aτ) r(0) by Taylor
steps and squarings. On x86-64 Linux, longdouble is the 80-bit x87 format (64-bit mantissa, eps = 1.1e-19), so its
rounding is ~2000× smaller than double's and the difference of the two is the double solution's rounding error.
Where longdouble is just double (Windows, macOS on ARM), `AVAILABLE` is False and the twin proves nothing.
Slow (no BLAS: ~35 ms per 171 × 171 product): for checking, not for use.
"""
import numpy as np

LONG = np.longdouble
AVAILABLE = np.finfo(LONG).eps < 1e-18


def operator(n_terms, delta, drive, field=0.0):
    """The pentadiagonal Fokker-Planck matrix of `mtj.legendre.operator`, in longdouble."""
    n = np.arange(n_terms + 1).astype(LONG)
    push = LONG(drive) - LONG(field)
    a = np.zeros((n_terms + 1, n_terms + 1), dtype=LONG)
    index = np.arange(n_terms + 1)
    a[index, index] = -n * (n + 1) * (1 / (2 * LONG(delta)) - 1 / ((2 * n + 3) * (2 * n - 1)))
    col, m = index[1:], n[1:]
    a[col - 1, col] = push * m * (m - 1) / (2 * m + 1)
    col, m = index[2:], n[2:]
    a[col - 2, col] = -m * (m - 1) * (m - 2) / ((2 * m + 1) * (2 * m - 1))
    col, m = index[:-1], n[:-1]
    a[col + 1, col] = -push * (m + 1) * (m + 2) / (2 * m + 1)
    col, m = index[:-2], n[:-2]
    a[col + 2, col] = (m + 1) * (m + 2) * (m + 3) / ((2 * m + 1) * (2 * m + 3))
    return a


def legendre_table(n_terms, x):
    """P_0..P_N at the points x (longdouble), shape (N+1, len(x))."""
    table = np.empty((n_terms + 1, x.size), dtype=LONG)
    table[0] = 1
    if n_terms >= 1:
        table[1] = x
    for k in range(1, n_terms):
        table[k + 1] = ((2 * k + 1) * x * table[k] - k * table[k - 1]) / LONG(k + 1)
    return table


def gauss_legendre(m):
    """m Gauss-Legendre nodes and weights on [−1, 1], refined to longdouble by Newton steps on P_m."""
    x = np.polynomial.legendre.leggauss(m)[0].astype(LONG)
    for _ in range(3):
        p = legendre_table(m, x)
        x = x - p[m] / (m * (x * p[m] - p[m - 1]) / (x * x - 1))
    p = legendre_table(m, x)
    derivative = m * (x * p[m] - p[m - 1]) / (x * x - 1)
    return x, 2 / ((1 - x * x) * derivative * derivative)


def initial_coefficients(n_terms, delta, field=0.0):
    """The upper-well equilibrium of `mtj.legendre.initial_coefficients`, in longdouble."""
    nodes, weights = gauss_legendre(max(2 * n_terms + 64, 256))
    x, w = (nodes + 1) / 2, weights / 2
    density = np.exp(LONG(delta) * (x * x + 2 * LONG(field) * x - 1 - 2 * LONG(field)))
    density /= 2 * LONG(np.pi) * np.dot(w, density)
    n = np.arange(n_terms + 1).astype(LONG)
    return (2 * n + 1) / 2 * (legendre_table(n_terms, x) @ (w * density))


def hemisphere_weights(n_terms, upper=True):
    """2π sₙ (upper) or 2π (−1)ⁿ sₙ (lower), in longdouble."""
    p0 = np.zeros(n_terms + 2, dtype=LONG)
    p0[0] = 1
    for k in range(1, n_terms + 1, 2):
        p0[k + 1] = -LONG(k) / LONG(k + 1) * p0[k - 1]
    s = np.empty(n_terms + 1, dtype=LONG)
    s[0] = 1
    k = np.arange(1, n_terms + 1)
    s[1:] = (p0[k - 1] - p0[k + 1]) / (2 * k + 1).astype(LONG)
    if not upper:
        s[1::2] *= -1
    return 2 * LONG(np.pi) * s


def hemisphere_probability(delta, drive, field, pulse, n_terms, upper=True):
    """Probability of the upper (lower) hemisphere after each pulse τ (1-D array), in longdouble.

    exp(Aτ) r(0) by the ladder of `mtj.propagation.propagate` with δ a power of two below 1/(4‖A‖₁) and 30 Taylor
    terms: the same algorithm, 2000× finer rounding.
    """
    pulse = np.asarray(pulse, dtype=float)
    r0 = initial_coefficients(n_terms, delta, field)
    weights = hemisphere_weights(n_terms, upper)
    propagator = _Propagator(operator(n_terms, delta, drive, field), pulse.max(initial=0))
    return np.array([weights @ propagator.apply(r0, tau) for tau in pulse], dtype=LONG)


def piecewise_probability(delta, field, levels, durations, n_terms, upper=True):
    """Hemisphere probability after the piecewise-constant pulse levels[k] for durations[k] (as `mtj.pulses`)."""
    r = initial_coefficients(n_terms, delta, field)
    for level, duration in zip(levels, durations):
        r = _Propagator(operator(n_terms, delta, level, field), duration).apply(r, duration)
    return hemisphere_weights(n_terms, upper) @ r


class _Propagator:
    """exp(Aτ) v for τ up to `longest`: powers exp(A 2ʲ δ) and Taylor steps for the remainder."""

    def __init__(self, a, longest):
        self.a = a
        self.step = LONG(2.0) ** -int(np.ceil(np.log2(4 * float(np.abs(a).sum(axis=0).max()))))
        power = np.eye(a.shape[0], dtype=LONG)
        term = power.copy()
        for m in range(1, 31):
            term = term @ (a * self.step) / m
            power = power + term
        self.powers = [power]
        while (1 << len(self.powers)) * self.step <= longest:
            self.powers.append(self.powers[-1] @ self.powers[-1])

    def apply(self, v, tau):
        count = int(LONG(tau) / self.step)
        rest = LONG(tau) - count * self.step
        r, term = v.copy(), v.copy()
        for m in range(1, 31):
            term = self.a @ term * rest / m
            r = r + term
        level = 0
        while count:
            if count & 1:
                r = self.powers[level] @ r
            count >>= 1
            level += 1
        return r
