"""Differential privacy for released statistics: integer noise and the agent's budget ledger.

Noise draws are in ``sampling``, their scale in ``calibration``, their error figures in
``accuracy`` (``noise`` re-exports all three), the agent's ledger in ``budget``. See
``docs/privacy-accounting.md`` for the accounting these modules implement.
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
from fedcarbon.privacy.budget import (
    BudgetDecision,
    BudgetLedger,
    BudgetPolicy,
    BudgetRemaining,
    LedgerEntry,
    PrivacyBudget,
)
from fedcarbon.privacy.calibration import (
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
from fedcarbon.privacy.errors import (
    BudgetExceededError,
    CampaignConflictError,
    LedgerFormatError,
    NoiseParameterError,
    PrivacyError,
    UnknownPeriodError,
    UnnoisedReleaseRefusedError,
)
from fedcarbon.privacy.sampling import sample_discrete_laplace

__all__ = [
    "Bounded",
    "BudgetDecision",
    "BudgetExceededError",
    "BudgetLedger",
    "BudgetPolicy",
    "BudgetRemaining",
    "BudgetSplit",
    "CampaignConflictError",
    "LedgerEntry",
    "LedgerFormatError",
    "Mechanism",
    "Neighbouring",
    "NoiseParameterError",
    "NoiseSpec",
    "PrivacyBudget",
    "PrivacyError",
    "ResidualNoise",
    "UnknownPeriodError",
    "UnnoisedReleaseRefusedError",
    "calibrate",
    "calibrate_vector",
    "confidence_half_width",
    "expected_absolute_error",
    "mean_confidence_half_width",
    "noise_magnitude_bound",
    "noise_variance",
    "per_metric_epsilon",
    "residual_noise",
    "sample_discrete_laplace",
    "sample_noise_share",
    "sample_spec_share",
    "sum_sensitivity",
]
