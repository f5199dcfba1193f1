"""Exact distributions the privacy samplers are checked against, and a chi-square test."""

import math
from collections import Counter
from collections.abc import Callable

# Chi-square critical value far in the tail (p < 1e-6 for the ~15 degrees of freedom used
# here): a correct sampler with a fixed seed passes with a wide margin, a wrong scale or
# shape gives statistics in the hundreds or thousands.
CHI_SQUARE_LIMIT = 60.0


def discrete_laplace_pmf(scale: float) -> Callable[[int], float]:
    a = math.exp(-1.0 / scale)
    return lambda x: (1 - a) / (1 + a) * a ** abs(x)


def chi_square(samples: list[int], pmf: Callable[[int], float], low: int, high: int) -> float:
    """Pearson statistic over bins low..high plus the two pooled tails."""
    counts = Counter(samples)
    n = len(samples)
    observed = [sum(c for x, c in counts.items() if x < low)]
    expected = [n * (1 - sum(pmf(x) for x in range(low, 10**4)))]
    for x in range(low, high + 1):
        observed.append(counts.get(x, 0))
        expected.append(n * pmf(x))
    observed.append(sum(c for x, c in counts.items() if x > high))
    expected.append(n - sum(expected))
    # A tail bin beyond the support (expected ~ 0) carries no information: leave it out.
    pairs = [(o, e) for o, e in zip(observed, expected, strict=True) if e > 1e-6 or o > 0]
    return sum((o - e) ** 2 / e for o, e in pairs)
