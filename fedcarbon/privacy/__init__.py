"""Differential privacy for released statistics: integer noise and the agent's budget ledger.

See ``docs/privacy-accounting.md`` for the accounting these modules implement.
"""

from fedcarbon.privacy.budget import (
    BudgetDecision,
    BudgetLedger,
    BudgetPolicy,
    BudgetRemaining,
    LedgerEntry,
    PrivacyBudget,
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
from fedcarbon.privacy.noise import (
    BudgetSplit,
    Mechanism,
    Neighbouring,
    NoiseSpec,
    ResidualNoise,
    calibrate,
    confidence_half_width,
    expected_absolute_error,
    mean_confidence_half_width,
    noise_magnitude_bound,
    noise_variance,
    per_metric_epsilon,
    residual_noise,
    sample_discrete_laplace,
    sample_noise_share,
    sample_spec_share,
    sum_sensitivity,
)

__all__ = [
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
