"""Samplers checked against their exact distributions (fixed seeds, generous bounds)."""

import math
import random
import statistics

import pytest

from fedcarbon.privacy.calibration import calibrate
from fedcarbon.privacy.errors import NoiseParameterError
from fedcarbon.privacy.sampling import sample_discrete_laplace, sample_poisson, sample_polya
from tests.unit.privacy.distributions import CHI_SQUARE_LIMIT, chi_square, discrete_laplace_pmf


def test_exact_sampler_pmf_matches_discrete_laplace_for_rational_scale() -> None:
    rng = random.Random(20240401)
    samples = [sample_discrete_laplace(3, 2, rng) for _ in range(40_000)]
    assert chi_square(samples, discrete_laplace_pmf(1.5), -7, 7) < CHI_SQUARE_LIMIT


def test_exact_sampler_variance_matches_2a_over_1_minus_a_squared() -> None:
    rng = random.Random(7)
    samples = [sample_discrete_laplace(5, 1, rng) for _ in range(40_000)]
    a = math.exp(-1 / 5)
    assert statistics.pvariance(samples) == pytest.approx(2 * a / (1 - a) ** 2, rel=0.06)


def test_exact_sampler_handles_huge_rational_scales() -> None:
    spec = calibrate(0.1, 0, 10**9)
    rng = random.Random(3)
    samples = [
        sample_discrete_laplace(spec.scale.numerator, spec.scale.denominator, rng)
        for _ in range(4_000)
    ]
    # E|X| = 2a/(1 - a^2), about the scale 1e10 here.
    assert statistics.fmean(abs(x) for x in samples) == pytest.approx(1e10, rel=0.08)


def test_exact_sampler_rejects_zero_scale() -> None:
    with pytest.raises(NoiseParameterError, match="scale"):
        sample_discrete_laplace(0, 1, random.Random(1))


@pytest.mark.parametrize("mean", [4.0, 30.0])
def test_poisson_pmf_matches_exact_pmf(mean: float) -> None:
    rng = random.Random(11)
    samples = [sample_poisson(mean, rng) for _ in range(30_000)]

    def pmf(k: int) -> float:
        return math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1)) if k >= 0 else 0.0

    low, high = max(1, int(mean - 2.5 * mean**0.5)), int(mean + 2.5 * mean**0.5)
    assert chi_square(samples, pmf, low, high) < CHI_SQUARE_LIMIT


def test_poisson_variance_is_right_for_a_huge_mean() -> None:
    rng = random.Random(5)
    samples = [sample_poisson(1e12, rng) for _ in range(20_000)]
    assert statistics.pvariance(samples) == pytest.approx(1e12, rel=0.05)


def test_polya_pmf_matches_negative_binomial() -> None:
    shape, decay = 0.5, 0.05
    a = math.exp(-decay)
    rng = random.Random(13)
    samples = [sample_polya(shape, decay, rng) for _ in range(30_000)]

    def pmf(k: int) -> float:
        if k < 0:
            return 0.0
        log_p = (
            math.lgamma(k + shape)
            - math.lgamma(k + 1)
            - math.lgamma(shape)
            + shape * math.log(1 - a)
            + k * math.log(a)
        )
        return math.exp(log_p)

    assert chi_square(samples, pmf, 0, 40) < CHI_SQUARE_LIMIT * 1.5  # ~41 degrees of freedom
