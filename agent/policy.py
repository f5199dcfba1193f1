"""The agent's local policy: checked against every campaign before anything is computed."""

from collections.abc import Sequence
from datetime import UTC, datetime

from agent.config import Policy
from agent.store import BudgetSpend
from fedcarbon.campaign import Campaign, CampaignState
from fedcarbon.federation.manifest import Manifest, min_organisations_among
from fedcarbon.privacy.budget import BudgetLedger, BudgetPolicy, LedgerEntry, PrivacyBudget
from fedcarbon.privacy.errors import PrivacyError


def period_label(campaign: Campaign) -> str:
    """Privacy budgets are per reporting period: the campaign's period is the key."""
    return f"{campaign.period_start.isoformat()}..{campaign.period_end.isoformat()}"


def ledger_for(policy: Policy, period: str, spent: list[BudgetSpend]) -> BudgetLedger:
    """This agent's privacy ledger for one period, from what it already contributed to.

    Supply-chain totals are never noised (a buyer needs the exact figure) and are accepted
    as such; un-noised benchmarks only where the policy allows them (docs/privacy-accounting.md).
    """
    unnoised = {"supply_chain"} | ({"benchmark"} if policy.allow_unnoised_benchmarks else set())
    entries = [
        LedgerEntry(
            campaign_id=s.campaign_id,
            period=s.period,
            epsilon=s.epsilon or None,
            delta=s.delta,
            spent_at=datetime.fromtimestamp(s.spent_unix_ms / 1000, UTC),
            campaign_kind=s.kind,
        )
        for s in spent
        if s.period == period
    ]
    return BudgetLedger.create(
        [PrivacyBudget(period, policy.epsilon_per_period, policy.delta_per_period)],
        entries,
        BudgetPolicy(frozenset(unnoised)),
    )


def refusals(
    campaign: Campaign, policy: Policy, participant_id: str, spent: list[BudgetSpend]
) -> list[str]:
    """Every reason to decline the campaign; empty means the agent may contribute."""
    reasons = []
    if campaign.state is not CampaignState.OPEN:
        reasons.append(f"campaign is {campaign.state.value}, not open")
    if campaign.kind.value not in policy.kinds:
        reasons.append(f"campaign kind {campaign.kind.value} is not allowed by policy.kinds")
    if campaign.min_contributors < policy.min_contributors:
        reasons.append(
            f"k = {campaign.min_contributors} is below this agent's minimum "
            f"{policy.min_contributors}"
        )
    if campaign.key.bits < policy.min_key_bits:
        reasons.append(
            f"the campaign key has {campaign.key.bits} bits; policy requires {policy.min_key_bits}"
        )
    if campaign.key.threshold < policy.min_threshold:
        reasons.append(
            f"the key needs only {campaign.key.threshold} trustee(s) to decrypt; "
            f"policy requires at least {policy.min_threshold}"
        )
    if not campaign.accepts(participant_id):
        reasons.append("this participant is not invited")
    if participant_id in campaign.key.trustee_ids:
        reasons.append("this participant is one of the campaign's key holders")
    try:
        decision = ledger_for(policy, period_label(campaign), spent).check(
            campaign.campaign_id,
            period_label(campaign),
            campaign.epsilon or None,
            campaign.delta,
            campaign.kind.value,
        )
    except PrivacyError as error:  # malformed privacy terms are a reason to decline, not crash
        reasons.append(f"privacy terms not acceptable: {error}")
    else:
        if not decision.allowed:
            reasons.append(decision.reason)
    return reasons


def manifest_refusals(
    campaign_key_holders: Sequence[tuple[str, bytes]],
    threshold: int,
    manifest: Manifest | None,
    min_threshold: int,
) -> list[str]:
    """Refuse key holders outside the pinned manifest, or t spread over too few organisations.

    ``campaign_key_holders`` are (trustee id, Ed25519 identity key) pairs; the identity key,
    not the id the coordinator shows, decides who a holder is. The organisations counted are
    the manifest trustees' legal ids, so one entity listed under two names counts once: the
    key is refused when fewer than ``min_threshold`` distinct organisations can together
    decrypt it (min_organisations_among). Without a pinned manifest only ``min_threshold =
    1`` (test set-ups) accepts anything.
    """
    if manifest is None:
        if min_threshold <= 1:
            return []
        return [
            "no federation manifest is pinned, so this agent cannot tell who holds the key "
            "(`fedcarbon agent manifest update FILE`, or min_threshold = 1 for tests)"
        ]
    reasons = []
    organisations = []
    seen: set[bytes] = set()
    for trustee_id, identity_key in campaign_key_holders:
        trustee = manifest.trustee_by_key(identity_key)
        if trustee is None:
            reasons.append(
                f"key holder {trustee_id} is not a trustee of the pinned manifest "
                f"{manifest.federation} v{manifest.version} ({manifest.fingerprint[:16]})"
            )
            continue
        if identity_key in seen:
            reasons.append(f"key holder {trustee_id} is listed twice")
            continue
        seen.add(identity_key)
        organisations.append(trustee.legal_id)
    if reasons:
        return reasons
    if not 1 <= threshold <= len(organisations):
        return [f"the key's threshold {threshold} does not fit its {len(organisations)} holders"]
    spread = min_organisations_among(threshold, organisations)
    if spread < min_threshold:
        reasons.append(
            f"{spread} organisation(s) of the manifest can decrypt this key together; "
            f"policy requires at least {min_threshold} distinct organisations"
        )
    return reasons
