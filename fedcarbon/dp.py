"""Differential privacy for a campaign's release: who adds what noise, and how it is encoded.

Noise is added under encryption so that nobody knows it (issue 4, privacy model point 5):
after a campaign is aggregated, each of its n trustees encrypts a share of discrete Laplace
noise per metric (fedcarbon.privacy.noise.sample_spec_share: Polya-difference shares whose
sum over the honest trustees is a discrete Laplace of scale sensitivity / epsilon_metric,
calibrated so that any t - 1 colluding trustees plus the coordinator still face full noise).
The coordinator multiplies the signed noise vectors into the aggregate; trustees decrypt only
that noised aggregate, after recomputing it themselves.

Encoding: a share can be negative, a packed slot cannot. Each trustee sends
``share + offset`` with ``offset = noise_magnitude_bound(spec, 2**-40)``; the release subtracts
``n * offset``. A share whose magnitude exceeds the offset (probability below 2**-40 per
draw) is redrawn, a bias far below anything the released figures can show. The campaign's
slot headroom is sized for ``n * 2 * offset`` on top of the largest cohort sum.

Budget: epsilon is split equally over the noised metrics (basic composition). The
``participants`` count is not noised: the coordinator knows the contributor count anyway and
releases it with every result (see docs/privacy-accounting.md).
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from fedcarbon.privacy.noise import (
    Neighbouring,
    NoiseSpec,
    calibrate,
    noise_magnitude_bound,
    per_metric_epsilon,
    sample_spec_share,
    sum_sensitivity,
)

NOISE_FAILURE_PROBABILITY = 2.0**-40
UNNOISED_METRICS = frozenset({"participants"})
_MAX_REDRAWS = 64


@dataclass(frozen=True, slots=True)
class NoisePlan:
    """Per metric: the noise spec (None = not noised) and the offset each share carries."""

    specs: tuple[NoiseSpec | None, ...]
    offsets: tuple[int, ...]
    trustees: int

    def headroom(self) -> int:
        """The largest amount the noise shares can add to one slot."""
        return self.trustees * 2 * max(self.offsets, default=0)


def plan_noise(
    names: Sequence[str],
    bounds: Sequence[tuple[int, int]],
    epsilon: float,
    delta: float,
    trustees: int,
    threshold: int,
) -> NoisePlan | None:
    """The noise plan for a campaign, or None when it asks for no noise (epsilon 0)."""
    if epsilon <= 0:
        return None
    # A metric whose bounds admit a single value reveals nothing and needs no noise.
    noised = [
        i
        for i, name in enumerate(names)
        if name not in UNNOISED_METRICS and sum_sensitivity(*bounds[i], Neighbouring.ADD_REMOVE)
    ]
    if not noised:
        return None
    sensitivities = [sum_sensitivity(*bounds[i], Neighbouring.ADD_REMOVE) for i in noised]
    epsilons = per_metric_epsilon(Fraction(epsilon).limit_denominator(10**6), sensitivities)
    specs: list[NoiseSpec | None] = [None] * len(names)
    offsets = [0] * len(names)
    for index, metric_epsilon, sensitivity in zip(noised, epsilons, sensitivities, strict=True):
        spec = calibrate(
            metric_epsilon,
            Fraction(delta).limit_denominator(10**12),
            sensitivity,
            n_parties=trustees,
            max_colluding=threshold - 1,
        )
        specs[index] = spec
        offsets[index] = noise_magnitude_bound(spec, NOISE_FAILURE_PROBABILITY)
    return NoisePlan(tuple(specs), tuple(offsets), trustees)


def sample_noise_slots(plan: NoisePlan, rng: random.Random | None = None) -> list[int]:
    """One trustee's noise vector, offset to be non-negative, ready for pack_slots."""
    values = []
    for spec, offset in zip(plan.specs, plan.offsets, strict=True):
        if spec is None:
            values.append(0)
            continue
        for _ in range(_MAX_REDRAWS):
            share = sample_spec_share(spec, rng)
            if abs(share) <= offset:
                values.append(share + offset)
                break
        else:  # pragma: no cover - probability about 2**-2560
            raise RuntimeError("noise share exceeded its bound 64 times in a row")
    return values


def remove_offsets(sums: Sequence[int], plan: NoisePlan, shares: int) -> list[int]:
    """Subtract the offsets of ``shares`` noise vectors from decrypted slot sums."""
    return [total - shares * offset for total, offset in zip(sums, plan.offsets, strict=True)]
