"""Integer noise for differentially private sums: exact discrete Laplace and distributed shares.

Released campaign statistics are sums of fixed-point integers computed under Paillier
encryption, so the noise must be an integer that can itself be encrypted and added. This
module provides:

* an exact sampler of the discrete Laplace distribution
  ``P[X = x] = (e^(1/t) - 1) / (e^(1/t) + 1) * e^(-|x|/t)``, Algorithm 2 of
  C. L. Canonne, G. Kamath, T. Steinke, "The Discrete Gaussian for Differential Privacy",
  NeurIPS 2020 (arXiv:2004.00010). It uses only integer and rational arithmetic and uniform
  integers from :mod:`secrets`, which avoids the floating-point attacks of I. Mironov, "On
  Significance of the Least Significant Bits for Differential Privacy", ACM CCS 2012;
* distributed noise shares. The discrete Laplace with ``a = e^(-1/t)`` is the difference of
  two i.i.d. geometric variables ``P[G = k] = (1 - a) a^k``, and a geometric variable is the
  sum of ``h`` i.i.d. Polya (negative binomial) variables ``NB(1/h, a)``. So if each of ``n``
  trustees adds ``NB(r, a) - NB(r, a)`` with ``r = 1/h``, any ``h`` of the shares already add
  up to an exact discrete Laplace, and the sum of all ``n`` is ``NB(n/h, a) - NB(n/h, a)``.
  This is the "distributed geometric" construction of S. Goryczka and L. Xiong, "A
  Comprehensive Comparison of Multiparty Secure Additions with Differential Privacy", IEEE
  TDSC 2017, and the generalised discrete Laplace of C. Harrison and P. Manurangsi,
  "Infinitely Divisible Noise for Differential Privacy", FORC 2025; see also P. Kairouz,
  Z. Liu, T. Steinke, "The Distributed Discrete Gaussian Mechanism for Federated Learning
  with Secure Aggregation", ICML 2021, for why a distribution closed under summation matters;
* calibration (:func:`calibrate`), sensitivity from clamping bounds (:func:`sum_sensitivity`),
  budget splitting over metrics (:func:`per_metric_epsilon`), error figures for reports
  (:func:`noise_variance`, :func:`expected_absolute_error`, :func:`confidence_half_width`)
  and a proven bound for plaintext-slot headroom (:func:`noise_magnitude_bound`).

Precision caveat (stated honestly): a Polya variable with non-integer shape is sampled as a
gamma-Poisson mixture, ``NB(r, a) = Poisson(Gamma(r, a / (1 - a)))``, and both the gamma and
the Poisson draw use IEEE doubles. The distributed sum is therefore discrete Laplace only up
to floating-point error, and the pure epsilon-DP proof covers exactly the single-party sampler
:func:`sample_discrete_laplace` (used automatically when one share must carry all the noise).
Shares refuse scales above ``2**48`` integer units, where doubles stop resolving single units.
"""

from __future__ import annotations

import enum
import math
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import numpy as np
import numpy.typing as npt

from fedcarbon.privacy.errors import NoiseParameterError

#: Largest noise scale (integer units per unit of epsilon-loss) for floating-point shares: a
#: double resolves every integer below 2**53, and 2**48 leaves 5 bits for the gamma spread.
MAX_SHARE_SCALE = 2**48

#: Below this Poisson mean the multiplication method is used; above, transformed rejection.
_POISSON_PTRS_THRESHOLD = 10.0

#: Largest scale at which error figures of colluder-tolerant noise are computed from the full
#: pmf; above it they are scaled linearly (the quantile of NB(R, a) is linear in the scale).
_NUMERIC_SCALE_LIMIT = 2048.0


def default_rng() -> random.Random:
    """The operating system's CSPRNG; noise must never come from a seeded generator."""
    return secrets.SystemRandom()


# --- exact sampling (Canonne, Kamath, Steinke 2020) -------------------------------------------


def _bernoulli(num: int, den: int, rng: random.Random) -> bool:
    """Exact Bernoulli(num/den): a uniform integer below den falls below num."""
    return rng.randrange(den) < num


def _bernoulli_exp_at_most_one(num: int, den: int, rng: random.Random) -> bool:
    """Exact Bernoulli(exp(-num/den)) for 0 <= num/den <= 1; CKS 2020 Algorithm 1 (von Neumann).

    Draws A_k ~ Bernoulli(gamma/k) for k = 1, 2, ... until one is 0; the index K at which the
    run stops is odd with probability exactly exp(-gamma).
    """
    k = 1
    while _bernoulli(num, den * k, rng):
        k += 1
    return k % 2 == 1


def sample_discrete_laplace(
    scale_num: int, scale_den: int = 1, rng: random.Random | None = None
) -> int:
    """One exact draw with P[x] proportional to exp(-|x|/t), t = scale_num / scale_den.

    Algorithm 2 of Canonne, Kamath, Steinke 2020 (inputs s = scale_den, t = scale_num): draw
    U uniform on {0..t-1} accepted with probability exp(-U/t), V geometric with ratio 1/e,
    X = U + t*V is then geometric with ratio exp(-1/t); Y = floor(X/s) is geometric with ratio
    exp(-s/t); a fair sign is attached and the draw (negative, 0) is rejected so that 0 is not
    counted twice. Integer arithmetic only, so no floating-point porosity (Mironov 2012).
    """
    if scale_num < 1 or scale_den < 1:
        raise NoiseParameterError(
            "scale", f"{scale_num}/{scale_den}", "numerator and denominator must be >= 1"
        )
    rng = rng if rng is not None else default_rng()
    t, s = scale_num, scale_den
    while True:
        u = rng.randrange(t)
        if not _bernoulli_exp_at_most_one(u, t, rng):
            continue
        v = 0
        while _bernoulli_exp_at_most_one(1, 1, rng):
            v += 1
        y = (u + t * v) // s
        negative = rng.randrange(2) == 1
        if negative and y == 0:
            continue
        return -y if negative else y


# --- Polya shares (floating point, see module caveat) -----------------------------------------


def sample_poisson(mean: float, rng: random.Random | None = None) -> int:
    """One Poisson(mean) draw in double precision.

    Small means use Knuth's multiplication method (TAOCP vol. 2, 3.4.1); means of 10 and more
    use W. Hormann, "The transformed rejection method for generating Poisson random variables",
    Insurance: Mathematics and Economics 12 (1993), algorithm PTRS, whose cost does not grow
    with the mean. The log-pmf in the acceptance test is evaluated in a cancellation-free form
    (Stirling series around k with log1p) so that means up to 2**48 stay accurate.
    """
    if not math.isfinite(mean) or mean < 0:
        raise NoiseParameterError("mean", mean, "a Poisson mean must be finite and >= 0")
    rng = rng if rng is not None else default_rng()
    if mean < _POISSON_PTRS_THRESHOLD:
        limit = math.exp(-mean)
        k = 0
        product = rng.random()
        while product > limit:
            k += 1
            product *= rng.random()
        return k
    return _sample_poisson_ptrs(mean, rng)


def _poisson_log_pmf(k: int, mean: float) -> float:
    """log P[Poisson(mean) = k] without the catastrophic cancellation of the naive formula."""
    if k < 10:
        return -mean + k * math.log(mean) - math.lgamma(k + 1)
    # log k! = k log k - k + log(2 pi k)/2 + 1/(12k) - 1/(360k^3) + O(k^-5), so
    # log pmf = (k - mean) - k log1p((k - mean)/mean) - log(2 pi k)/2 - 1/(12k) + 1/(360k^3).
    kf = float(k)
    return (
        (kf - mean)
        - kf * math.log1p((kf - mean) / mean)
        - 0.5 * math.log(2.0 * math.pi * kf)
        - 1.0 / (12.0 * kf)
        + 1.0 / (360.0 * kf**3)
    )


def _sample_poisson_ptrs(mean: float, rng: random.Random) -> int:
    """Hormann 1993 PTRS (transformed rejection with squeeze), valid for mean >= 10."""
    root = math.sqrt(mean)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    log_inv_alpha = math.log(1.1239 + 1.1328 / (b - 3.4))
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        if us <= 0.0:
            continue
        k = math.floor((2.0 * a / us + b) * u + mean + 0.43)
        if us >= 0.07 and v <= v_r:
            return k
        if k < 0 or (us < 0.013 and v > us) or v <= 0.0:
            continue
        if math.log(v) + log_inv_alpha - math.log(a / (us * us) + b) <= _poisson_log_pmf(k, mean):
            return k


def sample_polya(shape: float, decay: float, rng: random.Random | None = None) -> int:
    """One Polya / negative binomial draw, P[k] proportional to Gamma(k + shape)/k! * a^k.

    Here ``a = exp(-decay)``. Drawn as the gamma-Poisson mixture (Greenwood and Yule 1920):
    lambda ~ Gamma(shape, a/(1-a)), k ~ Poisson(lambda); ``a/(1-a)`` is computed as
    ``1/expm1(decay)`` so that a close to 1 keeps full precision. Floating point: see module.
    """
    if not (math.isfinite(shape) and shape > 0):
        raise NoiseParameterError("shape", shape, "must be finite and > 0")
    if not (math.isfinite(decay) and decay > 0):
        raise NoiseParameterError("decay", decay, "must be finite and > 0")
    rng = rng if rng is not None else default_rng()
    gamma_scale = 1.0 / math.expm1(decay)
    return sample_poisson(rng.gammavariate(shape, gamma_scale), rng)


# --- calibration ------------------------------------------------------------------------------


class Mechanism(enum.Enum):
    """Noise mechanisms this package can calibrate and sample."""

    DISCRETE_LAPLACE = "discrete_laplace"
    """Pure epsilon-DP for integer queries with L1 sensitivity Delta at scale Delta/epsilon."""


class Neighbouring(enum.Enum):
    """Which pairs of cohorts differential privacy must make indistinguishable."""

    ADD_REMOVE = "add_remove"
    """One supplier more or fewer (unbounded DP); hides participation if the count is noised."""

    REPLACE_ONE = "replace_one"
    """One supplier's figures swapped for any others (bounded DP); the cohort size is public."""


class BudgetSplit(enum.Enum):
    """How one epsilon is shared among the d metrics of a campaign's vector."""

    EQUAL = "equal"
    """epsilon/d each: every metric keeps noise proportional to its own sensitivity."""

    PROPORTIONAL = "proportional"
    """epsilon * Delta_j / sum(Delta): same scale sum(Delta)/epsilon on every metric (L1)."""


def _fraction_at_most(value: float | Fraction, name: str) -> Fraction:
    """An exact rational no larger than value, preferring its short decimal form (0.1 -> 1/10)."""
    if isinstance(value, Fraction):
        return value
    if not math.isfinite(value):
        raise NoiseParameterError(name, value, "must be finite")
    exact = Fraction(value)
    decimal = Fraction(repr(value))
    return decimal if decimal <= exact else exact


def sum_sensitivity(
    minimum: int, maximum: int, neighbouring: Neighbouring = Neighbouring.ADD_REMOVE
) -> int:
    """L1 sensitivity of a per-metric sum whose contributions are clamped to [minimum, maximum].

    Dwork and Roth, "The Algorithmic Foundations of Differential Privacy" (2014), Def. 3.1:
    adding or removing one clamped value moves the sum by at most max(|min|, |max|); replacing
    one moves it by at most max - min. Both are in the metric's fixed-point integer units.
    """
    if minimum > maximum:
        raise NoiseParameterError("bounds", (minimum, maximum), "minimum must not exceed maximum")
    if neighbouring is Neighbouring.REPLACE_ONE:
        return maximum - minimum
    return max(abs(minimum), abs(maximum))


def per_metric_epsilon(
    epsilon: float | Fraction,
    sensitivities: Sequence[int],
    split: BudgetSplit = BudgetSplit.EQUAL,
) -> tuple[Fraction, ...]:
    """Split one epsilon over a vector of metrics so that the parts add up to exactly epsilon.

    Releasing d noisy sums, metric j with epsilon_j-DP, is (sum epsilon_j)-DP by basic
    sequential composition (Dwork and Roth 2014, Theorem 3.16). PROPORTIONAL gives every
    metric the same scale sum(Delta)/epsilon, which is the vector Laplace mechanism with L1
    sensitivity (ibid., Theorem 3.6); EQUAL suits metrics of very different magnitudes.
    """
    eps = _fraction_at_most(epsilon, "epsilon")
    if eps <= 0:
        raise NoiseParameterError("epsilon", epsilon, "must be > 0")
    if not sensitivities:
        raise NoiseParameterError("sensitivities", sensitivities, "need at least one metric")
    for index, sensitivity in enumerate(sensitivities):
        if sensitivity < 1:
            raise NoiseParameterError(f"sensitivities[{index}]", sensitivity, "must be >= 1")
    if split is BudgetSplit.EQUAL:
        return tuple(eps / len(sensitivities) for _ in sensitivities)
    total = sum(sensitivities)
    return tuple(eps * sensitivity / total for sensitivity in sensitivities)


@dataclass(frozen=True)
class NoiseSpec:
    """How much noise one released sum gets, and how it is split among the trustees.

    ``n_parties`` trustees each add one share; the noise stays epsilon-DP against any
    ``max_colluding`` of them (and the coordinator), because the remaining
    ``n_parties - max_colluding`` honest shares alone add up to a full discrete Laplace.
    """

    mechanism: Mechanism
    epsilon: Fraction
    delta: Fraction
    sensitivity: int
    scale: Fraction
    n_parties: int = 1
    max_colluding: int = 0

    @property
    def decay(self) -> float:
        """epsilon / sensitivity = 1 / scale, so that a = exp(-decay)."""
        return float(1 / self.scale)

    @property
    def honest_parties(self) -> int:
        """How many shares must stay secret for the epsilon guarantee to hold."""
        return self.n_parties - self.max_colluding

    @property
    def total_shape(self) -> Fraction:
        """R such that the total noise is NB(R, a) - NB(R, a); 1 means exactly discrete Laplace."""
        return Fraction(self.n_parties, self.honest_parties)


def calibrate(
    epsilon: float | Fraction,
    delta: float | Fraction,
    sensitivity: int,
    mechanism: Mechanism = Mechanism.DISCRETE_LAPLACE,
    *,
    n_parties: int = 1,
    max_colluding: int = 0,
) -> NoiseSpec:
    """The noise for an integer sum with L1 sensitivity Delta to be epsilon-DP.

    Discrete Laplace with scale t = Delta/epsilon is epsilon-DP for integer-valued queries of
    L1 sensitivity Delta (Ghosh, Roughgarden, Sundararajan, "Universally Utility-Maximizing
    Privacy Mechanisms", STOC 2009; CKS 2020, Section 1). It uses no delta: a positive delta
    is accepted (the campaign may state one) but the returned spec records delta = 0 spent.
    The epsilon kept is exact and never larger than the one asked for.
    """
    eps = _fraction_at_most(epsilon, "epsilon")
    if eps <= 0:
        raise NoiseParameterError("epsilon", epsilon, "must be > 0")
    delta_value = Fraction(delta)
    if not 0 <= delta_value < 1:
        raise NoiseParameterError("delta", delta, "must be in [0, 1)")
    if sensitivity < 1:
        raise NoiseParameterError("sensitivity", sensitivity, "must be >= 1 integer unit")
    if n_parties < 1:
        raise NoiseParameterError("n_parties", n_parties, "must be >= 1")
    if not 0 <= max_colluding < n_parties:
        raise NoiseParameterError(
            "max_colluding", max_colluding, f"must be in [0, n_parties={n_parties})"
        )
    if mechanism is not Mechanism.DISCRETE_LAPLACE:
        raise NoiseParameterError("mechanism", mechanism, "not supported")
    return NoiseSpec(
        mechanism=mechanism,
        epsilon=eps,
        delta=Fraction(0),
        sensitivity=sensitivity,
        scale=Fraction(sensitivity) / eps,
        n_parties=n_parties,
        max_colluding=max_colluding,
    )


class Bounded(Protocol):
    """Anything with inclusive integer bounds, such as ``fedcarbon.crypto.packing.MetricBounds``."""

    @property
    def min(self) -> int: ...

    @property
    def max(self) -> int: ...


def calibrate_vector(
    epsilon: float | Fraction,
    bounds: Sequence[Bounded],
    *,
    split: BudgetSplit = BudgetSplit.EQUAL,
    neighbouring: Neighbouring = Neighbouring.ADD_REMOVE,
    n_parties: int = 1,
    max_colluding: int = 0,
) -> tuple[NoiseSpec, ...]:
    """One NoiseSpec per metric of a campaign vector, together epsilon-DP (basic composition).

    Sensitivities come from the clamping bounds (:func:`sum_sensitivity`); a constant metric
    (sensitivity 0) is given unit sensitivity, which only adds a little harmless noise.
    """
    sensitivities = [max(1, sum_sensitivity(b.min, b.max, neighbouring)) for b in bounds]
    parts = per_metric_epsilon(epsilon, sensitivities, split)
    return tuple(
        calibrate(part, 0, sensitivity, n_parties=n_parties, max_colluding=max_colluding)
        for part, sensitivity in zip(parts, sensitivities, strict=True)
    )


# --- distributed shares -----------------------------------------------------------------------


def sample_spec_share(spec: NoiseSpec, rng: random.Random | None = None) -> int:
    """One trustee's share of the noise described by spec (see :func:`sample_noise_share`)."""
    rng = rng if rng is not None else default_rng()
    if spec.honest_parties == 1:
        # One share must carry the whole noise: use the exact sampler, no floating point.
        return sample_discrete_laplace(spec.scale.numerator, spec.scale.denominator, rng)
    if spec.scale > MAX_SHARE_SCALE:
        raise NoiseParameterError(
            "scale",
            float(spec.scale),
            f"floating-point Polya shares are limited to scale <= 2**48; use coarser "
            f"fixed-point units or max_colluding={spec.n_parties - 1} (exact sampler)",
        )
    shape = 1.0 / spec.honest_parties
    return sample_polya(shape, spec.decay, rng) - sample_polya(shape, spec.decay, rng)


def sample_noise_share(
    epsilon: float | Fraction,
    sensitivity: int,
    n_parties: int,
    rng: random.Random | None = None,
    *,
    max_colluding: int = 0,
) -> int:
    """One of n_parties trustees' integer noise shares; their sum is epsilon-DP noise.

    Each share is NB(r, a) - NB(r, a) with a = exp(-epsilon/sensitivity) and
    r = 1/(n_parties - max_colluding), so any n_parties - max_colluding shares sum to a
    discrete Laplace of scale sensitivity/epsilon (Goryczka and Xiong 2017). With
    max_colluding = 0 the total over all parties is exactly that discrete Laplace; each extra
    tolerated colluder multiplies the total variance by n/(n - c). A trustee encrypts its
    share and adds it to the aggregate before decrypting, so no party knows the total noise.
    """
    spec = calibrate(epsilon, 0, sensitivity, n_parties=n_parties, max_colluding=max_colluding)
    return sample_spec_share(spec, rng)


# --- error of released statistics -------------------------------------------------------------


def _laplace_tail(decay: float, m: int) -> float:
    """P[|X| > m] for the discrete Laplace with a = exp(-decay): 2 a^(m+1) / (1 + a)."""
    return 2.0 * math.exp(-decay * (m + 1)) / (1.0 + math.exp(-decay))


def _log_mgf(decay: float, shape: float, theta: float) -> float:
    """log E[exp(theta X)] for X = NB(shape, a) - NB(shape, a), 0 <= theta < decay."""
    one_minus_a = -math.expm1(-decay)
    return shape * (
        2.0 * math.log(one_minus_a)
        - math.log(-math.expm1(theta - decay))
        - math.log(-math.expm1(-theta - decay))
    )


def _chernoff_tail(decay: float, shape: float, m: int) -> float:
    """Upper bound on P[|X| > m] = 2 P[X >= m+1] by Chernoff, minimised over theta."""
    low, high = 0.0, decay * (1.0 - 1e-12)

    def exponent(theta: float) -> float:
        return _log_mgf(decay, shape, theta) - theta * (m + 1)

    for _ in range(200):  # the exponent is convex in theta: ternary search
        third = (high - low) / 3.0
        if exponent(low + third) <= exponent(high - third):
            high = high - third
        else:
            low = low + third
    return min(1.0, 2.0 * math.exp(exponent((low + high) / 2.0)))


def _smallest_m(tail: Callable[[int], float], beta: float) -> int:
    """Smallest m >= 0 with tail(m) <= beta, for a non-increasing tail, by doubling + bisection."""
    if tail(0) <= beta:
        return 0
    low, high = 0, 1
    while tail(high) > beta:
        low, high = high, high * 2
    while high - low > 1:  # invariant: tail(low) > beta >= tail(high)
        middle = (low + high) // 2
        if tail(middle) > beta:
            low = middle
        else:
            high = middle
    return high


@dataclass(frozen=True)
class _NegativeBinomialTable:
    """pmf p[k] and survival S[k] = P[Y > k] of NB(shape, e^(-1/scale)), truncated far out."""

    pmf: npt.NDArray[np.float64]
    survival: npt.NDArray[np.float64]

    @classmethod
    def build(cls, shape: float, scale: float, beta: float) -> _NegativeBinomialTable:
        # Beyond scale * (ln(1/beta) + 20) * shape the omitted mass is far below beta.
        length = math.ceil(scale * (math.log(1.0 / beta) + 20.0) * max(1.0, shape)) + 64
        k = np.arange(length - 1, dtype=np.float64)
        # p[k+1] / p[k] = a (k + shape) / (k + 1), p[0] = (1 - a)^shape; summed in log space.
        steps = np.log((k + shape) / (k + 1.0)) - 1.0 / scale
        log_p0 = shape * math.log(-math.expm1(-1.0 / scale))
        pmf = np.exp(np.concatenate(([log_p0], log_p0 + np.cumsum(steps))))
        # Reverse cumulative sums add the smallest terms first, keeping small tails accurate.
        survival = np.concatenate((np.cumsum(pmf[::-1])[::-1][1:], [0.0]))
        return cls(pmf, survival)

    def difference_tail(self, m: int) -> float:
        """P[|Y1 - Y2| > m] = 2 sum_k p[k] S[m + k] for i.i.d. Y1, Y2 from this table."""
        n = len(self.pmf)
        if m >= n:
            return 0.0
        return 2.0 * float(np.dot(self.pmf[: n - m], self.survival[m:]))

    def difference_mean_absolute(self) -> float:
        """E|Y1 - Y2| = 2 sum_k p[k] E[(Y - k)+], with E[(Y - k)+] = sum_{j >= k} S[j]."""
        excess = np.cumsum(self.survival[::-1])[::-1]
        return 2.0 * float(np.dot(self.pmf, excess))


def _numeric_table(spec: NoiseSpec, beta: float) -> tuple[_NegativeBinomialTable, float]:
    """The total noise's NB table at scale min(t, limit), and the factor t / that scale."""
    scale = float(spec.scale)
    table_scale = min(scale, _NUMERIC_SCALE_LIMIT)
    table = _NegativeBinomialTable.build(float(spec.total_shape), table_scale, beta)
    return table, scale / table_scale


def noise_variance(spec: NoiseSpec) -> float:
    """Variance of the total noise: R * 2a/(1-a)^2 (2a/(1-a)^2 for the discrete Laplace)."""
    decay = spec.decay
    return float(spec.total_shape) * 2.0 * math.exp(-decay) / math.expm1(-decay) ** 2


def expected_absolute_error(spec: NoiseSpec) -> float:
    """E|noise| in integer units: 2a/(1-a^2) for the discrete Laplace (total shape R = 1).

    For R > 1 it is computed numerically from the exact negative binomial pmf, at the real
    scale up to 2048 units and scaled linearly above (relative error below 1e-4).
    """
    if spec.total_shape == 1:
        return 2.0 * math.exp(-spec.decay) / -math.expm1(-2.0 * spec.decay)
    table, factor = _numeric_table(spec, 1e-12)
    return table.difference_mean_absolute() * factor


def confidence_half_width(spec: NoiseSpec, confidence: float = 0.95) -> int:
    """Smallest m with P[|noise| <= m] >= confidence, so a report can say "+/- m".

    Exact for the discrete Laplace: P[|X| > m] = 2a^(m+1)/(1+a). For a total shape R > 1
    (colluder-tolerant shares) computed from the exact pmf of NB(R, a) - NB(R, a) at the real
    scale up to 2048 units; above, the quantile is scaled linearly from scale 2048 and widened
    by 0.1 % (the scaling error measured is about 3e-5). For slot headroom, where a bound must
    be rigorous, use :func:`noise_magnitude_bound`.
    """
    if not 0.0 < confidence < 1.0:
        raise NoiseParameterError("confidence", confidence, "must be in (0, 1)")
    beta = 1.0 - confidence
    if spec.total_shape == 1:
        decay = spec.decay
        return _smallest_m(lambda m: _laplace_tail(decay, m), beta)
    table, factor = _numeric_table(spec, beta)
    m = _smallest_m(table.difference_tail, beta)
    if factor == 1.0:
        return m
    return math.ceil((m + 1) * factor * 1.001)


def noise_magnitude_bound(spec: NoiseSpec, failure_probability: float) -> int:
    """An m with P[|noise| > m] <= failure_probability, proven: the headroom a slot needs.

    Exact for the discrete Laplace; for a total shape R > 1 a Chernoff bound using the moment
    generating function E[e^(theta X)] = ((1-a)^2 / ((1 - a e^theta)(1 - a e^-theta)))^R,
    minimised over 0 < theta < 1/t (wider than the true quantile, never narrower).
    """
    if not 0.0 < failure_probability < 1.0:
        raise NoiseParameterError("failure_probability", failure_probability, "must be in (0, 1)")
    decay = spec.decay
    if spec.total_shape == 1:
        return _smallest_m(lambda m: _laplace_tail(decay, m), failure_probability)
    shape = float(spec.total_shape)
    return _smallest_m(lambda m: _chernoff_tail(decay, shape, m), failure_probability)


def mean_confidence_half_width(spec: NoiseSpec, count: int, confidence: float = 0.95) -> float:
    """Half-width of the released mean (sum + noise) / count, in fixed-point units."""
    if count < 1:
        raise NoiseParameterError("count", count, "must be >= 1")
    return confidence_half_width(spec, confidence) / count


@dataclass(frozen=True)
class ResidualNoise:
    """What a coalition of colluding trustees still faces after subtracting its own shares."""

    n_colluding: int
    shape: Fraction
    variance: float
    epsilon: Fraction | None
    """The DP guarantee left, or None when the coalition exceeds the tolerated size."""


def residual_noise(spec: NoiseSpec, n_colluding: int) -> ResidualNoise:
    """The noise left when n_colluding trustees subtract their shares from the release.

    The other n - c shares sum to NB((n-c)/h, a) - NB((n-c)/h, a) with h the honest count
    the spec was built for. If c <= max_colluding that shape is >= 1: a discrete Laplace plus
    independent noise, still epsilon-DP by post-processing. Beyond it the shape is < 1 and no
    pure-DP guarantee is claimed (the privacy loss near 0 grows without bound as shape -> 0).
    """
    if not 0 <= n_colluding <= spec.n_parties:
        raise NoiseParameterError(
            "n_colluding", n_colluding, f"must be in [0, n_parties={spec.n_parties}]"
        )
    shape = Fraction(spec.n_parties - n_colluding, spec.honest_parties)
    decay = spec.decay
    variance = float(shape) * 2.0 * math.exp(-decay) / math.expm1(-decay) ** 2
    epsilon = spec.epsilon if n_colluding <= spec.max_colluding else None
    return ResidualNoise(n_colluding=n_colluding, shape=shape, variance=variance, epsilon=epsilon)
