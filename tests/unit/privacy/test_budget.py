"""The agent's privacy ledger: never overspends, charges a campaign once, names the culprit."""

import contextlib
import json
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon.privacy.budget import (
    BudgetLedger,
    BudgetPolicy,
    LedgerEntry,
    PrivacyBudget,
)
from fedcarbon.privacy.errors import (
    BudgetExceededError,
    CampaignConflictError,
    LedgerFormatError,
    NoiseParameterError,
    UnknownPeriodError,
    UnnoisedReleaseRefusedError,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PERIOD = "2025"


def ledger(
    epsilon: float = 1.0, delta: float = 1e-6, unnoised: frozenset[str] = frozenset()
) -> BudgetLedger:
    return BudgetLedger.create(
        [PrivacyBudget(PERIOD, epsilon, delta), PrivacyBudget("2026", 2.0, 0.0)],
        policy=BudgetPolicy(unnoised),
    )


def spent_epsilon(book: BudgetLedger, period: str) -> Fraction:
    """Sum of epsilons charged in a period, counted independently of the ledger's own code."""
    return sum(
        (Fraction(e.epsilon) for e in book.entries if e.period == period and e.epsilon),
        Fraction(0),
    )


operations = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3", "c4", "c5", "c6"]),
        st.sampled_from([PERIOD, "2026"]),
        st.floats(min_value=0.01, max_value=0.9),
    ),
    max_size=25,
)


@settings(max_examples=150)
@given(operations)
def test_random_spends_never_overspend_any_period(ops: list[tuple[str, str, float]]) -> None:
    book = ledger()
    for campaign_id, period, epsilon in ops:
        with contextlib.suppress(BudgetExceededError, CampaignConflictError):
            book = book.spend(campaign_id, period, epsilon, 0.0, NOW)
        for budget in book.budgets.values():
            assert spent_epsilon(book, budget.period) <= Fraction(budget.epsilon_total)


@settings(max_examples=150)
@given(operations)
def test_spend_raises_exactly_when_check_refuses(ops: list[tuple[str, str, float]]) -> None:
    book = ledger()
    for campaign_id, period, epsilon in ops:
        decision = book.check(campaign_id, period, epsilon, 0.0)
        try:
            book = book.spend(campaign_id, period, epsilon, 0.0, NOW)
            raised = False
        except (BudgetExceededError, CampaignConflictError):
            raised = True
        assert raised is not decision.allowed


@given(st.integers(min_value=2, max_value=6), st.floats(min_value=0.01, max_value=1.0))
def test_repeated_campaign_is_charged_once(repeats: int, epsilon: float) -> None:
    book = ledger()
    for _ in range(repeats):
        book = book.spend("bench-1", PERIOD, epsilon, 0.0, NOW)
    assert len(book.entries) == 1


def test_retry_of_a_spent_campaign_is_allowed_even_when_budget_is_exhausted() -> None:
    book = ledger(epsilon=0.5).spend("bench-1", PERIOD, 0.5, 0.0, NOW)
    assert book.check("bench-1", PERIOD, 0.5, 0.0).already_spent


@given(st.lists(st.floats(min_value=0.001, max_value=0.4), min_size=1, max_size=8))
def test_reported_remainder_is_always_spendable(epsilons: list[float]) -> None:
    book = ledger(epsilon=3.3)
    for index, epsilon in enumerate(epsilons):
        book = book.spend(f"c{index}", PERIOD, epsilon, 0.0, NOW)
    left = book.remaining(PERIOD).epsilon
    if left > 0:
        assert book.check("last", PERIOD, left, 0.0).allowed


def test_overspend_error_names_campaign_period_and_amounts() -> None:
    book = ledger(epsilon=1.0).spend("bench-1", PERIOD, 0.75, 0.0, NOW)
    with pytest.raises(BudgetExceededError) as raised:
        book.spend("bench-2", PERIOD, 0.5, 0.0, NOW)
    message = str(raised.value)
    assert "bench-2" in message and "'2025'" in message and "0.5" in message and "0.25" in message


def test_delta_is_budgeted_too() -> None:
    book = ledger(delta=1e-6).spend("bench-1", PERIOD, 0.1, 8e-7, NOW)
    assert not book.check("bench-2", PERIOD, 0.1, 5e-7).allowed


def test_periods_are_budgeted_separately() -> None:
    book = ledger(epsilon=1.0).spend("bench-1", PERIOD, 1.0, 0.0, NOW)
    assert book.check("bench-2", "2026", 1.0, 0.0).allowed


def test_changed_terms_for_a_recorded_campaign_raise_conflict_naming_it() -> None:
    book = ledger().spend("bench-1", PERIOD, 0.3, 0.0, NOW)
    with pytest.raises(CampaignConflictError, match="bench-1"):
        book.spend("bench-1", PERIOD, 0.2, 0.0, NOW)


def test_unnoised_campaign_is_refused_without_policy() -> None:
    with pytest.raises(UnnoisedReleaseRefusedError, match="sc-7"):
        ledger().spend("sc-7", PERIOD, None, 0.0, NOW, campaign_kind="supply_chain")


def test_infinite_epsilon_means_unnoised() -> None:
    decision = ledger().check("sc-7", PERIOD, float("inf"), 0.0, campaign_kind="supply_chain")
    assert not decision.allowed


def test_unnoised_campaign_allowed_by_policy_is_recorded_outside_the_guarantee() -> None:
    book = ledger(unnoised=frozenset({"supply_chain"}))
    book = book.spend("sc-7", PERIOD, None, 0.0, NOW, campaign_kind="supply_chain")
    assert book.unnoised_campaigns(PERIOD) == ("sc-7",)


def test_unnoised_campaign_does_not_consume_epsilon() -> None:
    book = ledger(unnoised=frozenset({"supply_chain"}))
    book = book.spend("sc-7", PERIOD, None, 0.0, NOW, campaign_kind="supply_chain")
    assert book.remaining(PERIOD).epsilon == 1.0


def test_unknown_period_is_refused_by_check() -> None:
    assert not ledger().check("bench-1", "1999", 0.1, 0.0).allowed


def test_unknown_period_raises_on_spend_naming_it() -> None:
    with pytest.raises(UnknownPeriodError, match="1999"):
        ledger().spend("bench-1", "1999", 0.1, 0.0, NOW)


def test_naive_timestamp_is_rejected() -> None:
    with pytest.raises(NoiseParameterError, match="spent_at"):
        ledger().spend("bench-1", PERIOD, 0.1, 0.0, datetime(2026, 1, 1))


def test_negative_epsilon_is_rejected() -> None:
    with pytest.raises(NoiseParameterError, match="epsilon"):
        ledger().check("bench-1", PERIOD, -0.1, 0.0)


def test_ledger_round_trips_through_strict_json() -> None:
    book = ledger(unnoised=frozenset({"supply_chain"}))
    book = book.spend("bench-1", PERIOD, 0.3, 1e-7, NOW)
    book = book.spend("sc-7", PERIOD, None, 0.0, NOW, campaign_kind="supply_chain")
    text = json.dumps(book.to_dict(), allow_nan=False)
    assert BudgetLedger.from_dict(json.loads(text)) == book


def test_malformed_ledger_names_the_field_path() -> None:
    document = ledger().spend("bench-1", PERIOD, 0.3, 0.0, NOW).to_dict()
    document["entries"][0]["epsilon"] = "lots"
    with pytest.raises(LedgerFormatError, match=r"entries\[0\]\.epsilon"):
        BudgetLedger.from_dict(document)


def test_duplicate_budget_period_is_rejected() -> None:
    with pytest.raises(NoiseParameterError, match="2025"):
        BudgetLedger.create([PrivacyBudget(PERIOD, 1.0), PrivacyBudget(PERIOD, 2.0)])


def test_entry_terms_say_no_noise_for_unnoised_entries() -> None:
    entry = LedgerEntry("sc-7", PERIOD, None, 0.0, NOW, "supply_chain")
    assert "no noise" in entry.terms()


def test_ledger_rejects_a_campaign_listed_twice() -> None:
    entry = LedgerEntry("bench-1", PERIOD, 0.1, 0.0, NOW)
    with pytest.raises(NoiseParameterError, match="bench-1"):
        BudgetLedger({PERIOD: PrivacyBudget(PERIOD, 1.0)}, (entry, entry))


def test_unnoised_release_with_a_delta_is_rejected() -> None:
    book = ledger(unnoised=frozenset({"supply_chain"}))
    with pytest.raises(NoiseParameterError, match="delta"):
        book.check("sc-7", PERIOD, None, 1e-6, campaign_kind="supply_chain")
