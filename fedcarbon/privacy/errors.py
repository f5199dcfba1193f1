"""Errors of the privacy package; each names the campaign, period or parameter at fault."""

from __future__ import annotations


class PrivacyError(Exception):
    """Base class for every differential-privacy error, so callers can catch one type."""


class NoiseParameterError(PrivacyError, ValueError):
    """A noise parameter (epsilon, delta, sensitivity, party count...) is out of its range."""

    def __init__(self, name: str, value: object, reason: str) -> None:
        self.name = name
        self.value = value
        self.reason = reason
        super().__init__(f"invalid noise parameter {name}={value!r}: {reason}")


class UnknownPeriodError(PrivacyError, KeyError):
    """The agent has no privacy budget configured for the reporting period asked about."""

    def __init__(self, period: str) -> None:
        self.period = period
        super().__init__(f"no privacy budget is configured for period {period!r}")

    def __str__(self) -> str:
        # KeyError quotes its argument; keep the sentence readable instead.
        return str(self.args[0])


class BudgetExceededError(PrivacyError):
    """Spending a campaign's epsilon/delta would overspend the period's privacy budget."""

    def __init__(
        self,
        campaign_id: str,
        period: str,
        requested_epsilon: float,
        requested_delta: float,
        remaining_epsilon: float,
        remaining_delta: float,
    ) -> None:
        self.campaign_id = campaign_id
        self.period = period
        self.requested_epsilon = requested_epsilon
        self.requested_delta = requested_delta
        self.remaining_epsilon = remaining_epsilon
        self.remaining_delta = remaining_delta
        super().__init__(
            f"campaign {campaign_id!r} asks for epsilon={requested_epsilon!r}, "
            f"delta={requested_delta!r} in period {period!r}, but only "
            f"epsilon={remaining_epsilon!r}, delta={remaining_delta!r} remain"
        )


class UnnoisedReleaseRefusedError(PrivacyError):
    """A campaign without noise was refused: local policy does not accept its kind un-noised."""

    def __init__(self, campaign_id: str, period: str, campaign_kind: str) -> None:
        self.campaign_id = campaign_id
        self.period = period
        self.campaign_kind = campaign_kind
        super().__init__(
            f"campaign {campaign_id!r} (kind {campaign_kind!r}, period {period!r}) releases "
            f"its statistic without noise, and local policy does not accept un-noised "
            f"releases for kind {campaign_kind!r}"
        )


class CampaignConflictError(PrivacyError):
    """A campaign id already in the ledger comes back with a different period, epsilon or delta."""

    def __init__(self, campaign_id: str, recorded: str, requested: str) -> None:
        self.campaign_id = campaign_id
        self.recorded = recorded
        self.requested = requested
        super().__init__(
            f"campaign {campaign_id!r} was recorded as {recorded} but now asks for {requested}"
        )


class LedgerFormatError(PrivacyError, ValueError):
    """A stored ledger document is malformed; names the field path at fault."""

    def __init__(self, field_path: str, reason: str) -> None:
        self.field_path = field_path
        self.reason = reason
        super().__init__(f"privacy ledger field {field_path}: {reason}")
