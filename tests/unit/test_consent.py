"""What a consent listing says a campaign asks for."""

from datetime import date

from agent.consent import asks
from fedcarbon.campaign import CampaignKind, new_campaign
from fedcarbon.metrics import base_spec, distribution_specs, supply_chain_specs
from tests.unit.keys import shared_key


def test_a_request_is_described_by_its_figures_with_derived_slots_grouped() -> None:
    campaign = new_campaign(
        campaign_id="sc-2024",
        kind=CampaignKind.SUPPLY_CHAIN,
        title="t",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        metrics=(
            base_spec("participants"),
            *supply_chain_specs(["modules=1"]),
            *distribution_specs("scope1_kgco2e:0:1000000"),
        ),
        key=shared_key(("a", "b", "c"), 2, "sc-2024"),
        buyer_id="oem-1",
    )
    assert asks(campaign) == (
        "supply_chain for buyer oem-1: participants, delivered_to_buyer_kgco2e (by product), "
        "scope1_kgco2e (distribution)"
    )
