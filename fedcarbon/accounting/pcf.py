"""Product carbon footprints: a site's cradle-to-gate emissions allocated to the products it made.

A site that makes several products (joint production) must share its emissions among them.
ISO 14067:2018, 6.4.6 "Allocation", and the GHG Protocol Product Life Cycle Accounting and
Reporting Standard (2011), ch. 8 "Allocation", set the order: avoid allocation where the
process can be split; otherwise partition by an underlying physical relationship (mass,
energy content, volume...); only where no physical relationship applies, by another one,
usually economic value. This module offers the three partitions, each a proportional share of
one emission pool:

* ``mass``: in proportion to the kg of each output (outputs counted in pieces or litres need
  a mass per declared unit);
* ``physical``: in proportion to a named physical quantity per output, either given per
  declared unit (``physical={"A": 42.0}``, ``physical_quantity="MJ lower heating value"``) or,
  by default, the outputs' own quantities when they share one dimension (all MJ, all m3);
* ``economic``: in proportion to revenue, quantity x price per declared unit.

The pool is **cradle-to-gate** (raw material extraction up to the product leaving the site's
gate, the boundary PACT asks for): Scope 1, Scope 2 market-based (GHG Protocol Scope 2
Guidance: the figure reflecting the electricity actually bought) and the upstream Scope 3
categories attributable to making the product (Scope 3 Standard, Table 5.3 numbering):

* 1 purchased goods and services (raw materials, parts, packaging inputs),
* 3 fuel- and energy-related activities (upstream of fuels and electricity, T&D losses),
* 4 upstream transportation and distribution (inbound logistics; the Scope 3 Standard also
  puts outbound deliveries the company pays for here, which lie beyond the gate: record
  those as category 9 to keep them out),
* 5 waste generated in operations (PACT Methodology 3.3.2.2 keeps waste treatment inside the
  cradle-to-gate boundary).

Left out by default, as the Product Standard (ch. 7, "non-attributable processes") allows:
2 capital goods, 6 business travel, 7 employee commuting, 8 upstream leased assets; and every
downstream category 9-15 (beyond the gate). ``scope3_categories`` changes the set.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from fedcarbon.accounting.errors import AccountingError
from fedcarbon.accounting.units import conversion_factor, parse_unit

if TYPE_CHECKING:
    from fedcarbon.accounting.engine import Footprint, OutputLine
    from fedcarbon.accounting.factors import EmissionFactor, FactorCatalog

ALLOCATION_METHODS: tuple[str, ...] = ("mass", "physical", "economic")
CRADLE_TO_GATE_SCOPE3: tuple[int, ...] = (1, 3, 4, 5)
"""Scope 3 categories inside the cradle-to-gate boundary (see the module docstring)."""

_CITATION = "ISO 14067:2018 6.4.6; GHG Protocol Product Standard ch. 8"  # shown in exported PCFs


class AllocationError(AccountingError):
    """A footprint that cannot be allocated to products, naming the output record or product."""


@dataclass(frozen=True)
class ProductCarbonFootprint:
    """The cradle-to-gate carbon footprint of one product made in the reporting period.

    Per-unit values are kg per one ``declared_unit`` (a PACT declared unit of measurement:
    ``kilogram``, ``liter``, ``cubic meter``, ``kilowatt hour``, ``megajoule``,
    ``ton kilometer``, ``square meter``, ``piece``, ``hour``); ``product_amount`` is how many
    declared units were made, so ``pcf_excluding_biogenic * product_amount`` is the product's
    share ``allocated_kgco2e`` of the site's cradle-to-gate emissions. ``primary_data_share``
    is a fraction 0..1 of the cradle-to-gate CO2e (PACT exports it as a percentage).
    ``biogenic_co2_kg_per_unit`` is biogenic CO2 *emitted* (reported outside the scopes);
    ``biogenic_co2_uptake_kg_per_unit`` (<= 0) is the CO2 taken up by biomass in the product
    (PACT ``biogenicCO2Uptake``), None when not assessed, which allocation cannot know.
    """

    product_id: str
    product_name: str
    declared_unit: str
    product_amount: float
    pcf_excluding_biogenic: float
    pcf_including_biogenic: float | None
    fossil_ghg_kgco2e_per_unit: float
    biogenic_co2_kg_per_unit: float
    primary_data_share: float
    period_start: date | None
    period_end: date | None
    geography: str
    allocation_method: str
    gwp: str
    allocated_kgco2e: float
    allocation_share: float
    mass_kg_per_unit: float | None = None
    allocation_description: str = ""
    boundary_description: str = ""
    secondary_sources: tuple[tuple[str, str], ...] = ()
    biogenic_co2_uptake_kg_per_unit: float | None = None
    dqr: tuple[float, float, float] | None = None
    """Emissions-weighted data quality ratings of the in-boundary records that have them."""
    dqr_coverage: float = 0.0
    """Share 0..1 of the cradle-to-gate emissions behind ``dqr``."""
    exempted_percent: float = 0.0
    """Estimated share (%) of the cradle-to-gate emissions left out (``Exemption``)."""
    exempted_description: str = ""


# -- declared units ---------------------------------------------------------------------------

_DECLARED_UNITS: tuple[tuple[str, str], ...] = (
    ("kilogram", "kg"),
    ("liter", "L"),
    ("kilowatt hour", "kWh"),
    ("square meter", "m**2"),
    ("ton kilometer", "tonne*km"),
    ("piece", "piece"),
    ("hour", "hour"),
)
"""PACT declared units and the pint unit each stands for, tried in this order by dimension."""


def declared_unit(unit: str) -> tuple[str, float]:
    """The PACT declared unit for an output's unit, and how many of it one ``unit`` is.

    Volumes in m3 stay ``cubic meter``, energies in J/MJ/GJ become ``megajoule`` (else
    ``kilowatt hour``), so the exported unit reads like the input.

    Raises:
        UnitError: the unit cannot be parsed.
        AllocationError: no PACT declared unit has this dimension (e.g. money).
    """
    parsed = parse_unit(unit)
    dimensionality = parsed.dimensionality
    for name, pint_unit in _DECLARED_UNITS:
        if parse_unit(pint_unit).dimensionality != dimensionality:
            continue
        if name == "liter" and parsed == parse_unit("m**3"):
            return "cubic meter", 1.0
        if name == "kilowatt hour" and ("J" in unit or "joule" in unit):
            return "megajoule", conversion_factor(unit, "MJ")
        return name, conversion_factor(unit, pint_unit)
    raise AllocationError(
        f"unit {unit!r} ({dimensionality}) matches no PACT declared unit "
        f"({', '.join(n for n, _ in _DECLARED_UNITS)}, cubic meter, megajoule)"
    )


# -- the emission pool ------------------------------------------------------------------------


def cradle_to_gate_kgco2e(
    footprint: Footprint, scope3_categories: Iterable[int] = CRADLE_TO_GATE_SCOPE3
) -> float:
    """Scope 1 + Scope 2 market-based + the given upstream Scope 3 categories, in kg CO2e."""
    scope3 = sum(footprint.by_category.get(f"scope3.cat{n}", 0.0) for n in scope3_categories)
    return footprint.scope1_kgco2e + footprint.scope2_market_kgco2e + scope3


def _in_boundary(scope: str, category: str, scope3: frozenset[str]) -> bool:
    return scope in ("1", "2") or (scope == "3" and category in scope3)


@dataclass(frozen=True)
class _Boundary:
    """What the per-record results say about the cradle-to-gate part of a footprint."""

    primary_data_share: float
    biogenic_co2_kg: float
    secondary_sources: tuple[tuple[str, str], ...]
    dqr: tuple[float, float, float] | None = None
    dqr_coverage: float = 0.0
    uptake_kg: float | None = None  # None: no input had its biogenic uptake assessed


def _boundary(footprint: Footprint, scope3_categories: Iterable[int]) -> _Boundary:
    """Primary data share, DQRs, biogenic CO2 and uptake, secondary datasets of the boundary.

    The primary data share is weighted by emissions, each record counting with its own
    share: 1 for measured data, the supplier's ``primaryDataShare`` for a purchase priced
    with the supplier's PCF (PACT Methodology v3, 4.2.2), 0 otherwise. DQRs are the
    emissions-weighted mean over the records that have ratings, with the share they cover.
    Without per-record results (a footprint built by hand) the site-wide figures are used.
    """
    scope3 = frozenset(f"scope3.cat{n}" for n in scope3_categories)
    total = primary = biogenic = rated = uptake = 0.0
    weighted = [0.0, 0.0, 0.0]
    seen = assessed = False
    sources: dict[tuple[str, str], None] = {}
    for result in footprint.records:
        if not _in_boundary(result.scope, result.category, scope3):
            continue
        seen = True
        counted = (result.co2e_market_kg if result.scope == "2" else result.co2e_kg) or 0.0
        total += counted
        biogenic += result.biogenic_co2_kg
        primary += counted * result.primary_share
        if result.primary_share < 1.0 and result.factor is not None:
            sources[(result.factor.dataset, result.factor.dataset_version)] = None
        if result.dqr is not None and counted > 0:
            rated += counted
            for k in range(3):
                weighted[k] += counted * result.dqr[k]
        if result.factor is not None and result.factor.biogenic_uptake != 0.0:
            assessed = True
            uptake += result.biogenic_uptake_kg
    share = primary / total if total > 0 else footprint.primary_data_share
    dqr = (weighted[0] / rated, weighted[1] / rated, weighted[2] / rated) if rated > 0 else None
    return _Boundary(
        primary_data_share=min(1.0, max(0.0, share)),
        biogenic_co2_kg=biogenic if seen else footprint.biogenic_co2_kg,
        secondary_sources=tuple(sources),
        dqr=dqr,
        dqr_coverage=min(1.0, rated / total) if total > 0 else 0.0,
        uptake_kg=uptake if assessed else None,
    )


# -- allocation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    output: OutputLine
    declared_unit: str
    amount: float  # in declared units
    basis: float


def _lines(
    outputs: Sequence[OutputLine],
    method: str,
    prices: Mapping[str, float] | None,
    physical: Mapping[str, float] | None,
    masses: Mapping[str, float] | None,
) -> list[_Line]:
    if method not in ALLOCATION_METHODS:
        raise AllocationError(
            f"unknown allocation method {method!r} (choose {', '.join(ALLOCATION_METHODS)})"
        )
    if not outputs:
        raise AllocationError(
            "the footprint has no production output (output.<product> records) to allocate to"
        )
    if method == "economic" and not prices:
        raise AllocationError("economic allocation needs a price per product")
    units: dict[str, str] = {}
    lines: list[_Line] = []
    common_unit = outputs[0].unit
    for out in outputs:
        if not math.isfinite(out.quantity) or out.quantity < 0:
            raise AllocationError(
                f"output quantity {out.quantity!r} must be >= 0", record_id=out.record_id
            )
        unit_name, per_unit = declared_unit(out.unit)
        if units.setdefault(out.product, unit_name) != unit_name:
            raise AllocationError(
                f"product {out.product!r} is counted in {units[out.product]!r} elsewhere but "
                f"in {out.unit!r} here",
                record_id=out.record_id,
            )
        amount = out.quantity * per_unit
        lines.append(
            _Line(
                out,
                unit_name,
                amount,
                _basis(out, unit_name, amount, method, common_unit, prices, physical, masses),
            )
        )
    total = sum(line.basis for line in lines)
    if not total > 0:
        raise AllocationError(f"the {method} allocation basis of all outputs adds up to zero")
    return lines


def _per_product(table: Mapping[str, float] | None, out: OutputLine, what: str) -> float:
    if table is None or out.product not in table:
        raise AllocationError(f"no {what} for product {out.product!r}", record_id=out.record_id)
    value = float(table[out.product])
    if not math.isfinite(value) or value < 0:
        raise AllocationError(
            f"{what} {value!r} for product {out.product!r} must be >= 0", record_id=out.record_id
        )
    return value


def _basis(
    out: OutputLine,
    unit_name: str,
    amount: float,
    method: str,
    common_unit: str,
    prices: Mapping[str, float] | None,
    physical: Mapping[str, float] | None,
    masses: Mapping[str, float] | None,
) -> float:
    if method == "economic":
        return amount * _per_product(prices, out, "price per declared unit")
    if method == "physical":
        if physical is not None:
            return amount * _per_product(physical, out, "physical quantity per declared unit")
        if parse_unit(out.unit).dimensionality != parse_unit(common_unit).dimensionality:
            raise AllocationError(
                f"physical allocation by output quantity needs outputs of one dimension; "
                f"{out.unit!r} does not convert to {common_unit!r} (give physical=...)",
                record_id=out.record_id,
            )
        return out.quantity * conversion_factor(out.unit, common_unit)
    if unit_name == "kilogram":
        return amount
    if masses is not None and out.product in masses:
        return amount * _per_product(masses, out, "mass (kg) per declared unit")
    raise AllocationError(
        f"mass allocation needs the mass of product {out.product!r} counted in {out.unit!r}: "
        "give its kg per declared unit (masses=..., --mass PRODUCT=KG)",
        record_id=out.record_id,
    )


def _describe(method: str, physical_quantity: str | None) -> str:
    if method == "mass":
        how = "in proportion to the mass (kg) of each output"
    elif method == "physical":
        how = f"in proportion to {physical_quantity or 'the outputs quantities'} (physical)"
    else:
        how = "in proportion to revenue (price x quantity; economic)"
    return f"{method} allocation of the site's cradle-to-gate emissions {how} ({_CITATION})"


def _boundary_text(scope3_categories: Sequence[int]) -> str:
    cats = ", ".join(str(n) for n in scope3_categories) or "none"
    return (
        "cradle-to-gate: Scope 1, Scope 2 (market-based) and Scope 3 categories "
        f"{cats} of the producing site"
    )


def allocate_products(
    footprint: Footprint,
    *,
    method: str = "mass",
    prices: Mapping[str, float] | None = None,
    physical: Mapping[str, float] | None = None,
    physical_quantity: str | None = None,
    masses: Mapping[str, float] | None = None,
    geography: str | Mapping[str, str] = "GLOBAL",
    product_names: Mapping[str, str] | None = None,
    scope3_categories: Sequence[int] = CRADLE_TO_GATE_SCOPE3,
    exemption: Exemption | None = None,
) -> list[ProductCarbonFootprint]:
    """Cradle-to-gate PCFs of every product in ``footprint.outputs``, by one allocation method.

    ``exemption`` (``estimate_exemption``) says what share of the emissions the boundary
    leaves out; every product gets the same share, since allocation is proportional.

    ``prices`` (economic), ``physical`` (physical) and ``masses`` (mass, for outputs not
    counted in a mass unit) are per declared unit of each product. The allocated totals add
    up to ``cradle_to_gate_kgco2e(footprint)``.

    Raises:
        AllocationError: no outputs, an unknown method, a missing price/mass/quantity, or a
            zero allocation basis, naming the output record or product.
    """
    lines = _lines(footprint.outputs, method, prices, physical, masses)
    pool = cradle_to_gate_kgco2e(footprint, scope3_categories)
    total_basis = sum(line.basis for line in lines)
    boundary = _boundary(footprint, scope3_categories)
    products: dict[str, list[_Line]] = {}
    for line in lines:
        products.setdefault(line.output.product, []).append(line)
    result: list[ProductCarbonFootprint] = []
    for product, own in products.items():
        amount = sum(line.amount for line in own)
        share = sum(line.basis for line in own) / total_basis
        if not amount > 0:
            raise AllocationError(
                f"product {product!r} has a zero output quantity",
                record_id=own[0].output.record_id,
            )
        allocated = pool * share
        per_unit = allocated / amount
        unit_name = own[0].declared_unit
        mass = 1.0 if unit_name == "kilogram" else (masses or {}).get(product)
        region = geography if isinstance(geography, str) else geography.get(product, "GLOBAL")
        result.append(
            ProductCarbonFootprint(
                product_id=product,
                product_name=(product_names or {}).get(product, product),
                declared_unit=unit_name,
                product_amount=amount,
                pcf_excluding_biogenic=per_unit,
                pcf_including_biogenic=None,
                fossil_ghg_kgco2e_per_unit=per_unit,
                biogenic_co2_kg_per_unit=boundary.biogenic_co2_kg * share / amount,
                primary_data_share=boundary.primary_data_share,
                period_start=_first(line.output.period_start for line in own)
                or footprint.period_start,
                period_end=_last(line.output.period_end for line in own) or footprint.period_end,
                geography=region,
                allocation_method=method,
                gwp=footprint.gwp,
                allocated_kgco2e=allocated,
                allocation_share=share,
                mass_kg_per_unit=mass,
                allocation_description=_describe(method, physical_quantity),
                boundary_description=_boundary_text(scope3_categories),
                secondary_sources=boundary.secondary_sources,
                biogenic_co2_uptake_kg_per_unit=None
                if boundary.uptake_kg is None
                else boundary.uptake_kg * share / amount,
                dqr=boundary.dqr,
                dqr_coverage=boundary.dqr_coverage,
                exempted_percent=0.0 if exemption is None else exemption.percent,
                exempted_description="" if exemption is None else exemption.description,
            )
        )
    return result


# -- what the boundary leaves out ------------------------------------------------------------

UPSTREAM_OF: Mapping[str, tuple[str, ...]] = {
    "electricity.grid": (
        "wtt.electricity.grid",
        "electricity.td_losses",
        "wtt.electricity.td_losses",
    ),
}
"""Scope 3 category 3 activities upstream of an energy activity; any other fuel or energy
activity ``a`` has ``wtt.a`` (well-to-tank) alone (the DESNZ 2023 naming)."""

PROXY_REGION = "GB"
"""Where well-to-tank factors exist in the built-in data (DESNZ 2023); used as a disclosed
proxy for other regions when estimating what is left out."""


@dataclass(frozen=True)
class Exemption:
    """Emissions the cradle-to-gate boundary leaves out, as PACT ``exemptedEmissions*``."""

    percent: float
    description: str
    estimated_kgco2e: float = 0.0
    not_estimated: tuple[str, ...] = ()


def _upstream_factor(
    catalog: FactorCatalog, activity: str, region: str, year: int, unit: str
) -> tuple[EmissionFactor | None, bool]:
    """The upstream factor in the region (chain), else the GB one as a proxy (second: proxy)."""
    from fedcarbon.accounting.errors import FactorNotFoundError

    for where, proxy in ((region, False), (PROXY_REGION, True)):
        try:
            return catalog.lookup(activity, where, year, unit=unit), proxy and where != region
        except FactorNotFoundError:
            continue
    return None, False


def estimate_exemption(
    footprint: Footprint,
    catalog: FactorCatalog,
    scope3_categories: Sequence[int] = CRADLE_TO_GATE_SCOPE3,
) -> Exemption:
    """What a PCF leaves out when Scope 3 category 3 is inside its boundary but has no records.

    Category 3 (upstream of fuels and electricity, T&D losses; Scope 3 Standard Table 5.4) is
    part of the cradle-to-gate boundary. When the footprint has none of it, the fuels burnt
    (Scope 1 stationary and mobile) and the energy bought (Scope 2) are priced with the
    well-to-tank and T&D factors of the catalog (the UK's as a disclosed proxy where the
    region has none), and the result is expressed as a share of the completed total:
    exempted % = estimate / (cradle-to-gate + estimate) x 100. Activities without any upstream
    factor are named, and the share is then a lower bound. With category 3 records present,
    or no energy use, nothing is exempted.
    """
    from fedcarbon.accounting.gwp import co2e_kg
    from fedcarbon.accounting.units import conversion_factor

    if 3 not in scope3_categories or footprint.by_category.get("scope3.cat3"):
        return Exemption(0.0, "")
    estimate = 0.0
    proxies: set[str] = set()
    missing: set[str] = set()
    for result in footprint.records:
        energy = result.scope == "1" and result.category in ("scope1.stationary", "scope1.mobile")
        if not (energy or result.scope == "2") or result.factor is None:
            continue
        region = result.region or result.factor.region
        year = result.year or result.factor.year
        for upstream in UPSTREAM_OF.get(result.activity, (f"wtt.{result.activity}",)):
            factor, proxy = _upstream_factor(catalog, upstream, region, year, result.unit)
            if factor is None:
                missing.add(result.activity)
                continue
            if proxy:
                proxies.add(region)
            per_unit = co2e_kg(factor.gases, footprint.gwp)
            estimate += result.quantity * conversion_factor(result.unit, factor.unit) * per_unit
    if estimate == 0.0 and not missing:
        return Exemption(0.0, "")
    pool = cradle_to_gate_kgco2e(footprint, scope3_categories)
    percent = 100.0 * estimate / (pool + estimate) if pool + estimate > 0 else 0.0
    text = (
        "Scope 3 category 3 (extraction, refining and transport of the fuels and of the fuels "
        "for purchased electricity, and T&D losses) is not included; estimated with "
        "well-to-tank and T&D factors"
    )
    if proxies:
        text += f" (UK DESNZ 2023 factors as a proxy for {', '.join(sorted(proxies))})"
    if missing:
        text += (
            f"; no upstream factor for {', '.join(sorted(missing))}, so the share is a lower bound"
        )
    return Exemption(round(percent, 2), text + ".", estimate, tuple(sorted(missing)))


def _first(days: Iterable[date | None]) -> date | None:
    return min((d for d in days if d is not None), default=None)


def _last(days: Iterable[date | None]) -> date | None:
    return max((d for d in days if d is not None), default=None)


def emissions_for_customer(
    footprint: Footprint,
    customer: str,
    *,
    method: str = "mass",
    prices: Mapping[str, float] | None = None,
    physical: Mapping[str, float] | None = None,
    masses: Mapping[str, float] | None = None,
    scope3_categories: Sequence[int] = CRADLE_TO_GATE_SCOPE3,
    product: str | None = None,
) -> float:
    """kg CO2e of the cradle-to-gate footprint carried by deliveries to ``customer``.

    With ``product``, only the deliveries of that product (a buyer's breakdown by product).

    Each output line's share of the pool, summed over lines whose ``customer`` matches: what
    the customer counts in its Scope 3 category 1 for these purchases. 0.0 when the customer
    received nothing in the period.

    Raises:
        AllocationError: as ``allocate_products``.
    """
    lines = _lines(footprint.outputs, method, prices, physical, masses)
    pool = cradle_to_gate_kgco2e(footprint, scope3_categories)
    total_basis = sum(line.basis for line in lines)
    own = sum(
        line.basis
        for line in lines
        if line.output.customer == customer and (product is None or line.output.product == product)
    )
    return pool * own / total_basis
