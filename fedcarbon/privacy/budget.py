"""An agent's own privacy-budget ledger: it declines campaigns that would overspend a period.

Accounting is basic sequential composition (C. Dwork and A. Roth, "The Algorithmic
Foundations of Differential Privacy", 2014, Theorem 3.16): releases that are
(epsilon_i, delta_i)-DP in one reporting period are together (sum epsilon_i, sum delta_i)-DP,
so the ledger adds epsilons and deltas per period and compares with the period's budget.
Sums are taken over exact rationals (every float is one), so rounding can never let a
sequence of spends pass the budget.

A campaign id is charged once: a retried contribution to the same campaign costs nothing
more, because the campaign's aggregate is released once (DESIGN.md, privacy model 2). A
campaign released without noise is not free: it is not differentially private at all. It is
accepted only if the agent's policy lists its kind (for example ``supply_chain``, where the
buyer is entitled to the exact total over its suppliers), and the ledger records it so a
report can say that the period's guarantee does not cover that release.

The ledger is immutable and pure; the agent's store persists :meth:`BudgetLedger.to_dict`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from typing import Any

from fedcarbon.privacy.errors import (
    BudgetExceededError,
    CampaignConflictError,
    LedgerFormatError,
    NoiseParameterError,
    UnknownPeriodError,
    UnnoisedReleaseRefusedError,
)

LEDGER_FORMAT_VERSION = 1


def _float_at_most(value: Fraction) -> float:
    """The largest float not above value, so a reported remainder is always spendable."""
    result = float(value)
    if Fraction(result) > value:
        result = math.nextafter(result, -math.inf)
    return result


def _normalise_epsilon(epsilon: float | None, name: str = "epsilon") -> float | None:
    """None or infinity both mean 'no noise'; anything else must be a finite epsilon > 0."""
    if epsilon is None or epsilon == math.inf:
        return None
    if not math.isfinite(epsilon) or epsilon <= 0:
        raise NoiseParameterError(name, epsilon, "must be > 0, or None/inf for no noise")
    return float(epsilon)


def _check_delta(delta: float, name: str = "delta") -> float:
    if not (math.isfinite(delta) and 0 <= delta < 1):
        raise NoiseParameterError(name, delta, "must be in [0, 1)")
    return float(delta)


@dataclass(frozen=True)
class PrivacyBudget:
    """The total epsilon and delta an agent allows itself to spend in one reporting period."""

    period: str
    epsilon_total: float
    delta_total: float = 0.0

    def __post_init__(self) -> None:
        if not self.period:
            raise NoiseParameterError("period", self.period, "must be a non-empty string")
        if not (math.isfinite(self.epsilon_total) and self.epsilon_total >= 0):
            raise NoiseParameterError(
                f"budgets[{self.period}].epsilon_total", self.epsilon_total, "must be >= 0"
            )
        _check_delta(self.delta_total, f"budgets[{self.period}].delta_total")


@dataclass(frozen=True)
class LedgerEntry:
    """One campaign the agent contributed to; epsilon None means released without noise."""

    campaign_id: str
    period: str
    epsilon: float | None
    delta: float
    spent_at: datetime
    campaign_kind: str = "benchmark"

    @property
    def noised(self) -> bool:
        """Whether the release carried differentially private noise."""
        return self.epsilon is not None

    def terms(self) -> str:
        """The entry's accounting terms, as error messages quote them."""
        eps = "no noise" if self.epsilon is None else f"epsilon={self.epsilon!r}"
        return f"period {self.period!r}, {eps}, delta={self.delta!r}"


@dataclass(frozen=True)
class BudgetRemaining:
    """What is left of a period's budget (never rounded up)."""

    epsilon: float
    delta: float


@dataclass(frozen=True)
class BudgetDecision:
    """The answer to "may I contribute to this campaign?", with the reason in words."""

    allowed: bool
    reason: str
    remaining_after: BudgetRemaining | None
    """Budget left if the campaign is spent (if allowed), else what is left now; None when
    the agent has no budget for the period."""
    already_spent: bool = False
    """True when the campaign id is already in the ledger: a retry, charged nothing more."""


@dataclass(frozen=True)
class BudgetPolicy:
    """The agent's local rules beyond the numbers: which kinds may be released un-noised."""

    unnoised_kinds: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class BudgetLedger:
    """Budgets per period plus every campaign spent; each spend returns a new ledger."""

    budgets: Mapping[str, PrivacyBudget]
    entries: tuple[LedgerEntry, ...] = ()
    policy: BudgetPolicy = field(default_factory=BudgetPolicy)

    def __post_init__(self) -> None:
        for period, budget in self.budgets.items():
            if period != budget.period:
                raise NoiseParameterError(
                    f"budgets[{period!r}]", budget.period, "key must equal the budget's period"
                )
        object.__setattr__(self, "entries", tuple(self.entries))
        seen: set[str] = set()
        for entry in self.entries:
            if entry.campaign_id in seen:
                raise NoiseParameterError(
                    "entries", entry.campaign_id, "a campaign may appear only once"
                )
            seen.add(entry.campaign_id)

    @classmethod
    def create(
        cls,
        budgets: Iterable[PrivacyBudget],
        entries: Iterable[LedgerEntry] = (),
        policy: BudgetPolicy | None = None,
    ) -> BudgetLedger:
        """A ledger from a list of budgets, refusing two budgets for the same period."""
        by_period: dict[str, PrivacyBudget] = {}
        for budget in budgets:
            if budget.period in by_period:
                raise NoiseParameterError("budgets", budget.period, "period listed twice")
            by_period[budget.period] = budget
        return cls(by_period, tuple(entries), policy or BudgetPolicy())

    def _budget(self, period: str) -> PrivacyBudget:
        try:
            return self.budgets[period]
        except KeyError:
            raise UnknownPeriodError(period) from None

    def _spent(self, period: str) -> tuple[Fraction, Fraction]:
        epsilon = Fraction(0)
        delta = Fraction(0)
        for entry in self.entries:
            if entry.period == period:
                if entry.epsilon is not None:
                    epsilon += Fraction(entry.epsilon)
                delta += Fraction(entry.delta)
        return epsilon, delta

    def _remaining_exact(self, period: str) -> tuple[Fraction, Fraction]:
        budget = self._budget(period)
        spent_epsilon, spent_delta = self._spent(period)
        return (
            Fraction(budget.epsilon_total) - spent_epsilon,
            Fraction(budget.delta_total) - spent_delta,
        )

    def remaining(self, period: str) -> BudgetRemaining:
        """Epsilon and delta still available in the period; raises UnknownPeriodError."""
        epsilon, delta = self._remaining_exact(period)
        return BudgetRemaining(_float_at_most(epsilon), _float_at_most(delta))

    def entry(self, campaign_id: str) -> LedgerEntry | None:
        """The ledger entry of a campaign, if the agent already contributed to it."""
        for entry in self.entries:
            if entry.campaign_id == campaign_id:
                return entry
        return None

    def unnoised_campaigns(self, period: str) -> tuple[str, ...]:
        """Campaign ids released without noise in the period: outside the DP guarantee."""
        return tuple(e.campaign_id for e in self.entries if e.period == period and not e.noised)

    def check(
        self,
        campaign_id: str,
        period: str,
        epsilon: float | None,
        delta: float = 0.0,
        campaign_kind: str = "benchmark",
    ) -> BudgetDecision:
        """Whether contributing to the campaign fits the period's budget and local policy.

        Never raises for a refusal (only for malformed parameters); :meth:`spend` raises.
        """
        eps = _normalise_epsilon(epsilon)
        dlt = _check_delta(delta)
        if eps is None and dlt != 0:
            raise NoiseParameterError("delta", delta, "an un-noised release has no delta; use 0")
        recorded = self.entry(campaign_id)
        if period not in self.budgets:
            return BudgetDecision(
                False, f"no privacy budget is configured for period {period!r}", None
            )
        left_epsilon, left_delta = self._remaining_exact(period)
        now = BudgetRemaining(_float_at_most(left_epsilon), _float_at_most(left_delta))
        if recorded is not None:
            if (recorded.period, recorded.epsilon, recorded.delta) == (period, eps, dlt):
                return BudgetDecision(
                    True,
                    f"campaign {campaign_id!r} is already recorded; a retry costs nothing",
                    now,
                    already_spent=True,
                )
            requested = LedgerEntry(campaign_id, period, eps, dlt, recorded.spent_at)
            return BudgetDecision(
                False,
                f"campaign {campaign_id!r} was recorded with {recorded.terms()} "
                f"but now asks for {requested.terms()}",
                now,
            )
        if eps is None:
            if campaign_kind not in self.policy.unnoised_kinds:
                return BudgetDecision(
                    False,
                    f"campaign {campaign_id!r} releases without noise and local policy does "
                    f"not accept un-noised releases for kind {campaign_kind!r}",
                    now,
                )
            return BudgetDecision(
                True,
                f"campaign {campaign_id!r} is released without noise (kind {campaign_kind!r} "
                f"allowed by policy); it is outside the period's DP guarantee",
                now,
            )
        after_epsilon = left_epsilon - Fraction(eps)
        after_delta = left_delta - Fraction(dlt)
        if after_epsilon < 0 or after_delta < 0:
            return BudgetDecision(
                False,
                f"campaign {campaign_id!r} asks for epsilon={eps!r}, delta={dlt!r} in period "
                f"{period!r} but only epsilon={now.epsilon!r}, delta={now.delta!r} remain",
                now,
            )
        return BudgetDecision(
            True,
            f"campaign {campaign_id!r} fits the budget of period {period!r}",
            BudgetRemaining(_float_at_most(after_epsilon), _float_at_most(after_delta)),
        )

    def spend(
        self,
        campaign_id: str,
        period: str,
        epsilon: float | None,
        delta: float,
        spent_at: datetime,
        campaign_kind: str = "benchmark",
    ) -> BudgetLedger:
        """The ledger with the campaign charged; unchanged for a retry of the same campaign.

        Raises BudgetExceededError, UnnoisedReleaseRefusedError, CampaignConflictError or
        UnknownPeriodError, each naming the campaign (and period).
        """
        if spent_at.tzinfo is None:
            raise NoiseParameterError("spent_at", spent_at, "must be timezone-aware")
        decision = self.check(campaign_id, period, epsilon, delta, campaign_kind)
        if decision.already_spent:
            return self
        if decision.allowed:
            entry = LedgerEntry(
                campaign_id,
                period,
                _normalise_epsilon(epsilon),
                float(delta),
                spent_at,
                campaign_kind,
            )
            return replace(self, entries=(*self.entries, entry))
        recorded = self.entry(campaign_id)
        eps = _normalise_epsilon(epsilon)
        if recorded is not None:
            requested = LedgerEntry(campaign_id, period, eps, float(delta), spent_at)
            raise CampaignConflictError(campaign_id, recorded.terms(), requested.terms())
        if period not in self.budgets:
            raise UnknownPeriodError(period)
        if eps is None:
            raise UnnoisedReleaseRefusedError(campaign_id, period, campaign_kind)
        left = self.remaining(period)
        raise BudgetExceededError(campaign_id, period, eps, float(delta), left.epsilon, left.delta)

    # --- persistence -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible document for the agent's store (no inf, datetimes as ISO 8601)."""
        return {
            "version": LEDGER_FORMAT_VERSION,
            "policy": {"unnoised_kinds": sorted(self.policy.unnoised_kinds)},
            "budgets": [
                {
                    "period": b.period,
                    "epsilon_total": b.epsilon_total,
                    "delta_total": b.delta_total,
                }
                for b in sorted(self.budgets.values(), key=lambda b: b.period)
            ],
            "entries": [
                {
                    "campaign_id": e.campaign_id,
                    "period": e.period,
                    "epsilon": e.epsilon,
                    "delta": e.delta,
                    "spent_at": e.spent_at.isoformat(),
                    "campaign_kind": e.campaign_kind,
                }
                for e in self.entries
            ],
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> BudgetLedger:
        """Rebuild a ledger from :meth:`to_dict` output; LedgerFormatError names the field."""
        version = document.get("version")
        if version != LEDGER_FORMAT_VERSION:
            raise LedgerFormatError("version", f"expected {LEDGER_FORMAT_VERSION}, got {version!r}")
        policy_doc = _field(document, "policy", dict, "")
        kinds = _field(policy_doc, "unnoised_kinds", list, "policy")
        if not all(isinstance(kind, str) for kind in kinds):
            raise LedgerFormatError("policy.unnoised_kinds", "every kind must be a string")
        budgets: list[PrivacyBudget] = []
        for index, item in enumerate(_field(document, "budgets", list, "")):
            path = f"budgets[{index}]"
            if not isinstance(item, dict):
                raise LedgerFormatError(path, "must be an object")
            try:
                budgets.append(
                    PrivacyBudget(
                        _field(item, "period", str, path),
                        float(_number(item, "epsilon_total", path)),
                        float(_number(item, "delta_total", path)),
                    )
                )
            except NoiseParameterError as error:
                raise LedgerFormatError(path, str(error)) from error
        entries: list[LedgerEntry] = []
        for index, item in enumerate(_field(document, "entries", list, "")):
            path = f"entries[{index}]"
            if not isinstance(item, dict):
                raise LedgerFormatError(path, "must be an object")
            epsilon = item.get("epsilon")
            if epsilon is not None:
                epsilon = float(_number(item, "epsilon", path))
            try:
                spent_at = datetime.fromisoformat(_field(item, "spent_at", str, path))
            except ValueError as error:
                raise LedgerFormatError(f"{path}.spent_at", str(error)) from error
            entries.append(
                LedgerEntry(
                    _field(item, "campaign_id", str, path),
                    _field(item, "period", str, path),
                    epsilon,
                    float(_number(item, "delta", path)),
                    spent_at,
                    _field(item, "campaign_kind", str, path),
                )
            )
        try:
            return cls.create(budgets, entries, BudgetPolicy(frozenset(kinds)))
        except NoiseParameterError as error:
            raise LedgerFormatError("budgets", str(error)) from error


def _field(container: Mapping[str, Any], key: str, kind: type, parent: str) -> Any:
    """container[key], checked to be of kind; LedgerFormatError names parent.key otherwise."""
    full_path = f"{parent}.{key}" if parent else key
    if key not in container:
        raise LedgerFormatError(full_path, "missing")
    value = container[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise LedgerFormatError(full_path, f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _number(container: Mapping[str, Any], key: str, path: str) -> float | int:
    """A finite JSON number field (int or float, not bool)."""
    full_path = f"{path}.{key}"
    if key not in container:
        raise LedgerFormatError(full_path, "missing")
    value = container[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LedgerFormatError(full_path, f"expected a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise LedgerFormatError(full_path, "must be finite")
    return value
