"""Noise samplers checked against their exact distributions (fixed seeds, generous bounds)."""

import math
import random
import statistics
from collections import Counter
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedcarbon.crypto.packing import MetricBounds
from fedcarbon.privacy.errors import NoiseParameterError
from fedcarbon.privacy.noise import (
    MAX_SHARE_SCALE,
    BudgetSplit,
    Neighbouring,
    NoiseSpec,
    calibrate,
    calibrate_vector,
    confidence_half_width,
    expected_absolute_error,
    mean_confidence_half_width,
    noise_magnitude_bound,
    noise_variance,
    per_metric_epsilon,
    residual_noise,
    sample_discrete_laplace,
    sample_noise_share,
    sample_poisson,
    sample_polya,
    sample_spec_share,
    sum_sensitivity,
)

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


def test_sum_of_shares_has_discrete_laplace_variance() -> None:
    spec = calibrate(1, 0, 3, n_parties=4)
    rng = random.Random(17)
    totals = [sum(sample_spec_share(spec, rng) for _ in range(4)) for _ in range(20_000)]
    a = math.exp(-1 / 3)
    assert statistics.pvariance(totals) == pytest.approx(2 * a / (1 - a) ** 2, rel=0.08)


def test_sum_of_shares_pmf_is_discrete_laplace() -> None:
    rng = random.Random(19)
    totals = [sum(sample_noise_share(0.5, 1, 3, rng) for _ in range(3)) for _ in range(20_000)]
    assert chi_square(totals, discrete_laplace_pmf(2.0), -7, 7) < CHI_SQUARE_LIMIT


def test_honest_subset_of_colluder_tolerant_shares_sums_to_discrete_laplace() -> None:
    spec = calibrate(1, 0, 2, n_parties=5, max_colluding=2)
    rng = random.Random(23)
    honest_totals = [sum(sample_spec_share(spec, rng) for _ in range(3)) for _ in range(20_000)]
    a = math.exp(-1 / 2)
    assert statistics.pvariance(honest_totals) == pytest.approx(2 * a / (1 - a) ** 2, rel=0.08)


def test_single_honest_share_uses_the_exact_sampler() -> None:
    spec = calibrate(Fraction(2, 3), 0, 5, n_parties=3, max_colluding=2)
    share = sample_spec_share(spec, random.Random(29))
    exact = sample_discrete_laplace(spec.scale.numerator, spec.scale.denominator, random.Random(29))
    assert share == exact


def test_share_refuses_scale_beyond_double_precision() -> None:
    spec = calibrate(Fraction(1, 4), 0, MAX_SHARE_SCALE, n_parties=3)
    with pytest.raises(NoiseParameterError, match="scale"):
        sample_spec_share(spec, random.Random(1))


def test_sum_sensitivity_add_remove_is_largest_magnitude() -> None:
    assert sum_sensitivity(-5, 10, Neighbouring.ADD_REMOVE) == 10


def test_sum_sensitivity_replace_one_is_range() -> None:
    assert sum_sensitivity(-5, 10, Neighbouring.REPLACE_ONE) == 15


def test_sum_sensitivity_names_inverted_bounds() -> None:
    with pytest.raises(NoiseParameterError, match="bounds"):
        sum_sensitivity(3, 2)


@given(
    epsilon=st.fractions(min_value=Fraction(1, 1000), max_value=10),
    sensitivities=st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=12),
    split=st.sampled_from(BudgetSplit),
)
def test_per_metric_epsilon_adds_up_to_exactly_epsilon(
    epsilon: Fraction, sensitivities: list[int], split: BudgetSplit
) -> None:
    parts = per_metric_epsilon(epsilon, sensitivities, split)
    assert sum(parts) == epsilon and all(part > 0 for part in parts)


def test_proportional_split_gives_every_metric_the_l1_scale() -> None:
    parts = per_metric_epsilon(Fraction(1), [10, 30], BudgetSplit.PROPORTIONAL)
    scales = [calibrate(eps, 0, s).scale for eps, s in zip(parts, [10, 30], strict=True)]
    assert scales == [40, 40]


@given(
    epsilon=st.floats(min_value=1e-3, max_value=20),
    sensitivity=st.integers(min_value=1, max_value=10**12),
)
def test_calibrated_epsilon_never_exceeds_the_requested_one(
    epsilon: float, sensitivity: int
) -> None:
    spec = calibrate(epsilon, 0, sensitivity)
    assert spec.epsilon <= Fraction(epsilon) and spec.scale * spec.epsilon == sensitivity


def test_calibrate_names_bad_delta() -> None:
    with pytest.raises(NoiseParameterError, match="delta"):
        calibrate(1.0, 1.0, 10)


def test_calibrate_names_too_many_colluders() -> None:
    with pytest.raises(NoiseParameterError, match="max_colluding"):
        calibrate(1.0, 0, 10, n_parties=3, max_colluding=3)


@given(
    scale=st.integers(min_value=1, max_value=10**6),
    confidence=st.floats(min_value=0.5, max_value=0.999),
)
def test_half_width_is_the_smallest_m_with_enough_coverage(scale: int, confidence: float) -> None:
    spec = calibrate(1, 0, scale)
    m = confidence_half_width(spec, confidence)
    a = math.exp(-1 / scale)

    def tail(k: int) -> float:
        return 2 * a ** (k + 1) / (1 + a)

    assert tail(m) <= (1 - confidence) * (1 + 1e-9)
    assert m == 0 or tail(m - 1) > (1 - confidence) * (1 - 1e-9)


def test_half_width_covers_95_percent_of_exact_draws() -> None:
    spec = calibrate(0.5, 0, 4)
    m = confidence_half_width(spec)
    rng = random.Random(31)
    draws = [sample_discrete_laplace(8, 1, rng) for _ in range(20_000)]
    assert sum(abs(x) <= m for x in draws) / len(draws) == pytest.approx(0.95, abs=0.01)


def colluder_tolerant_totals(spec: NoiseSpec, draws: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [sum(sample_spec_share(spec, rng) for _ in range(spec.n_parties)) for _ in range(draws)]


def test_half_width_of_colluder_tolerant_noise_covers_95_percent() -> None:
    spec = calibrate(0.5, 0, 4, n_parties=4, max_colluding=2)
    m = confidence_half_width(spec)
    totals = colluder_tolerant_totals(spec, 10_000, 37)
    assert sum(abs(x) <= m for x in totals) / len(totals) == pytest.approx(0.95, abs=0.01)


def test_half_width_scaled_beyond_the_numeric_limit_covers_95_percent() -> None:
    spec = calibrate(1, 0, 10**6, n_parties=3, max_colluding=1)
    m = confidence_half_width(spec)
    totals = colluder_tolerant_totals(spec, 10_000, 43)
    assert sum(abs(x) <= m for x in totals) / len(totals) == pytest.approx(0.95, abs=0.01)


def test_magnitude_bound_is_never_narrower_than_the_half_width() -> None:
    spec = calibrate(0.5, 0, 4, n_parties=4, max_colluding=2)
    assert noise_magnitude_bound(spec, 0.05) >= confidence_half_width(spec, 0.95)


def test_magnitude_bound_is_exact_for_discrete_laplace() -> None:
    spec = calibrate(1, 0, 1000)
    assert noise_magnitude_bound(spec, 0.01) == confidence_half_width(spec, 0.99)


def test_expected_absolute_error_of_colluder_tolerant_noise_matches_draws() -> None:
    spec = calibrate(0.5, 0, 4, n_parties=4, max_colluding=2)
    totals = colluder_tolerant_totals(spec, 10_000, 47)
    assert statistics.fmean(abs(x) for x in totals) == pytest.approx(
        expected_absolute_error(spec), rel=0.04
    )


def test_expected_absolute_error_matches_draws() -> None:
    spec = calibrate(1, 0, 6)
    rng = random.Random(41)
    draws = [sample_discrete_laplace(6, 1, rng) for _ in range(20_000)]
    assert statistics.fmean(abs(x) for x in draws) == pytest.approx(
        expected_absolute_error(spec), rel=0.04
    )


def test_mean_half_width_divides_by_the_count() -> None:
    spec = calibrate(1, 0, 100)
    assert mean_confidence_half_width(spec, 20) == confidence_half_width(spec) / 20


def test_noise_variance_grows_by_n_over_honest_for_colluder_tolerance() -> None:
    plain = calibrate(1, 0, 100, n_parties=6)
    tolerant = calibrate(1, 0, 100, n_parties=6, max_colluding=3)
    assert noise_variance(tolerant) == pytest.approx(2 * noise_variance(plain))


def test_residual_noise_keeps_epsilon_within_tolerated_collusion() -> None:
    spec = calibrate(1, 0, 100, n_parties=5, max_colluding=2)
    assert residual_noise(spec, 2).epsilon == spec.epsilon


def test_residual_noise_claims_nothing_beyond_tolerated_collusion() -> None:
    spec = calibrate(1, 0, 100, n_parties=5, max_colluding=2)
    residual = residual_noise(spec, 3)
    assert residual.epsilon is None and residual.shape == Fraction(2, 3)


def test_calibrate_vector_gives_each_metric_its_share_and_sensitivity() -> None:
    bounds = [MetricBounds("scope1_g", 0, 10**9), MetricBounds("delta_g", -500, 200)]
    specs = calibrate_vector(Fraction(1), bounds)
    assert [(s.epsilon, s.sensitivity) for s in specs] == [
        (Fraction(1, 2), 10**9),
        (Fraction(1, 2), 500),
    ]
