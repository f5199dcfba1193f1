"""The agent's differencing guard: no exact campaign that, with another, isolates a member.

The agent compares a campaign it is asked to join with two sets of earlier exact cohorts:
every cohort entry published in the coordinator's log (verified against the signed tree
head, whoever took part), and the exact campaigns this agent itself joined (its ledger,
which also covers campaigns still open, whose cohort is not published yet). The rule is
fedcarbon/cohorts.py: differencing_conflicts.

What the agent can check depends on the campaign. A supply-chain campaign lists its invited
suppliers, so the agent takes that list as the cohort to come. A campaign without an
invitation list has no cohort until it closes: the agent cannot check it in advance, and the
trustees' check before decryption (agent/trustee.py: verify_cohort) is what protects it.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from agent import store
from agent.client import CoordinatorClient
from agent.errors import AgentError
from fedcarbon.audit.errors import AuditError
from fedcarbon.audit.merkle import leaf_hash, root_hash
from fedcarbon.audit.treehead import verify_tree_head
from fedcarbon.campaign import Campaign
from fedcarbon.cohorts import (
    Cohort,
    audience_of,
    cohort_of,
    differencing_conflicts,
    logged_cohorts,
    period_of,
)
from fedcarbon.errors import WireError

UNCHECKED = "cohort not known before it closes: the trustees check it before decrypting"


def verified_entries(client: CoordinatorClient, log_public_key: bytes) -> list[bytes]:
    """Every entry of the coordinator's log, checked against its signed tree head."""
    head = client.tree_head()
    try:
        verify_tree_head(head, log_public_key)
    except AuditError as error:
        raise AgentError(f"the coordinator's tree head does not verify: {error}") from None
    entries: list[bytes] = []
    while len(entries) < head.tree_size:
        page = client.entries(len(entries), min(head.tree_size, len(entries) + 1000))
        if not page:
            break
        entries.extend(page)
    if root_hash([leaf_hash(e) for e in entries]) != head.root_hash:
        raise AgentError("the log entries do not match the coordinator's signed tree head")
    return entries


def published_cohorts(client: CoordinatorClient, log_public_key: bytes) -> list[Cohort]:
    try:
        return logged_cohorts(verified_entries(client, log_public_key))
    except WireError as error:
        raise AgentError(f"the coordinator's log holds a malformed cohort entry: {error}") from None


def _from_row(row: store.ExactCampaign) -> Cohort | None:
    members = json.loads(row.cohort_json) if row.cohort_json is not None else None
    if members is None:
        members = json.loads(row.invited_json) or None
    if members is None:
        return None
    return Cohort(
        campaign_id=row.campaign_id,
        campaign_digest=bytes.fromhex(row.campaign_digest),
        contributors=tuple(sorted(members)),
        metrics=tuple(json.loads(row.metrics_json)),
        period=row.period,
        audience=row.audience,
        epsilon=0.0,
    )


@dataclass(frozen=True)
class Ledger:
    """What the agent compares a new exact campaign with."""

    joined: tuple[store.ExactCampaign, ...]
    published: tuple[Cohort, ...]

    def earlier(self) -> list[Cohort]:
        published = {c.campaign_id for c in self.published}
        own = [_from_row(row) for row in self.joined if row.campaign_id not in published]
        return [*self.published, *(c for c in own if c is not None)]


def load_ledger(engine: Engine, client: CoordinatorClient, log_public_key: bytes) -> Ledger:
    """The agent's joined campaigns, their cohorts filled in from the log where published."""
    published = published_cohorts(client, log_public_key)
    by_id = {c.campaign_id: c for c in published}
    for row in store.exact_campaigns(engine):
        cohort = by_id.get(row.campaign_id)
        if row.cohort_json is None and cohort is not None:
            filled = row.model_copy(update={"cohort_json": json.dumps(list(cohort.contributors))})
            store.record_exact_campaign(engine, filled)
    return Ledger(tuple(store.exact_campaigns(engine)), tuple(published))


def differencing_refusals(
    campaign: Campaign,
    ledger: Ledger,
    min_contributors: int,
    entity_of: Callable[[str], str] = lambda participant_id: participant_id,
) -> list[str]:
    """Reasons to decline an exact campaign that would isolate members; empty otherwise."""
    if campaign.epsilon != 0 or not campaign.invited:
        return []
    invited = [p for p in campaign.invited if p != campaign.buyer_id]
    candidate = cohort_of(campaign, invited)
    k = max(campaign.min_contributors, min_contributors)
    return differencing_conflicts(candidate, ledger.earlier(), k, entity_of)


def unchecked(campaign: Campaign) -> bool:
    """An exact campaign whose cohort only the trustees can check (no invitation list)."""
    return campaign.epsilon == 0 and not campaign.invited


def record_joined(engine: Engine, campaign: Campaign) -> None:
    """Note an exact campaign in the ledger before contributing to it."""
    if campaign.epsilon != 0:
        return
    store.record_exact_campaign(
        engine,
        store.ExactCampaign(
            campaign_id=campaign.campaign_id,
            campaign_digest=campaign.digest.hex(),
            metrics_json=json.dumps([m.name for m in campaign.metrics]),
            period=period_of(campaign),
            audience=audience_of(campaign),
            invited_json=json.dumps(sorted(p for p in campaign.invited if p != campaign.buyer_id)),
            joined_unix_ms=int(time.time() * 1000),
        ),
    )
