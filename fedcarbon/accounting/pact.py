"""PACT v3 product footprints in fedcarbon: import, export, validation, Scope 3 use.

PACT (WBCSD Partnership for Carbon Transparency) Technical Specifications v3 define how
companies exchange product carbon footprints (PCFs); their ``openapi.yaml`` is the
authoritative data model and ships in ``pact_schema/`` (see its ``NOTICE.md``). This module
is the one place the rest of fedcarbon imports PACT from:

* the typed model (``ProductFootprint``, ``CarbonFootprint``...) and ``load_footprints`` /
  ``dump_footprint`` come from ``pact_schema.model``: a footprint, a GetFootprint body
  ``{"data": {...}}`` or a ListFootprints body ``{"data": [...]}`` is read (v2.x upgraded to
  v3 by ``pact_schema.v2``) and written back exactly;
* ``validate`` (``pact_schema``) lists violations with their JSON paths;
* ``footprint_from_pcf`` (here) turns fedcarbon's own cradle-to-gate PCF (``pcf.py``) into a
  spec-valid v3 document; ``factors_from_pact`` turns suppliers' footprints into emission
  factors so purchased goods land in Scope 3 category 1 (GHG Protocol Scope 3 Standard,
  ch. 5 "Category 1: Purchased goods and services", supplier-specific method).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import quote

from fedcarbon.accounting.factors import DatasetInfo, EmissionFactor, FactorCatalog
from fedcarbon.accounting.inventory import Inventory, describe, with_register
from fedcarbon.accounting.pact_schema import SPEC_VERSION, Violation, errors_only, validate
from fedcarbon.accounting.pact_schema.errors import PactDocumentError, PactExportError
from fedcarbon.accounting.pact_schema.model import (
    JSON,
    CarbonFootprint,
    DataModelExtension,
    DataQualityIndicators,
    EmissionFactorSource,
    ProductFootprint,
    ProductOrSectorSpecificRule,
    SpelledDateTime,
    SpelledDecimal,
    Verification,
    dump_footprint,
    dumps,
    load_footprints,
    parse_document,
    to_decimal,
)
from fedcarbon.accounting.pcf import (
    CRADLE_TO_GATE_SCOPE3,
    ProductCarbonFootprint,
    allocate_products,
    estimate_exemption,
)
from fedcarbon.accounting.records import ActivityRecord

if TYPE_CHECKING:
    from fedcarbon.accounting.engine import Footprint

__all__ = [
    "JSON",
    "SPEC_VERSION",
    "CarbonFootprint",
    "Company",
    "DataModelExtension",
    "DataQualityIndicators",
    "EmissionFactorSource",
    "ProductFootprint",
    "ProductOrSectorSpecificRule",
    "SpelledDateTime",
    "SpelledDecimal",
    "Verification",
    "Violation",
    "check_importable",
    "dump_footprint",
    "dumps",
    "errors_only",
    "export_products",
    "export_violations",
    "factors_from_pact",
    "footprint_from_pcf",
    "import_violations",
    "load_footprints",
    "parse_document",
    "pcf_activity",
    "product_urn",
    "to_decimal",
    "validate",
]

# -- fedcarbon's own PCFs -> PACT ----------------------------------------------------------------


@dataclass(frozen=True)
class Company:
    """The data owner of exported footprints.

    ``ids`` are URNs naming the company (e.g. ``urn:lei:...``, ``urn:pact:acme.example:...``);
    ``domain`` is its fully qualified domain name, used to build product URNs in the form
    ``urn:pact:<domain>:supplier-id:<product>`` (PACT ADR-34, common URN structure).
    """

    name: str
    ids: tuple[str, ...]
    domain: str | None = None


_UNIT_MASS_KG: Mapping[str, Decimal] = {"kilogram": Decimal(1)}
_MASSLESS_UNITS = ("kilowatt hour", "megajoule", "ton kilometer", "hour", "megabit second")


def product_urn(product_id: str, company: Company) -> str:
    """A productIds URN: the id itself if it is a URN, else ``urn:pact:<domain>:supplier-id:``.

    Without a company domain the URN is ``urn:uuid:`` of a UUID 5 (RFC 9562) over the
    company's first id and the product id, stable across exports.
    """
    if product_id.lower().startswith("urn:"):
        return product_id
    code = quote(product_id, safe="-._~!$&'()*+,;=:@")
    if company.domain:
        return f"urn:pact:{company.domain.lower()}:supplier-id:{code}"
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, company.ids[0] if company.ids else company.name)
    return f"urn:uuid:{uuid.uuid5(namespace, product_id)}"


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _geography(region: str) -> tuple[str | None, str | None]:
    """(country, subdivision) for an ISO 3166 region code; (None, None) means global."""
    if re.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}", region):
        return None, region
    if re.fullmatch(r"[A-Z]{2}", region):
        return region, None
    return None, None


def footprint_from_pcf(
    pcf: ProductCarbonFootprint,
    company: Company,
    *,
    footprint_id: str | None = None,
    created: datetime | None = None,
    product_ids: Sequence[str] = (),
    product_description: str | None = None,
    comment: str | None = None,
) -> ProductFootprint:
    """A spec-valid PACT v3 footprint for one of fedcarbon's own cradle-to-gate PCFs.

    Declared unit: ``pcf.declared_unit`` with amount 1, so every value is per one unit.
    ``pcfExcludingBiogenicUptake`` = ``fossilGhgEmissions`` = the allocated cradle-to-gate
    CO2e: fedcarbon accounts no land use change, land management or removals, and biogenic
    CO2 from combustion is reported outside the total as GHG Protocol and PACT ask.
    ``pcfIncludingBiogenicUptake`` adds ``biogenic_co2_uptake_kg_per_unit`` when it was
    assessed (else equals the former). The fossil carbon content is not assessed and is
    written as 0, which the comment says. ``primaryDataShare`` is the emissions-weighted
    share (suppliers' PCFs count with their own share), ``dqi`` the emissions-weighted DQRs
    when every emission has ratings (else the comment says how much has), and
    ``exemptedEmissionsPercent``/``Description`` what ``pcf.estimate_exemption`` found left
    out (never a bare 0 when category 3 is missing).

    Raises:
        PactExportError: the PCF lacks what v3 requires (a mass per declared unit for
            pieces/litres..., a reference period), naming the product.
    """
    if not company.ids:
        raise PactExportError(pcf.product_id, "the company needs at least one URN id")
    for company_id in company.ids:
        if not company_id.lower().startswith("urn:"):
            raise PactExportError(pcf.product_id, f"company id {company_id!r} is not a URN")
    if pcf.period_start is None or pcf.period_end is None:
        raise PactExportError(pcf.product_id, "no reference period (period_start/period_end)")
    unit = pcf.declared_unit
    if unit in _UNIT_MASS_KG:
        mass: Decimal = _UNIT_MASS_KG[unit]
    elif unit in _MASSLESS_UNITS:
        mass = Decimal(0)
    elif pcf.mass_kg_per_unit is not None:
        mass = to_decimal(pcf.mass_kg_per_unit)
    else:
        raise PactExportError(
            pcf.product_id,
            f"declared unit {unit!r} needs the product mass per unit (kg); give it "
            "(--mass PRODUCT=KG on the command line)",
        )
    value = to_decimal(max(pcf.pcf_excluding_biogenic, 0.0))
    uptake = pcf.biogenic_co2_uptake_kg_per_unit
    if uptake is not None and uptake > 0:
        raise PactExportError(pcf.product_id, f"biogenic CO2 uptake {uptake} must be <= 0")
    uptake_value = None if uptake is None else to_decimal(uptake)
    if pcf.pcf_including_biogenic is not None:
        including = to_decimal(pcf.pcf_including_biogenic)
    else:
        including = value if uptake_value is None else value + uptake_value
    sources = tuple(
        EmissionFactorSource(name=name, version=version) for name, version in pcf.secondary_sources
    )
    notes = [
        comment or "",
        f"Cradle-to-gate PCF computed by fedcarbon from site activity data "
        f"({pcf.boundary_description}). Allocation: {pcf.allocation_description}.",
        "Fossil carbon content of the product was not assessed (reported as 0)."
        + (" Biogenic CO2 uptake was not assessed." if uptake is None else ""),
    ]
    dqi: DataQualityIndicators | None = None
    if pcf.dqr is not None and pcf.dqr_coverage >= _FULL_COVERAGE:
        technological, geographical, temporal = (to_decimal(round(v, 2)) for v in pcf.dqr)
        dqi = DataQualityIndicators(
            technological_dqr=technological,
            geographical_dqr=geographical,
            temporal_dqr=temporal,
        )
    elif pcf.dqr is not None:
        notes.append(
            f"Data quality ratings are known for {pcf.dqr_coverage:.0%} of the emissions only "
            "and are not reported."
        )
    if pcf.exempted_percent > 0:
        notes.append(f"Exempted emissions: {pcf.exempted_description}")
    country, subdivision = _geography(pcf.geography)
    carbon = CarbonFootprint(
        declared_unit_of_measurement=unit,
        declared_unit_amount=Decimal(1),
        product_mass_per_declared_unit=mass,
        reference_period_start=_start_of(pcf.period_start),
        reference_period_end=_start_of(pcf.period_end + _ONE_DAY),
        boundary_processes_description=pcf.boundary_description,
        pcf_excluding_biogenic_uptake=value,
        pcf_including_biogenic_uptake=including,
        fossil_carbon_content=Decimal(0),
        fossil_ghg_emissions=value,
        biogenic_co2_uptake=uptake_value,
        packaging_emissions_included=False,
        ipcc_characterization_factors=(pcf.gwp,),
        cross_sectoral_standards=("GHGP-Product", "ISO14067"),
        exempted_emissions_percent=to_decimal(pcf.exempted_percent),
        exempted_emissions_description=pcf.exempted_description or None,
        allocation_rules_description=pcf.allocation_description,
        secondary_emission_factor_sources=sources or None,
        primary_data_share=to_decimal(round(pcf.primary_data_share * 100, 4)),
        dqi=dqi,
        geography_country=country,
        geography_country_subdivision=subdivision,
    )
    urns = [product_urn(pcf.product_id, company)]
    urns += [p for p in product_ids if p not in urns]
    return ProductFootprint(
        id=footprint_id or str(uuid.uuid4()),
        spec_version=SPEC_VERSION,
        created=created or datetime.now(UTC).replace(microsecond=0),
        status="Active",
        company_name=company.name,
        company_ids=tuple(company.ids),
        product_description=product_description or pcf.product_name,
        product_ids=tuple(urns),
        product_name_company=pcf.product_name,
        comment="\n".join(n for n in notes if n),
        pcf=carbon,
    )


_ONE_DAY = timedelta(days=1)
_FULL_COVERAGE = 0.999  # DQRs are exported only when (nearly) every kg CO2e has a rating


def export_violations(footprint: ProductFootprint) -> list[Violation]:
    """Spec errors in an exported footprint (none expected; a guard before writing files)."""
    return errors_only(validate(dump_footprint(footprint)))


def export_products(
    footprint: Footprint,
    records: Sequence[ActivityRecord],
    catalog: FactorCatalog,
    company: Company,
    *,
    allocation: str = "mass",
    prices: Mapping[str, float] | None = None,
    physical: Mapping[str, float] | None = None,
    physical_quantity: str | None = None,
    masses: Mapping[str, float] | None = None,
    inventory: Inventory | None = None,
) -> list[tuple[ProductCarbonFootprint, ProductFootprint]]:
    """Every product's cradle-to-gate PCF and its PACT v3 footprint, from a site footprint.

    One path for ``fedcarbon pact export`` (a CSV) and ``fedcarbon agent pact export`` (the
    agent's adapters): a product made in one region gets that geography, else GLOBAL; what the
    boundary leaves out is estimated with ``catalog`` (``pcf.estimate_exemption``) plus the
    exclusions of the inventory's Scope 3 register, whose boundary, consolidation approach and
    base year go into each footprint's comment.

    Raises:
        AccountingError: allocation impossible (``AllocationError``), export impossible
            (``PactExportError``), or an exported document failing the spec (a bug).
    """
    regions: dict[str, set[str]] = {}
    for record in records:
        if record.is_output:
            product = record.product or record.activity[len("output.") :]
            regions.setdefault(product, set()).add(record.region)
    geography = {p: next(iter(r)) if len(r) == 1 else "GLOBAL" for p, r in regions.items()}
    exemption = estimate_exemption(footprint, catalog)
    if inventory is not None:
        exemption = with_register(exemption, inventory, footprint, CRADLE_TO_GATE_SCOPE3)
    pcfs = allocate_products(
        footprint,
        method=allocation,
        prices=prices,
        physical=physical,
        physical_quantity=physical_quantity,
        masses=masses,
        geography=geography,
        exemption=exemption,
    )
    comment = None if inventory is None else describe(inventory)
    out: list[tuple[ProductCarbonFootprint, ProductFootprint]] = []
    for pcf in pcfs:
        fp = footprint_from_pcf(pcf, company, comment=comment)
        problems = export_violations(fp)
        if problems:  # a fedcarbon bug, never the user's input: say so plainly
            details = "; ".join(f"{v.json_path}: {v.message}" for v in problems)
            raise PactExportError(pcf.product_id, f"internal error, violates PACT v3: {details}")
        out.append((pcf, fp))
    return out


# -- suppliers' PCFs -> Scope 3 category 1 factors -----------------------------------------------

_PINT_UNITS: Mapping[str, str] = {
    "liter": "liter",
    "kilogram": "kilogram",
    "cubic meter": "meter**3",
    "kilowatt hour": "kilowatt_hour",
    "megajoule": "megajoule",
    "ton kilometer": "tonne*kilometer",
    "square meter": "meter**2",
    "piece": "piece",
    "hour": "hour",
    "megabit second": "megabit*second",
}
"""PACT declared units -> pint unit expressions (fedcarbon's unit registry reads them)."""

PACT_DATASET = "pact"


def pcf_activity(product_id: str) -> str:
    """The activity code ``pcf.<productId>`` for purchases of a supplier's product.

    Activity codes allow letters, digits, ``_-+`` and dots between segments, so the URN's
    ``urn:`` prefix is dropped, ``:`` becomes ``.`` and any other character ``_``:
    ``urn:gtin:4712345060507`` -> ``pcf.gtin.4712345060507``.
    """
    body = re.sub(r"^[uU][rR][nN]:", "", product_id)
    segments = [re.sub(r"[^A-Za-z0-9_\-+]", "_", s) or "_" for s in re.split(r"[:.]", body)]
    return "pcf." + ".".join(segments)


def _region(carbon: CarbonFootprint) -> str:
    geography = carbon.geography
    if re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", geography):
        return geography
    return "GLOBAL"


_V2_GAPS = frozenset({"$.pcf.productMassPerDeclaredUnit", "$.pcf.pcfIncludingBiogenicUptake"})
"""v3-required properties a v2.x footprint cannot have; an upgraded v2 footprint may lack them."""


def import_violations(footprint: ProductFootprint) -> list[Violation]:
    """Spec errors that make a supplier's footprint unusable as a Scope 3 factor.

    The footprint is checked as written back to JSON against the PACT v3 schema and its
    prose MUSTs (``validate``): a ``declaredUnitAmount`` of -0.5 or 0, a negative
    ``pcfExcludingBiogenicUptake``, a DQR outside 1..5, a share outside 0..100 are refused
    with their JSON paths. Only the two properties v3 added as required, which an upgraded
    v2 file cannot carry, are let through.
    """
    problems = [
        v
        for v in errors_only(validate(dump_footprint(footprint)))
        if not (v.json_path in _V2_GAPS and "required" in v.message)
    ]
    if footprint.pcf.pcf_excluding_biogenic_uptake < 0:
        # Valid PACT (removals are netted in it), but a Scope 3 inventory reports removals
        # apart from emissions (Scope 3 Standard ch. 9), so it cannot price a purchase.
        problems.append(
            Violation(
                "$.pcf.pcfExcludingBiogenicUptake",
                f"{footprint.pcf.pcf_excluding_biogenic_uptake} is negative (net removals), "
                "which cannot be a Scope 3 emission factor",
                kind="rule",
            )
        )
    return problems


def check_importable(footprint: ProductFootprint, source: str | None = None) -> None:
    """Raise ``PactDocumentError`` naming every JSON path that makes ``footprint`` unusable."""
    problems = import_violations(footprint)
    if problems:
        detail = "; ".join(f"{v.json_path}: {v.message}" for v in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise PactDocumentError(
            problems[0].json_path,
            f"footprint {footprint.id} is not valid PACT v3: {detail}{more}",
            source=source or f"footprint {footprint.id}",
        )


def factors_from_pact(footprints: Iterable[ProductFootprint]) -> FactorCatalog:
    """Emission factors from suppliers' PCFs, for Scope 3 category 1 (purchased goods).

    Each active footprint gives, for each of its product ids, a factor for activity
    ``pcf_activity(productId)`` in the footprint's country or subdivision and in GLOBAL (a
    purchase record's region is where the buyer is, not where the product was made), per
    one declared unit of measurement: ``pcfExcludingBiogenicUptake / declaredUnitAmount`` kg
    CO2e. Uptake is left out of the factor because the Scope 3 Standard reports biogenic
    removals separately from the scopes; it travels beside it (``biogenic_uptake``), with the
    supplier's ``primaryDataShare`` (as a fraction; absent means none is claimed) and DQRs, so
    a footprint built from the factor inherits them. Deprecated footprints are skipped (v3:
    they SHOULD NOT be used).

    Raises:
        PactDocumentError: a footprint that violates the spec (``check_importable``).
    """
    factors: list[EmissionFactor] = []
    for fp in footprints:
        if fp.status != "Active":
            continue
        check_importable(fp)
        carbon = fp.pcf
        unit = _PINT_UNITS.get(carbon.declared_unit_of_measurement)
        if unit is None:
            raise PactDocumentError(
                "$.pcf.declaredUnitOfMeasurement",
                f"{carbon.declared_unit_of_measurement!r} is not a PACT declared unit",
                source=f"footprint {fp.id}",
            )
        per_unit = carbon.pcf_excluding_biogenic_uptake / carbon.declared_unit_amount
        basis = "+".join(carbon.ipcc_characterization_factors) or None
        share = carbon.primary_data_share
        dqi = carbon.dqi
        uptake = carbon.biogenic_co2_uptake or Decimal(0)
        regions = dict.fromkeys((_region(carbon), "GLOBAL"))
        for product_id, region in ((p, r) for p in fp.product_ids for r in regions):
            factors.append(
                EmissionFactor(
                    dataset=PACT_DATASET,
                    dataset_version=fp.spec_version,
                    activity=pcf_activity(product_id),
                    region=region,
                    unit=unit,
                    gases={"CO2e": float(per_unit)},
                    co2e_gwp_basis=basis,
                    biogenic_co2=0.0,
                    scope="3",
                    category="scope3.cat1",
                    source=f"PACT ProductFootprint {fp.id} by {fp.company_name}",
                    source_ref=f"{fp.id}:{product_id}",
                    year=carbon.reference_period_end.year,
                    licence="supplier-provided PCF (PACT exchange)",
                    description=fp.product_name_company,
                    primary_share=None if share is None else float(share) / 100.0,
                    dqr=None
                    if dqi is None
                    else (
                        float(dqi.technological_dqr),
                        float(dqi.geographical_dqr),
                        float(dqi.temporal_dqr),
                    ),
                    biogenic_uptake=float(uptake / carbon.declared_unit_amount),
                )
            )
    info = DatasetInfo(
        id=PACT_DATASET,
        version=SPEC_VERSION,
        title="Supplier product carbon footprints (PACT)",
        publisher="suppliers, via PACT ProductFootprint files",
        year=max((f.year for f in factors), default=0),
        licence="supplier-provided",
        attribution="Product carbon footprints provided by suppliers",
        url="https://wbcsd.github.io/data-exchange-protocol/",
    )
    return FactorCatalog.from_factors(factors, [info])
