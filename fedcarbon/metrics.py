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
from dataclasses import dataclass, replace
from decimal import Decimal

from fedcarbon.accounting.engine import Footprint
from fedcarbon.accounting.errors import AccountingError
from fedcarbon.accounting.pcf import CRADLE_TO_GATE_SCOPE3, emissions_for_customer
from fedcarbon.accounting.units import conversion_factor
from fedcarbon.campaign import Campaign, MetricSpec
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.distribution import (
    Derived,
    Histogram,
    SlotSpec,
    derived_value,
    distribution_slots,
    primary_slot,
    product_slot,
)
from fedcarbon.distribution import parse as parse_derived
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
    # Ratio metrics: the numerator and denominator whose sums give the pooled ratio.
    ratio: tuple["MetricDefinition", "MetricDefinition"] | None = None
    # Benchmarks mark the best quartile at the low end for emissions (less is better).
    lower_is_better: bool = True


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


_INTENSITY_NUMERATOR = MetricDefinition(
    "intensity_kgco2e_per_t:num",
    "kg CO2e",
    "Scope 1 + 2 (market): numerator of the pooled intensity",
    lambda f, c, b: f.scope1_kgco2e + f.scope2_market_kgco2e,
    3,
    1e12,
)
_INTENSITY_DENOMINATOR = MetricDefinition(
    "intensity_kgco2e_per_t:den",
    "t",
    "production output: denominator of the pooled intensity",
    lambda f, c, b: output_tonnes(f),
    3,
    1e9,
)


def _delivered(footprint: Footprint, campaign: Campaign, buyer: str) -> float:
    if not buyer:
        raise MetricError("delivered_to_buyer_kgco2e: the campaign names no buyer")
    return float(emissions_for_customer(footprint, buyer))


CATALOGUE: dict[str, MetricDefinition] = {
    definition.name: definition
    for definition in (
        MetricDefinition(
            "participants",
            "1",
            "1 per contributor: the released count",
            lambda f, c, b: 1.0,
            0,
            1,
            lower_is_better=False,
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
            ratio=(_INTENSITY_NUMERATOR, _INTENSITY_DENOMINATOR),
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
    base_values: dict[str, Decimal] = {}

    def base(name: str) -> Decimal:
        if name not in base_values:
            value = float(definition(name).compute(footprint, campaign, buyer))
            base_values[name] = Decimal(repr(value))
        return base_values[name]

    for metric in campaign.metrics:
        derived = parse_derived(metric.name)
        if derived is None:
            values[metric.name] = base(metric.name)
        elif derived.role in ("num", "den"):
            values[metric.name] = _ratio_part(derived, footprint, campaign, buyer)
        elif derived.role == "product":
            values[metric.name] = _delivered_product(footprint, buyer, derived)
        elif derived.role == "primary":
            values[metric.name] = base(derived.base) * Decimal(repr(primary_share(footprint)))
        else:
            # The base value is rounded to its own slot's scale first, so that x^2 and the bin
            # describe exactly the x that is summed.
            values[metric.name] = derived_value(derived, _as_summed(campaign, derived, base))
    return values


def primary_share(footprint: Footprint) -> float:
    """Share of the cradle-to-gate pool (Scope 1, 2 market, Scope 3 cat 1, 3, 4, 5) that comes
    from primary data: the emission-weighted share PACT calls ``primaryDataShare``."""
    keys = [k for k in footprint.by_category if _in_cradle_to_gate(k)]
    total = sum(footprint.by_category[k] for k in keys)
    primary = sum(footprint.primary_by_category.get(k, 0.0) for k in keys)
    return min(1.0, max(0.0, primary / total)) if total > 0 else 0.0


def _in_cradle_to_gate(key: str) -> bool:
    scope, _, category = key.partition(".")
    if scope in ("scope1", "scope2"):
        return True
    return scope == "scope3" and category in {f"cat{n}" for n in CRADLE_TO_GATE_SCOPE3}


def _delivered_product(footprint: Footprint, buyer: str, derived: Derived) -> Decimal:
    if derived.base != "delivered_to_buyer_kgco2e":
        raise MetricError("a product breakdown is only defined for delivered_to_buyer_kgco2e")
    if not buyer:
        raise MetricError("delivered_to_buyer_kgco2e: the campaign names no buyer")
    value = emissions_for_customer(footprint, buyer, product=derived.product)
    return Decimal(repr(float(value)))


def supply_chain_specs(products: list[str]) -> tuple[MetricSpec, ...]:
    """The buyer's request: delivered emissions, their primary-data part, and one slot per
    product (``PRODUCT`` or ``PRODUCT=CATEGORY``, the buyer's Scope 3 category, default 1)."""
    base = _default(definition("delivered_to_buyer_kgco2e"))
    slots = [primary_slot(_slot(base))]
    for text in products:
        product, sep, category = text.partition("=")
        try:
            number = int(category) if sep else 1
        except ValueError:
            raise MetricError(f"--product {text!r}: the category must be a number 1..15") from None
        slots.append(product_slot(_slot(base), product, number))
    names = [s.name for s in slots]
    if len(set(names)) != len(names):
        raise MetricError(f"--product: a product is named twice ({', '.join(products)})")
    return (
        base,
        *(MetricSpec(s.name, s.unit, s.scale, s.min, s.max, s.description) for s in slots),
    )


def _ratio_part(derived: Derived, footprint: Footprint, campaign: Campaign, buyer: str) -> Decimal:
    ratio = definition(derived.base).ratio
    if ratio is None:
        raise MetricError(f"metric {derived.base!r} is not a ratio; it has no {derived.role}")
    part = ratio[0] if derived.role == "num" else ratio[1]
    return Decimal(repr(float(part.compute(footprint, campaign, buyer))))


def _as_summed(campaign: Campaign, derived: Derived, base: Callable[[str], Decimal]) -> Decimal:
    for metric in campaign.metrics:
        if metric.name == derived.base:
            return Decimal(to_fixed(base(derived.base), metric.scale)).scaleb(-metric.scale)
    return base(derived.base)


def base_spec(text: str) -> MetricSpec:
    """NAME or NAME:MIN:MAX (bounds in the metric's unit; tight bounds mean less DP noise)."""
    name, _, bounds = text.partition(":")
    d = definition(name)
    if bounds:
        low, sep, high = bounds.partition(":")
        if not sep:
            raise MetricError(f"metric {text!r}: expected NAME or NAME:MIN:MAX")
        return MetricSpec(
            d.name,
            d.unit,
            d.default_scale,
            to_fixed(low, d.default_scale, name=name),
            to_fixed(high, d.default_scale, name=name),
            d.description,
        )
    return MetricSpec(
        d.name, d.unit, d.default_scale, 0, to_fixed(d.default_max, d.default_scale), d.description
    )


def distribution_specs(text: str, *, histogram: Histogram | None = None) -> tuple[MetricSpec, ...]:
    """The base metric and every derived slot a benchmark of its distribution needs.

    ``text`` is NAME, NAME:MIN:MAX as for ``--metric``, or for a ratio metric
    NAME:MIN:MAX:NUM_MAX:DEN_MAX, bounding one member's numerator and denominator too (with
    differential privacy those bounds are the sensitivity, so set them tight). The histogram
    defaults to 4 log-spaced bins per decade over six decades below MAX (fedcarbon.distribution).
    """
    parts = text.split(":")
    if len(parts) not in (1, 3, 5):
        raise MetricError(
            f"--distribution {text!r}: expected NAME, NAME:MIN:MAX or NAME:MIN:MAX:NUM_MAX:DEN_MAX"
        )
    spec = base_spec(":".join(parts[:3]))
    d = definition(spec.name)
    if spec.name == "participants":
        raise MetricError("participants is a count; it has no distribution")
    ratio = None
    if d.ratio is not None:
        numerator, denominator = (_default(part) for part in d.ratio)
        if len(parts) == 5:
            numerator = replace(numerator, max=to_fixed(parts[3], numerator.scale, name=text))
            denominator = replace(denominator, max=to_fixed(parts[4], denominator.scale, name=text))
        ratio = (_slot(numerator), _slot(denominator))
    elif len(parts) == 5:
        raise MetricError(f"--distribution {text!r}: {spec.name} is not a ratio metric")
    derived = distribution_slots(_slot(spec), histogram=histogram, ratio=ratio)
    return (
        spec,
        *(MetricSpec(s.name, s.unit, s.scale, s.min, s.max, s.description) for s in derived),
    )


def _default(d: MetricDefinition) -> MetricSpec:
    return MetricSpec(
        d.name, d.unit, d.default_scale, 0, to_fixed(d.default_max, d.default_scale), d.description
    )


def _slot(spec: MetricSpec) -> SlotSpec:
    return SlotSpec(spec.name, spec.unit, spec.scale, spec.min, spec.max, spec.description)
