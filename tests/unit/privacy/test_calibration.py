"""Calibration of noise specs and the distributed shares they describe (fixed seeds)."""

import math
import random
import statistics
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedcarbon.crypto.packing import MetricBounds
from fedcarbon.privacy.calibration import (
    MAX_SHARE_SCALE,
    BudgetSplit,
    Neighbouring,
    calibrate,
    calibrate_vector,
    per_metric_epsilon,
    sample_noise_share,
    sample_spec_share,
    sum_sensitivity,
)
from fedcarbon.privacy.errors import NoiseParameterError
from fedcarbon.privacy.sampling import sample_discrete_laplace
from tests.unit.privacy.distributions import CHI_SQUARE_LIMIT, chi_square, discrete_laplace_pmf


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


def test_calibrate_vector_gives_each_metric_its_share_and_sensitivity() -> None:
    bounds = [MetricBounds("scope1_g", 0, 10**9), MetricBounds("delta_g", -500, 200)]
    specs = calibrate_vector(Fraction(1), bounds)
    assert [(s.epsilon, s.sensitivity) for s in specs] == [
        (Fraction(1, 2), 10**9),
        (Fraction(1, 2), 500),
    ]
