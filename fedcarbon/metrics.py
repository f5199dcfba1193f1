"""The metric catalogue: named figures an agent can derive from its footprint for a campaign.

Campaign schemas may only name metrics from this catalogue, so every agent computes a
metric the same way. Each metric is a pure function of the participant's footprint and the
campaign (the buyer, for supply-chain allocation).

Definitions (GHG Protocol Corporate Standard ch. 4 for scopes; intensity ratios per ch. 9
"Reporting GHG emissions", optional ratio indicators):
- ``total_kgco2e`` = Scope 1 + Scope 2 (market-based) + Scope 3, the market-based total.
- ``intensity_kgco2e_per_t`` = (Scope 1 + Scope 2 market-based) / production output in
  tonnes: the physical intensity ratio used for sector benchmarks.
- ``delivered_to_buyer_kgco2e``: the supplier's cradle-to-gate emissions allocated to what it
  delivered to the campaign's buyer (fedcarbon.accounting.pcf.emissions_for_customer); summed
  over suppliers it is the buyer's Scope 3 category 1 for those suppliers (Scope 3 Standard,
  ch. 5, category 1, supplier-specific method).
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from fedcarbon.accounting.engine import Footprint
from fedcarbon.accounting.errors import AccountingError
from fedcarbon.accounting.pcf import emissions_for_customer
from fedcarbon.accounting.units import conversion_factor
from fedcarbon.campaign import Campaign
from fedcarbon.errors import MetricError


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    name: str
    unit: str
    description: str
    compute: Callable[[Footprint, Campaign, str], float]
    # Suggested fixed-point scale and bounds for a new campaign (operators may narrow them).
    default_scale: int
    default_max: float


def output_tonnes(footprint: Footprint) -> float:
    """Production output in tonnes; refuses outputs that are not masses, naming the record."""
    total = 0.0
    for line in footprint.outputs:
        try:
            total += line.quantity * conversion_factor(line.unit, "t")
        except AccountingError as error:
            raise MetricError(
                f"output record {line.record_id!r}: {line.unit!r} is not a mass, so it cannot "
                f"count towards output in tonnes ({error})"
            ) from None
    return total


def _intensity(footprint: Footprint, _: Campaign, __: str) -> float:
    tonnes = output_tonnes(footprint)
    if tonnes <= 0:
        raise MetricError("intensity_kgco2e_per_t: the activity data records no output (output.*)")
    return (footprint.scope1_kgco2e + footprint.scope2_market_kgco2e) / tonnes


def _delivered(footprint: Footprint, campaign: Campaign, buyer: str) -> float:
    if not buyer:
        raise MetricError("delivered_to_buyer_kgco2e: the campaign names no buyer")
    return float(emissions_for_customer(footprint, buyer))


CATALOGUE: dict[str, MetricDefinition] = {
    definition.name: definition
    for definition in (
        MetricDefinition(
            "participants", "1", "1 per contributor: the released count", lambda f, c, b: 1.0, 0, 1
        ),
        MetricDefinition(
            "scope1_kgco2e", "kg CO2e", "Scope 1", lambda f, c, b: f.scope1_kgco2e, 3, 1e12
        ),
        MetricDefinition(
            "scope2_location_kgco2e",
            "kg CO2e",
            "Scope 2, location-based",
            lambda f, c, b: f.scope2_location_kgco2e,
            3,
            1e12,
        ),
        MetricDefinition(
            "scope2_market_kgco2e",
            "kg CO2e",
            "Scope 2, market-based",
            lambda f, c, b: f.scope2_market_kgco2e,
            3,
            1e12,
        ),
        MetricDefinition(
            "scope3_kgco2e", "kg CO2e", "Scope 3", lambda f, c, b: f.scope3_kgco2e, 3, 1e12
        ),
        MetricDefinition(
            "total_kgco2e",
            "kg CO2e",
            "Scope 1 + 2 (market) + 3",
            lambda f, c, b: f.scope1_kgco2e + f.scope2_market_kgco2e + f.scope3_kgco2e,
            3,
            1e12,
        ),
        MetricDefinition(
            "output_t", "t", "production output", lambda f, c, b: output_tonnes(f), 3, 1e9
        ),
        MetricDefinition(
            "intensity_kgco2e_per_t",
            "kg CO2e/t",
            "(Scope 1 + 2 market) per tonne of output",
            _intensity,
            3,
            1e7,
        ),
        MetricDefinition(
            "delivered_to_buyer_kgco2e",
            "kg CO2e",
            "cradle-to-gate emissions allocated to deliveries to the buyer",
            _delivered,
            3,
            1e12,
        ),
    )
}


def definition(name: str) -> MetricDefinition:
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise MetricError(f"unknown metric {name!r}; known metrics: {known}") from None


def metric_values(
    footprint: Footprint, campaign: Campaign, *, buyer_name: str | None = None
) -> dict[str, Decimal]:
    """Every metric the campaign asks for, as exact decimals in the metric's unit.

    ``buyer_name`` is how the campaign's buyer appears as ``customer`` in this participant's
    activity data (its ERP's customer name); by default the buyer's participant id.
    """
    buyer = buyer_name or campaign.buyer_id
    values: dict[str, Decimal] = {}
    for metric in campaign.metrics:
        value = float(definition(metric.name).compute(footprint, campaign, buyer))
        values[metric.name] = Decimal(repr(value))
    return values
