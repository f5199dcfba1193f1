"""Error figures of calibrated noise checked against exact tails and against draws."""

import math
import random
import statistics
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedcarbon.privacy.accuracy import (
    confidence_half_width,
    expected_absolute_error,
    mean_confidence_half_width,
    noise_magnitude_bound,
    noise_variance,
    residual_noise,
)
from fedcarbon.privacy.calibration import NoiseSpec, calibrate, sample_spec_share
from fedcarbon.privacy.sampling import sample_discrete_laplace


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
