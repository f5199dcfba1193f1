"""The agent's local policy: each reason to decline a campaign, and the per-period budget."""

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from agent.config import Policy
from agent.policy import period_label, refusals
from agent.store import BudgetSpend
from fedcarbon.campaign import (
    Campaign,
    CampaignKind,
    CampaignState,
    MetricSpec,
    new_campaign,
)
from tests.unit.keys import UNIT_KEY_BITS, shared_key

ME = "supplier-1"
PERIOD = "2024-01-01..2024-12-31"
# A policy that accepts this file's 512-bit test key, so each test isolates one reason.
POLICY = Policy(min_key_bits=512)


def _campaign(campaign_id: str = "bench", **changes: Any) -> Campaign:
    terms: dict[str, Any] = {
        "campaign_id": campaign_id,
        "kind": CampaignKind.BENCHMARK,
        "title": "Benchmark",
        "period_start": date(2024, 1, 1),
        "period_end": date(2024, 12, 31),
        "metrics": (MetricSpec("scope1_kgco2e", "kgCO2e", 3, 0, 10**9),),
        "key": shared_key(("trustee-1", "trustee-2", "trustee-3"), 2, campaign_id),
    }
    terms.update(changes)
    return new_campaign(**terms)


def _spend(
    campaign_id: str, epsilon: float, delta: float = 0.0, period: str = PERIOD
) -> BudgetSpend:
    return BudgetSpend(
        campaign_id=campaign_id, period=period, epsilon=epsilon, delta=delta, spent_unix_ms=0
    )


def test_an_acceptable_campaign_has_no_refusal() -> None:
    assert refusals(_campaign(), POLICY, ME, []) == []


@pytest.mark.parametrize(
    "state", [CampaignState.AGGREGATED, CampaignState.RELEASED, CampaignState.FAILED]
)
def test_a_campaign_that_is_not_open_is_declined(state: CampaignState) -> None:
    reasons = refusals(_campaign().with_state(state), POLICY, ME, [])
    assert reasons == [f"campaign is {state.value}, not open"]


def test_a_kind_the_policy_does_not_allow_is_declined() -> None:
    policy = replace(POLICY, kinds=("supply_chain",))
    assert refusals(_campaign(), policy, ME, []) == [
        "campaign kind benchmark is not allowed by policy.kinds"
    ]


def test_a_k_below_the_agents_minimum_is_declined() -> None:
    policy = replace(POLICY, min_contributors=5)
    assert refusals(_campaign(min_contributors=4), policy, ME, []) == [
        "k = 4 is below this agent's minimum 5"
    ]


def test_a_k_equal_to_the_agents_minimum_is_accepted() -> None:
    policy = replace(POLICY, min_contributors=5)
    assert refusals(_campaign(min_contributors=5), policy, ME, []) == []


def test_a_key_shorter_than_the_policy_requires_is_declined() -> None:
    assert refusals(_campaign(), Policy(), ME, []) == [
        f"the campaign key has {UNIT_KEY_BITS} bits; policy requires 2048"
    ]


def test_an_agent_not_on_the_invitation_list_is_declined() -> None:
    chain = _campaign(kind=CampaignKind.SUPPLY_CHAIN, buyer_id="buyer", invited=("supplier-2",))
    assert refusals(chain, POLICY, ME, []) == ["this participant is not invited"]


def test_an_invited_agent_is_accepted() -> None:
    chain = _campaign(kind=CampaignKind.SUPPLY_CHAIN, buyer_id="buyer", invited=(ME,))
    assert refusals(chain, POLICY, ME, []) == []


def test_a_key_holder_is_declined_as_contributor() -> None:
    assert refusals(_campaign(), POLICY, "trustee-1", []) == [
        "this participant is one of the campaign's key holders"
    ]


def test_an_unnoised_benchmark_is_declined_when_the_policy_forbids_it() -> None:
    policy = replace(POLICY, allow_unnoised_benchmarks=False)
    (reason,) = refusals(_campaign(), policy, ME, [])
    assert "campaign 'bench' releases without noise" in reason and "'benchmark'" in reason


def test_a_noised_benchmark_is_accepted_when_unnoised_ones_are_forbidden() -> None:
    policy = replace(POLICY, allow_unnoised_benchmarks=False)
    assert refusals(_campaign(epsilon=1.0), policy, ME, []) == []


def test_an_unnoised_supply_chain_campaign_is_not_a_benchmark() -> None:
    policy = replace(POLICY, allow_unnoised_benchmarks=False)
    chain = _campaign(kind=CampaignKind.SUPPLY_CHAIN, buyer_id="buyer")
    assert refusals(chain, policy, ME, []) == []


def test_every_reason_is_listed_at_once() -> None:
    policy = Policy(kinds=("supply_chain",), min_contributors=9, allow_unnoised_benchmarks=False)
    reasons = refusals(_campaign().with_state(CampaignState.FAILED), policy, "trustee-1", [])
    assert len(reasons) == 6


# -- privacy budget -----------------------------------------------------------------------


def test_a_single_campaign_over_the_budget_is_declined() -> None:
    (reason,) = refusals(_campaign(epsilon=11.0), POLICY, ME, [])
    assert "campaign 'bench' asks for epsilon=11.0" in reason and f"period '{PERIOD}'" in reason
    assert "only epsilon=10.0, delta=1e-06 remain" in reason


def test_spending_accumulates_across_campaigns_of_the_same_period() -> None:
    spent = [_spend("first", 4.0), _spend("second", 4.0)]
    (reason,) = refusals(_campaign("third", epsilon=3.0), POLICY, ME, spent)
    assert "campaign 'third' asks for epsilon=3.0" in reason
    assert "only epsilon=2.0, delta=1e-06 remain" in reason


def test_spending_up_to_the_budget_exactly_is_allowed() -> None:
    spent = [_spend("first", 4.0), _spend("second", 4.0)]
    assert refusals(_campaign("third", epsilon=2.0), POLICY, ME, spent) == []


def test_spending_in_another_period_does_not_count() -> None:
    spent = [_spend("last-year", 10.0, period="2023-01-01..2023-12-31")]
    assert refusals(_campaign(epsilon=5.0), POLICY, ME, spent) == []


def test_a_campaigns_own_past_spend_is_not_counted_twice() -> None:
    # The agent answers the same campaign again (e.g. a retried submission).
    spent = [_spend("bench", 6.0)]
    assert refusals(_campaign("bench", epsilon=6.0), POLICY, ME, spent) == []


def test_delta_accumulates_across_campaigns_too() -> None:
    spent = [_spend("first", 1.0, delta=6e-7)]
    (reason,) = refusals(_campaign("second", epsilon=1.0, delta=6e-7), POLICY, ME, spent)
    assert "only epsilon=9.0, delta=4e-07 remain" in reason


def test_an_unnoised_campaign_spends_no_budget() -> None:
    spent = [_spend("first", 10.0)]
    assert refusals(_campaign("second"), POLICY, ME, spent) == []


def test_the_budget_period_is_the_campaigns_period() -> None:
    campaign = _campaign(period_start=date(2025, 4, 1), period_end=date(2026, 3, 31))
    assert period_label(campaign) == "2025-04-01..2026-03-31"


def test_a_campaign_with_delta_but_no_epsilon_is_declined_not_raised() -> None:
    # new_campaign refuses such terms; a campaign arriving over the wire may still carry them
    reasons = refusals(replace(_campaign(epsilon=0.0), delta=1e-7), POLICY, ME, [])
    assert len(reasons) == 1 and "delta" in reasons[0]


def test_a_retried_campaign_with_changed_terms_is_declined() -> None:
    spent = [_spend("bench", 2.0)]
    (reason,) = refusals(_campaign("bench", epsilon=3.0), POLICY, ME, spent)
    assert "campaign 'bench' was recorded with" in reason


def test_a_key_one_trustee_can_use_alone_is_declined_by_default() -> None:
    single = replace(_campaign(), key=shared_key(("trustee-1",), 1, "bench"))
    (reason,) = refusals(single, POLICY, ME, [])
    assert "needs only 1 trustee(s) to decrypt; policy requires at least 2" in reason
    assert refusals(single, replace(POLICY, min_threshold=1), ME, []) == []
