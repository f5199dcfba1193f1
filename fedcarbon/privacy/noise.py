"""Integer noise for differentially private sums: one import for sampling, calibration, accuracy.

The noise code lives in three modules, one concept each: :mod:`fedcarbon.privacy.sampling`
(exact discrete Laplace after Canonne, Kamath, Steinke, NeurIPS 2020; Poisson and Polya
draws), :mod:`fedcarbon.privacy.calibration` (sensitivity, budget split, :class:`NoiseSpec`
and distributed shares after Goryczka and Xiong, IEEE TDSC 2017) and
:mod:`fedcarbon.privacy.accuracy` (variance, half-widths, slot-headroom bound, residual
noise under collusion). This module re-exports their public names so that callers can keep
importing from ``fedcarbon.privacy.noise``.
"""

from fedcarbon.privacy.accuracy import (
    ResidualNoise,
    confidence_half_width,
    expected_absolute_error,
    mean_confidence_half_width,
    noise_magnitude_bound,
    noise_variance,
    residual_noise,
)
from fedcarbon.privacy.calibration import (
    MAX_SHARE_SCALE,
    Bounded,
    BudgetSplit,
    Mechanism,
    Neighbouring,
    NoiseSpec,
    calibrate,
    calibrate_vector,
    per_metric_epsilon,
    sample_noise_share,
    sample_spec_share,
    sum_sensitivity,
)
from fedcarbon.privacy.sampling import (
    default_rng,
    sample_discrete_laplace,
    sample_poisson,
    sample_polya,
)

__all__ = [
    "MAX_SHARE_SCALE",
    "Bounded",
    "BudgetSplit",
    "Mechanism",
    "Neighbouring",
    "NoiseSpec",
    "ResidualNoise",
    "calibrate",
    "calibrate_vector",
    "confidence_half_width",
    "default_rng",
    "expected_absolute_error",
    "mean_confidence_half_width",
    "noise_magnitude_bound",
    "noise_variance",
    "per_metric_epsilon",
    "residual_noise",
    "sample_discrete_laplace",
    "sample_noise_share",
    "sample_poisson",
    "sample_polya",
    "sample_spec_share",
    "sum_sensitivity",
]
