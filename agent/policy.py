"""The agent's local policy: checked against every campaign before anything is computed."""

from agent.config import Policy
from agent.store import BudgetSpend
from fedcarbon.campaign import Campaign, CampaignKind, CampaignState


def period_label(campaign: Campaign) -> str:
    """Privacy budgets are per reporting period: the campaign's period is the key."""
    return f"{campaign.period_start.isoformat()}..{campaign.period_end.isoformat()}"


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
    if not campaign.accepts(participant_id):
        reasons.append("this participant is not invited")
    if participant_id in campaign.key.trustee_ids:
        reasons.append("this participant is one of the campaign's key holders")
    unnoised = campaign.kind is CampaignKind.BENCHMARK and campaign.epsilon == 0
    if unnoised and not policy.allow_unnoised_benchmarks:
        reasons.append("benchmark without differential-privacy noise (policy forbids)")
    if campaign.epsilon > 0:
        period = period_label(campaign)
        used = [s for s in spent if s.period == period and s.campaign_id != campaign.campaign_id]
        epsilon = sum(s.epsilon for s in used) + campaign.epsilon
        delta = sum(s.delta for s in used) + campaign.delta
        if epsilon > policy.epsilon_per_period or delta > policy.delta_per_period:
            reasons.append(
                f"privacy budget for {period} would be exceeded: epsilon {epsilon:g} of "
                f"{policy.epsilon_per_period:g}, delta {delta:g} of {policy.delta_per_period:g}"
            )
    return reasons
