"""The agent's differencing ledger (agent/ledger.py), without a coordinator."""

import json
from datetime import date
from pathlib import Path
from typing import Any

from agent import store
from agent.ledger import Ledger, differencing_refusals, record_joined, unchecked
from fedcarbon.campaign import Campaign, CampaignKind, MetricSpec, new_campaign
from fedcarbon.cohorts import cohort_of
from tests.unit.keys import shared_key

METRIC = MetricSpec("delivered_to_buyer_kgco2e", "kgCO2e", 3, 0, 10**9)


def _chain(campaign_id: str, invited: tuple[str, ...], **changes: Any) -> Campaign:
    terms: dict[str, Any] = {
        "campaign_id": campaign_id,
        "kind": CampaignKind.SUPPLY_CHAIN,
        "title": "Scope 3",
        "period_start": date(2024, 1, 1),
        "period_end": date(2024, 12, 31),
        "metrics": (METRIC,),
        "key": shared_key(("trustee-1", "trustee-2", "trustee-3"), 2, campaign_id),
        "buyer_id": "buyer",
        "invited": invited,
    }
    terms.update(changes)
    return new_campaign(**terms)


def _ledger(tmp_path: Path, *joined: Campaign) -> Ledger:
    engine = store.open_store(f"sqlite:///{tmp_path / 'agent.sqlite'}")
    for campaign in joined:
        record_joined(engine, campaign)
    return Ledger(tuple(store.exact_campaigns(engine)), ())


def test_a_campaign_still_open_counts_with_its_invitation_list(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, _chain("a", ("s1", "s2", "s3")))
    (reason,) = differencing_refusals(_chain("b", ("s1", "s2", "s3", "victim")), ledger, 3)
    assert "campaign 'a'" in reason and "by 1 member(s)" in reason


def test_a_published_cohort_replaces_the_invitation_list(tmp_path: Path) -> None:
    first = _chain("a", ("s1", "s2", "s3", "s4", "s5", "s6"))
    engine = store.open_store(f"sqlite:///{tmp_path / 'agent.sqlite'}")
    record_joined(engine, first)
    published = cohort_of(first, ("s1", "s2", "s3"))  # only three of six took part
    ledger = Ledger(tuple(store.exact_campaigns(engine)), (published,))
    assert differencing_refusals(_chain("b", ("s1", "s2", "s3", "victim")), ledger, 3)


def test_the_ledger_is_filled_but_never_rewritten(tmp_path: Path) -> None:
    engine = store.open_store(f"sqlite:///{tmp_path / 'agent.sqlite'}")
    record_joined(engine, _chain("a", ("s1", "s2", "s3")))
    (row,) = store.exact_campaigns(engine)
    store.record_exact_campaign(engine, row.model_copy(update={"cohort_json": '["s1"]'}))
    store.record_exact_campaign(engine, row.model_copy(update={"cohort_json": '["s9"]'}))
    (row,) = store.exact_campaigns(engine)
    assert json.loads(row.invited_json) == ["s1", "s2", "s3"] and row.cohort_json == '["s1"]'


def test_the_buyer_is_not_counted_in_the_cohort(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, _chain("a", ("s1", "s2", "s3", "buyer")))
    assert differencing_refusals(_chain("b", ("s1", "s2", "s3")), ledger, 3) == []


def test_noised_campaigns_are_neither_recorded_nor_checked(tmp_path: Path) -> None:
    noised = _chain("a", ("s1", "s2", "s3"), epsilon=1.0)
    ledger = _ledger(tmp_path, noised)
    assert ledger.joined == ()
    later = _chain("b", ("s1", "s2", "s3", "victim"), epsilon=1.0)
    assert differencing_refusals(later, _ledger(tmp_path, _chain("c", ("s1", "s2", "s3"))), 3) == []


def test_a_campaign_without_invitations_is_left_to_the_trustees(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, _chain("a", ("s1", "s2", "s3")))
    open_to_all = _chain("b", ())
    assert unchecked(open_to_all) and differencing_refusals(open_to_all, ledger, 3) == []


def test_the_agents_own_minimum_k_applies_when_larger(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, _chain("a", ("s1", "s2", "s3")))
    wider = _chain("b", ("s1", "s2", "s3", "s4", "s5", "s6"))
    assert differencing_refusals(wider, ledger, 3) == []
    assert differencing_refusals(wider, ledger, 4)
