"""How much integer noise a released sum needs for epsilon-DP, and how trustees share it.

Calibration turns a privacy budget and clamping bounds into a :class:`NoiseSpec`:
sensitivity from the bounds (:func:`sum_sensitivity`), one epsilon split over a campaign's
metrics (:func:`per_metric_epsilon`), and the discrete Laplace scale ``t = Delta / epsilon``
(:func:`calibrate`, :func:`calibrate_vector`). Noise is added under encryption so that no
party knows it, hence distributed shares (:func:`sample_spec_share`,
:func:`sample_noise_share`): the discrete Laplace with ``a = e^(-1/t)`` is the difference of
two i.i.d. geometric variables ``P[G = k] = (1 - a) a^k``, and a geometric variable is the
sum of ``h`` i.i.d. Polya (negative binomial) variables ``NB(1/h, a)``. So if each of ``n``
trustees adds ``NB(r, a) - NB(r, a)`` with ``r = 1/h``, any ``h`` of the shares already add
up to an exact discrete Laplace, and the sum of all ``n`` is ``NB(n/h, a) - NB(n/h, a)``.
This is the "distributed geometric" construction of S. Goryczka and L. Xiong, "A
Comprehensive Comparison of Multiparty Secure Additions with Differential Privacy", IEEE
TDSC 2017, and the generalised discrete Laplace of C. Harrison and P. Manurangsi,
"Infinitely Divisible Noise for Differential Privacy", FORC 2025; see also P. Kairouz,
Z. Liu, T. Steinke, "The Distributed Discrete Gaussian Mechanism for Federated Learning
with Secure Aggregation", ICML 2021, for why a distribution closed under summation matters.

Calibration follows C. Dwork and A. Roth, "The Algorithmic Foundations of Differential
Privacy" (2014), and A. Ghosh, T. Roughgarden, M. Sundararajan, "Universally
Utility-Maximizing Privacy Mechanisms", STOC 2009, with the exact sampler of C. L. Canonne,
G. Kamath, T. Steinke, NeurIPS 2020, for a share that carries all the noise. The draws
themselves, and their floating-point caveat, are in :mod:`fedcarbon.privacy.sampling`.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from fedcarbon.privacy.errors import NoiseParameterError
from fedcarbon.privacy.sampling import default_rng, sample_discrete_laplace, sample_polya

#: Largest noise scale (integer units per unit of epsilon-loss) for floating-point shares: a
#: double resolves every integer below 2**53, and 2**48 leaves 5 bits for the gamma spread.
MAX_SHARE_SCALE = 2**48


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
