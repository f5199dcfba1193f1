"""The footprint engine: activity records x emission factors -> a GHG inventory by scope and gas.

Method (GHG Protocol Corporate Standard, rev. ed. 2004, ch. 6 "Identifying and Calculating GHG
Emissions"): emissions = activity data x emission factor, per gas, converted to CO2e with
100-year GWPs (``gwp.py``; AR6 by default, AR5 selectable). Scopes follow ch. 4 of the
Corporate Standard:

* Scope 1 - direct emissions, split into stationary combustion, mobile combustion, process and
  fugitive emissions (the factor's ``category``). A ``release.<gas>`` record is a fugitive
  release measured as mass of gas (e.g. kg of R-410A): CO2e = mass x GWP100, no factor needed;
  blends count as their component gases (GWP of a blend = mass-weighted GWP of its components).
  With a ``scope3_category`` (equipment of a leased asset, say) the release is Scope 3.
* Scope 2 - purchased electricity, heat, steam and cooling, reported both ways as the Scope 2
  Guidance (2015) ch. 4 and 7.1 require. Location-based: the grid-average factor of the record's
  region. Market-based: the record's contractual instrument (``instruments.py``), else the
  region's residual mix (``electricity.residual_mix``), else the grid average again - which the
  guidance allows where no residual mix exists (ch. 6, Table 6.3, last level), flagged
  ``market:location-fallback`` on the result so the report can disclose it (ch. 7.1).
* Scope 3 - the 15 categories of the Corporate Value Chain (Scope 3) Standard (2011), ch. 5:
  from the record's ``scope3_category`` (which also moves a scope 1/2-type activity such as
  fuel in a hired car into Scope 3) or the factor's ``scope3.catN`` category. A factor
  whose unit is a currency is the spend-based method; any other the average-data /
  activity-based method (Scope 3 Standard ch. 7; Technical Guidance for Calculating Scope 3
  Emissions, 2013, category 1 methods); ``pcf.*`` factors (supplier PCFs) are supplier-specific.

Biogenic CO2 is reported separately and never in a scope (Corporate Standard ch. 9: direct CO2
from biologically sequestered carbon is reported separately from the scopes; Scope 3 Standard
ch. 11 asks the same for value-chain biogenic CO2). Factors that are only CO2e (no gas split)
are used as published and their GWP basis is recorded on each result.

Vectorised: records are grouped by (activity, region, unit, year, scope3 category, instrument);
each group's factor is looked up and its unit converted once, and the per-record arithmetic is
numpy over arrays, so a million records take seconds. Per-record results are built lazily.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from fedcarbon.accounting import gwp as gwp_table
from fedcarbon.accounting.activity_table import ActivityTable
from fedcarbon.accounting.errors import (
    AccountingError,
    CategoryError,
    FactorNotFoundError,
    FuelConversionError,
    InstrumentError,
    MixedGwpError,
    NonFiniteTotalError,
    UnitConversionError,
    UnknownGwpSetError,
)
from fedcarbon.accounting.factors import (
    LIFECYCLE_DATASETS,
    US_ECONOMY_DATASETS,
    EmissionFactor,
    FactorCatalog,
)
from fedcarbon.accounting.fuels import is_volume, volume_to_mass
from fedcarbon.accounting.instruments import (
    check_market_boundary,
    check_vintage,
    parse_instrument,
)
from fedcarbon.accounting.money import spend_conversion
from fedcarbon.accounting.quality import parse_data_quality
from fedcarbon.accounting.records import ActivityRecord
from fedcarbon.accounting.regions import check_region
from fedcarbon.accounting.units import conversion_factor, is_currency
from fedcarbon.lazy import LazySequence

RESIDUAL_MIX_ACTIVITY = "electricity.residual_mix"
SCOPE1_CATEGORIES = ("stationary", "mobile", "process", "fugitive")

FloatArray = npt.NDArray[np.float64]

_SCOPE1, _SCOPE2, _SCOPE3, _OUTSIDE, _OUTPUT = range(5)
_SCOPE_CODES = {"1": _SCOPE1, "2": _SCOPE2, "3": _SCOPE3, "outside": _OUTSIDE, "": _OUTPUT}


@dataclass(frozen=True)
class RecordResult:
    """What one activity record contributed, and everything needed to re-trace it.

    ``co2e_kg`` is location-based for Scope 2; ``co2e_market_kg`` is the market-based figure
    (Scope 2 only). ``factor_ref`` is ``dataset@version:activity/region`` (or ``gwp:SET:gas``
    for releases); ``gwp`` is the GWP set behind ``co2e_kg`` (the publisher's for CO2e-only
    factors); ``market_basis`` names the Scope 2 hierarchy level used; ``flags`` list
    fallbacks an auditor should see (region or year fallback, residual mix missing).
    """

    record_id: str
    activity: str
    scope: str
    category: str
    co2e_kg: float
    co2e_market_kg: float | None
    gases_kg: Mapping[str, float]
    biogenic_co2_kg: float
    factor: EmissionFactor | None
    factor_ref: str
    gwp: str
    method: str
    primary: bool
    market_basis: str | None = None
    market_factor_ref: str | None = None
    flags: tuple[str, ...] = ()
    quantity: float = 0.0
    unit: str = ""
    row: int | None = None
    primary_share: float = 0.0
    """Fraction 0..1 of ``co2e_kg`` from primary data (a supplier PCF's own share for pcf.*)."""
    dqr: tuple[float, float, float] | None = None
    """Data quality ratings (technological, geographical, temporal), the record's or supplier's."""
    biogenic_uptake_kg: float = 0.0
    region: str = ""
    year: int | None = None
    """The record's region and the year its period starts (for follow-up lookups)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the factor's source so a reader can find the published row."""
        factor = self.factor
        return {
            "record_id": self.record_id,
            "row": self.row,
            "activity": self.activity,
            "quantity": self.quantity,
            "unit": self.unit,
            "scope": self.scope,
            "category": self.category,
            "co2e_kg": self.co2e_kg,
            "co2e_market_kg": self.co2e_market_kg,
            "gases_kg": dict(self.gases_kg),
            "biogenic_co2_kg": self.biogenic_co2_kg,
            "method": self.method,
            "primary": self.primary,
            "primary_share": self.primary_share,
            "dqr": None if self.dqr is None else list(self.dqr),
            "biogenic_uptake_kg": self.biogenic_uptake_kg,
            "gwp": self.gwp,
            "factor_ref": self.factor_ref,
            "factor": None
            if factor is None
            else {
                "dataset": factor.dataset,
                "dataset_version": factor.dataset_version,
                "activity": factor.activity,
                "region": factor.region,
                "unit": factor.unit,
                "year": factor.year,
                "gases": dict(factor.gases),
                "co2e_gwp_basis": factor.co2e_gwp_basis,
                "source": factor.source,
                "source_ref": factor.source_ref,
                "licence": factor.licence,
            },
            "market_basis": self.market_basis,
            "market_factor_ref": self.market_factor_ref,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class OutputLine:
    """Product made in the period (an ``output.*`` record), for allocating the footprint."""

    record_id: str
    product: str
    quantity: float
    unit: str
    customer: str | None
    period_start: date | None = None
    period_end: date | None = None
    site: str | None = None


@dataclass(frozen=True)
class Footprint:
    """A GHG inventory: totals per scope, category and gas, with per-record results.

    ``by_category`` holds CO2e per ``scope1.<category>``, ``scope2.<category>`` (market-based,
    so the categories add up to ``total_kgco2e``) and ``scope3.cat<N>``. ``by_gas`` holds kg of
    each gas over Scope 1, Scope 2 location-based and Scope 3 (the gas split the Corporate
    Standard ch. 9 asks for); CO2e from factors without a gas split appears as
    ``CO2e[<GWP basis>]``. ``primary_data_share`` is the share of ``total_kgco2e`` that comes
    from records marked ``data_quality=primary`` or from supplier-specific factors/instruments
    (see docs/activity-data.md for how it relates to PACT's ``primaryDataShare``).
    """

    gwp: str
    scope1_kgco2e: float
    scope2_location_kgco2e: float
    scope2_market_kgco2e: float
    scope3_kgco2e: float
    by_category: Mapping[str, float]
    by_gas: Mapping[str, float]
    biogenic_co2_kg: float
    primary_data_share: float
    records: Sequence[RecordResult]
    outputs: Sequence[OutputLine]
    period_start: date | None = None
    period_end: date | None = None
    primary_by_category: Mapping[str, float] = field(default_factory=dict)
    """CO2e from primary data per ``by_category`` key (for primary shares within a boundary)."""
    gwp_sets: tuple[str, ...] = ()
    """Every GWP set behind the total: ``gwp`` first, then any publisher's CO2e-only basis
    (a grid intensity in AR5, the EPA's unspecified HFC/PFC part in AR4), which cannot be
    converted without its gas split; ``strict_gwp=True`` refuses such a mix instead."""
    dqr: tuple[float, float, float] | None = None
    """Emissions-weighted mean data quality ratings over the records that have ratings."""
    dqr_coverage: float = 0.0
    """Share 0..1 of ``total_kgco2e`` from records with ratings (behind ``dqr``)."""
    biogenic_uptake_kg: float = 0.0
    """CO2 taken up by biomass in purchased products (suppliers' PCFs), <= 0, outside scopes."""
    kgco2e_by_gwp_set: Mapping[str, float] = field(default_factory=dict)
    """CO2e of the reported total per GWP set (a group with a foreign CO2e part counts there)."""

    @property
    def total_kgco2e(self) -> float:
        """Scope 1 + Scope 2 (market-based) + Scope 3, the figure shared with customers."""
        return self.scope1_kgco2e + self.scope2_market_kgco2e + self.scope3_kgco2e

    def to_dict(self, *, include_records: bool = True) -> dict[str, Any]:
        """JSON-ready form (used by ``fedcarbon footprint compute --json``)."""
        out: dict[str, Any] = {
            "gwp": self.gwp,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "scope1_kgco2e": self.scope1_kgco2e,
            "scope2_location_kgco2e": self.scope2_location_kgco2e,
            "scope2_market_kgco2e": self.scope2_market_kgco2e,
            "scope3_kgco2e": self.scope3_kgco2e,
            "total_kgco2e": self.total_kgco2e,
            "by_category": dict(self.by_category),
            "by_gas": dict(self.by_gas),
            "biogenic_co2_kg": self.biogenic_co2_kg,
            "primary_data_share": self.primary_data_share,
            "primary_by_category": dict(self.primary_by_category),
            "gwp_sets": list(self.gwp_sets or (self.gwp,)),
            "dqr": None if self.dqr is None else list(self.dqr),
            "dqr_coverage": self.dqr_coverage,
            "biogenic_uptake_kg": self.biogenic_uptake_kg,
            "kgco2e_by_gwp_set": dict(self.kgco2e_by_gwp_set),
            "outputs": [
                {
                    "record_id": o.record_id,
                    "product": o.product,
                    "quantity": o.quantity,
                    "unit": o.unit,
                    "customer": o.customer,
                }
                for o in self.outputs
            ],
        }
        if include_records:
            out["records"] = [r.to_dict() for r in self.records]
        return out


# -- per-group calculation ----------------------------------------------------------------


@dataclass
class _Group:
    """Everything that is the same for all records of one group, per unit of record quantity."""

    scope: str
    category: str
    co2e_pu: float
    market_pu: float
    biogenic_pu: float
    gases_pu: dict[str, float]
    factor: EmissionFactor | None
    factor_ref: str
    gwp: str
    method: str
    primary_share: float = 0.0
    supplier: bool = False  # a supplier PCF: its own primary share applies, not the record's
    dqr: tuple[float, float, float] | None = None
    uptake_pu: float = 0.0
    market_basis: str | None = None
    market_factor_ref: str | None = None
    flags: tuple[str, ...] = ()
    output: bool = False
    gwp_parts: tuple[str, ...] = ()
    """Every GWP set behind ``co2e_pu``: the chosen one and any publisher's CO2e part."""


_SCOPE3_CATEGORY_RE = re.compile(r"^(?:scope3\.)?cat(?:egory)?[ _.]?(\d{1,2})$", re.IGNORECASE)


def _scope3_number(category: str) -> int | None:
    match = _SCOPE3_CATEGORY_RE.match(category.strip())
    if match and 1 <= int(match.group(1)) <= 15:
        return int(match.group(1))
    return None


def _country(region: str) -> str:
    return region.split("-", 1)[0]


class _Calculator:
    """Resolves each group once: factor lookup, unit conversion, gas weighting, Scope 2 market."""

    def __init__(self, catalog: FactorCatalog | None, gwp: str) -> None:
        self._catalog = catalog
        self.gwp = gwp

    @property
    def catalog(self) -> FactorCatalog:
        if self._catalog is None:
            self._catalog = FactorCatalog.default()
        return self._catalog

    def group(self, record: ActivityRecord) -> _Group:
        try:
            check_region(record.region)
            if record.is_output:
                return _Group("", "output", 0.0, math.nan, 0.0, {}, None, "", "", "", output=True)
            if record.activity.startswith("release."):
                return self._release(record)
            return self._factored(record)
        except AccountingError as exc:
            raise exc.for_record(record.record_id, record.row) from exc

    def _release(self, record: ActivityRecord) -> _Group:
        """Scope 1 fugitive release of a gas or blend, measured as mass (Corporate Std ch. 4)."""
        if record.instrument:
            raise InstrumentError(record.instrument, "instruments apply only to Scope 2 records")
        gas = gwp_table.canonical_gas(record.activity[len("release.") :])
        flags: tuple[str, ...] = ()
        if gas == "CH4":
            # A measured methane release (gas leak, vent, coal mine) is fossil methane, whose
            # GWP counts its oxidation to fossil CO2 (AR6 WGI Table 7.15: 29.8, not 27.0);
            # write release.CH4_non_fossil for biogenic methane (digesters, landfill).
            gas = "CH4_fossil"
            flags = ("release:CH4-as-fossil",)
        per_kg = gwp_table.gwp100(gas, self.gwp)
        to_kg = conversion_factor(record.unit, "kg")
        components = gwp_table.BLENDS.get(gas, {gas: 1.0})
        gases = {name: to_kg * fraction for name, fraction in components.items()}
        category = record.scope3_category
        # A release from equipment in the value chain (e.g. an upstream leased asset, cat. 8)
        # is Scope 3 when the record says so; otherwise it is the company's own, Scope 1.
        return _Group(
            scope="1" if category is None else "3",
            category="scope1.fugitive" if category is None else f"scope3.cat{category}",
            co2e_pu=to_kg * per_kg,
            market_pu=math.nan,
            biogenic_pu=0.0,
            gases_pu=gases,
            factor=None,
            factor_ref=f"gwp:{self.gwp}:{gas}",
            gwp=self.gwp,
            method="release",
            flags=flags,
            gwp_parts=(self.gwp,),
        )

    def _lookup(self, activity: str, record: ActivityRecord) -> EmissionFactor:
        """The catalog's factor for the record, preferring one whose unit the record converts to.

        Without a dimension-compatible factor the catalog's unit-blind choice is returned, so
        the unit conversion then fails with an error naming both units.
        """
        year = record.period_start.year
        try:
            return self.catalog.lookup(activity, record.region, year, unit=record.unit)
        except FactorNotFoundError:
            return self.catalog.lookup(activity, record.region, year)

    def _per_unit(self, factor: EmissionFactor, to_factor_unit: float) -> tuple[float, str]:
        """CO2e per record unit (``to_factor_unit`` factor units each), and its GWP basis.

        Gases are weighted with the chosen set; a ``CO2e`` entry (a publisher's CO2e for gases
        it does not split, or the whole factor) is added as published.
        """
        co2e = gwp_table.co2e_kg(factor.gases, self.gwp)
        only_co2e = set(factor.gases) == {"CO2e"}
        basis = (factor.co2e_gwp_basis or "unknown") if only_co2e else self.gwp
        return to_factor_unit * co2e, basis

    def _via_density(
        self, record: ActivityRecord, factor: EmissionFactor
    ) -> tuple[EmissionFactor, float, str]:
        """A volume of fuel priced with a per-mass factor: (factor, factor units per unit, flag).

        Used where the factor found (typically the IPCC 2006 GLOBAL fallback, per TJ and per
        tonne only) has no volume unit: the fuel's density (``fuels.py``) turns the volume into
        kg, and the per-tonne row (IPCC default NCV, Vol 2 ch. 1 Table 1.2) takes it from there.

        Raises:
            FuelConversionError: naming the factor that was found and why it cannot be used.
        """
        converted = volume_to_mass(record.unit, record.activity)
        mass_factor: EmissionFactor | None = None
        if converted is not None:
            try:
                mass_factor = self.catalog.lookup(
                    record.activity, record.region, record.period_start.year, unit="kg"
                )
            except FactorNotFoundError:
                mass_factor = None
        if converted is None or mass_factor is None:
            reason = (
                "no density is known for this fuel to turn the volume into a mass"
                if converted is None
                else "there is no per-mass factor to apply the fuel's density to"
            )
            raise FuelConversionError(
                record.unit,
                factor.unit,
                f"the factor for {record.activity!r} in {record.region} is {factor.ref} "
                f"(per {factor.unit}, {factor.source}); {reason}. Give the quantity in "
                f"{factor.unit} or a unit of the same kind, or add your own factor (--factors)",
            )
        kg_per_unit, density = converted
        to_factor_unit = kg_per_unit * conversion_factor("kg", mass_factor.unit)
        return mass_factor, to_factor_unit, f"fuel-density:{density.source}"

    def _factored(self, record: ActivityRecord) -> _Group:
        factor = self._lookup(record.activity, record)
        flags: list[str] = []
        try:
            to_factor_unit = conversion_factor(record.unit, factor.unit)
        except UnitConversionError as exc:
            if is_currency(record.unit) and is_currency(factor.unit):
                to_factor_unit, money_flags = spend_conversion(
                    record.unit, factor.unit, record.period_start.year
                )
                flags.extend(money_flags)
            elif is_volume(record.unit):
                factor, to_factor_unit, density_flag = self._via_density(record, factor)
                flags.append(density_flag)
            else:
                exc.message += f" ({factor.ref}, {factor.source})"
                exc.args = (str(exc),)
                raise
        if factor.dataset in US_ECONOMY_DATASETS and _country(record.region) != "US":
            # A US input-output model prices the purchase as if made in the US economy
            # (its supply chains, grid and prices): disclose it per record.
            flags.append(f"spend:us-economy-factor-for:{record.region}")
        co2e_pu, basis = self._per_unit(factor, to_factor_unit)
        published_basis = factor.co2e_gwp_basis or "unknown"
        if factor.region != record.region:
            flags.append(f"factor-region:{factor.region}")
        if factor.year > record.period_start.year:
            flags.append(f"factor-year:{factor.year}")
        if "CO2e" in factor.gases and published_basis != self.gwp:
            flags.append(f"co2e-as-published:{published_basis}")
        if factor.dataset in LIFECYCLE_DATASETS:
            # Scope 2 is the combustion at the generator; the fuels' extraction, production and
            # transport is Scope 3 category 3 activity B (Technical Guidance for Calculating
            # Scope 3 Emissions, 2013, Table 3.1). This region's split of a lifecycle
            # intensity into those two parts is modelled from its generation mix: disclose it.
            flags.append("location:combustion-share-modelled")
        gases: dict[str, float] = {}
        for gas, kg in factor.gases.items():
            name = f"CO2e[{published_basis}]" if gas == "CO2e" else gwp_table.canonical_gas(gas)
            gases[name] = gases.get(name, 0.0) + kg * to_factor_unit
        biogenic_pu = factor.biogenic_co2 * to_factor_unit
        if record.activity.startswith("pcf."):
            method = "supplier-specific"
        elif is_currency(factor.unit):
            method = "spend"
        else:
            method = "activity"
        if method == "supplier-specific" and factor.primary_share is None:
            flags.append("pcf:no-primary-share")  # counted as secondary data
        scope, category = self._place(factor, record)
        group = _Group(
            scope=scope,
            category=category,
            co2e_pu=co2e_pu,
            market_pu=math.nan,
            biogenic_pu=biogenic_pu,
            gases_pu=gases,
            factor=factor,
            factor_ref=factor.ref,
            gwp=basis,
            method=method,
            primary_share=(factor.primary_share or 0.0) if method == "supplier-specific" else 0.0,
            supplier=method == "supplier-specific",
            dqr=factor.dqr,
            uptake_pu=factor.biogenic_uptake * to_factor_unit,
            flags=tuple(flags),
            gwp_parts=tuple(dict.fromkeys((basis, published_basis)))
            if "CO2e" in factor.gases
            else (basis,),
        )
        if scope == "outside":
            # Outside of scopes (e.g. DESNZ "Outside of scopes" biogenic rows): CO2 is biogenic.
            group.biogenic_pu += gases.pop("CO2", 0.0)
            group.co2e_pu = 0.0
            group.gases_pu = {}
        if record.instrument and scope != "2":
            raise InstrumentError(record.instrument, "instruments apply only to Scope 2 records")
        if scope == "2":
            self._market(group, factor, record)
        return group

    def _place(self, factor: EmissionFactor, record: ActivityRecord) -> tuple[str, str]:
        """Scope and inventory category (Corporate Standard ch. 4; Scope 3 Standard ch. 5)."""
        if record.scope3_category is not None:
            return "3", f"scope3.cat{record.scope3_category}"
        category = factor.category.strip()
        if factor.scope == "1":
            return "1", f"scope1.{category.removeprefix('scope1.')}"
        if factor.scope == "2":
            return "2", f"scope2.{category.removeprefix('scope2.')}"
        if factor.scope == "3":
            number = _scope3_number(category)
            if number is None:
                raise CategoryError(
                    f"factor {factor.ref} has Scope 3 category {category!r}; give the record a "
                    "scope3_category (1..15)"
                )
            return "3", f"scope3.cat{number}"
        if factor.scope == "outside":
            return "outside", "outside_of_scopes"
        raise CategoryError(f"factor {factor.ref} has unknown scope {factor.scope!r}")

    def _market(self, group: _Group, factor: EmissionFactor, record: ActivityRecord) -> None:
        """Market-based Scope 2 per the Scope 2 Guidance hierarchy (ch. 6, Table 6.3)."""
        if record.instrument:
            instrument = parse_instrument(record.instrument)
            check_market_boundary(instrument, record.region)
            dated = check_vintage(instrument, record.period_start, record.period_end)
            if instrument.kind == "certificate" and not dated:
                group.flags = (*group.flags, "instrument:no-vintage")
            group.market_pu = instrument.kg_co2e_per_kwh * conversion_factor(record.unit, "kWh")
            group.market_basis = instrument.basis
            group.market_factor_ref = f"instrument:{record.instrument}"
            group.primary_share = 1.0
            return
        if factor.category.removeprefix("scope2.") == "electricity":
            try:
                residual = self._lookup(RESIDUAL_MIX_ACTIVITY, record)
            except FactorNotFoundError:
                residual = None
            if residual is not None and residual.region in (record.region, _country(record.region)):
                to_unit = conversion_factor(record.unit, residual.unit)
                group.market_pu, _ = self._per_unit(residual, to_unit)
                group.market_basis = "residual-mix"
                group.market_factor_ref = residual.ref
                return
        group.market_pu = group.co2e_pu
        group.market_basis = "location-fallback"
        group.market_factor_ref = factor.ref
        group.flags = (*group.flags, "market:location-fallback")


# -- lazy per-record results ----------------------------------------------------------------


class RecordResults(LazySequence[RecordResult]):
    """Per-record results built on demand from the engine's arrays (a million stay cheap)."""

    def __init__(
        self,
        records: Sequence[ActivityRecord],
        positions: npt.NDArray[np.int64],
        group_index: npt.NDArray[np.int64],
        groups: Sequence[_Group],
        co2e: FloatArray,
        market: FloatArray,
        biogenic: FloatArray,
        primary: FloatArray,
        record_flags: Mapping[int, tuple[str, ...]] | None = None,
        dqr: npt.NDArray[np.float64] | None = None,
        uptake: FloatArray | None = None,
    ) -> None:
        self._dqr = dqr
        self._uptake = uptake
        self._record_flags: Mapping[int, tuple[str, ...]] = record_flags or {}
        self._records = records
        self._positions = positions
        self._group_index = group_index
        self._groups = groups
        self._co2e = co2e
        self._market = market
        self._biogenic = biogenic
        self._primary = primary

    def __len__(self) -> int:
        return int(self._positions.shape[0])

    def __iter__(self) -> Iterator[RecordResult]:
        for i in range(len(self)):
            yield self._build(i)

    def flag_counts(self) -> dict[str, int]:
        """How many records carry each flag, counted per group without building results."""
        counts = np.bincount(
            self._group_index[self._positions], minlength=len(self._groups)
        ).tolist()
        out: dict[str, int] = {}
        for group, count in zip(self._groups, counts, strict=True):
            for flag in group.flags:
                out[flag] = out.get(flag, 0) + int(count)
        for flags in self._record_flags.values():
            for flag in flags:
                out[flag] = out.get(flag, 0) + 1
        return out

    def _dqr_of(self, pos: int) -> tuple[float, float, float] | None:
        if self._dqr is None or math.isnan(self._dqr[pos, 0]):
            return None
        t, g, ti = (float(v) for v in self._dqr[pos])
        return (t, g, ti)

    def _build(self, i: int) -> RecordResult:
        pos = int(self._positions[i])
        record = self._records[pos]
        group = self._groups[int(self._group_index[pos])]
        market = float(self._market[pos])
        return RecordResult(
            record_id=record.record_id,
            activity=record.activity,
            scope=group.scope,
            category=group.category,
            co2e_kg=float(self._co2e[pos]),
            co2e_market_kg=None if math.isnan(market) else market,
            gases_kg=MappingProxyType({g: record.quantity * v for g, v in group.gases_pu.items()}),
            biogenic_co2_kg=float(self._biogenic[pos]),
            factor=group.factor,
            factor_ref=group.factor_ref,
            gwp=group.gwp,
            method=group.method,
            primary=bool(self._primary[pos] > 0),
            primary_share=float(self._primary[pos]),
            dqr=self._dqr_of(pos),
            biogenic_uptake_kg=0.0 if self._uptake is None else float(self._uptake[pos]),
            region=record.region,
            year=record.period_start.year,
            market_basis=group.market_basis,
            market_factor_ref=group.market_factor_ref,
            flags=group.flags + self._record_flags.get(pos, ()),
            quantity=record.quantity,
            unit=record.unit,
            row=record.row,
        )


# -- the engine --------------------------------------------------------------------------------


def _with_group_size(
    exc: AccountingError,
    records: Sequence[ActivityRecord],
    group_list: list[int] | npt.NDArray[np.int64],
) -> AccountingError:
    """Say how many other records share the failing record's activity, region and unit."""
    failing = next((i for i, r in enumerate(records) if r.record_id == exc.record_id), None)
    if failing is None:
        return exc
    others = int(np.count_nonzero(np.asarray(group_list) == group_list[failing])) - 1
    if others > 0:
        exc.message += f" (and {others} more record(s) with the same activity, region and unit)"
        exc.args = (str(exc),)
    return exc


def compute_footprint(
    records: Sequence[ActivityRecord],
    catalog: FactorCatalog | None = None,
    *,
    gwp: str = gwp_table.DEFAULT_GWP,
    strict_gwp: bool = False,
) -> Footprint:
    """Compute a GHG inventory from activity records (method in the module docstring).

    Args:
        records: canonical activity records; ``output.*`` records become ``Footprint.outputs``.
        catalog: factor datasets to use; the built-in catalog when None.
        gwp: GWP100 set, ``"AR6"`` (default), ``"AR5"`` or ``"AR4"``.
        strict_gwp: refuse a total that would add CO2e-only factors published with another
            GWP set than ``gwp`` (by default they are added as published and
            ``Footprint.gwp_sets`` names every set behind the total).

    Raises:
        AccountingError: a subclass naming the record id (and file row) that could not be
            accounted for: unknown activity, no factor for the region, a unit that does not
            convert to the factor's unit, an unknown gas, a malformed instrument, an unknown
            region code; a result that is not a finite number (``NonFiniteTotalError``); a
            mix of GWP sets with ``strict_gwp`` (``MixedGwpError``).
    """
    if gwp not in gwp_table.GWP_SETS:
        raise UnknownGwpSetError(gwp, gwp_table.GWP_SETS)
    n = len(records)
    keys: dict[tuple[object, ...], int] = {}
    firsts: list[int] = []
    group_list: list[int] = [0] * n
    primary_list: list[float] = [0.0] * n
    dqr_rows: dict[int, tuple[float, float, float]] = {}
    record_flags: dict[int, tuple[str, ...]] = {}
    first_of_row: dict[tuple[object, ...], str] = {}
    for i, r in enumerate(records):
        row_key = (
            *(r.period_start, r.period_end, r.site, r.activity, r.quantity, r.unit, r.region),
            *(r.scope3_category, r.supplier, r.customer, r.product, r.instrument),
        )
        first_id = first_of_row.setdefault(row_key, r.record_id)
        if first_id != r.record_id:
            # Same activity, amount, period, site and counterparties under another id: most
            # likely a row exported twice. Counted, but flagged so the reviewer decides.
            record_flags[i] = (f"possible-duplicate-of:{first_id}",)
        if r.quantity < 0 and r.activity.startswith("release."):
            # A negative release is gas recovered, or a data error: a release is a mass of gas
            # emitted (the GHG Protocol's mass-balance method nets recovery inside one figure).
            record_flags[i] = (*record_flags.get(i, ()), "negative-release")
        key: tuple[object, ...] = (
            *(r.activity, r.region, r.unit, r.period_start.year, r.scope3_category, r.instrument),
        )
        if r.instrument:  # a certificate's vintage is checked against the record's own period
            key = (*key, r.period_start, r.period_end)
        gi = keys.get(key)
        if gi is None:
            gi = keys[key] = len(firsts)
            firsts.append(i)
        group_list[i] = gi
        if r.data_quality:
            try:
                quality = parse_data_quality(r.data_quality)
            except AccountingError as exc:
                raise exc.for_record(r.record_id, r.row) from None
            primary_list[i] = 1.0 if quality.primary else 0.0
            if quality.dqr is not None:
                dqr_rows[i] = quality.dqr
    calculator = _Calculator(catalog, gwp)
    try:
        groups = [calculator.group(records[i]) for i in firsts]
    except AccountingError as exc:
        raise _with_group_size(exc, records, group_list) from exc.__cause__

    group_index = np.asarray(group_list, dtype=np.int64)
    if isinstance(records, ActivityTable):
        quantity = records.quantities
    else:
        quantity = np.fromiter((r.quantity for r in records), dtype=np.float64, count=n)

    def per_group(values: list[float]) -> FloatArray:
        return np.asarray(values, dtype=np.float64)

    g_co2e = per_group([g.co2e_pu for g in groups])
    g_market = per_group([g.market_pu for g in groups])
    g_bio = per_group([g.biogenic_pu for g in groups])
    g_primary = per_group([g.primary_share for g in groups])
    g_supplier = np.asarray([g.supplier for g in groups], dtype=np.bool_)
    g_uptake = per_group([g.uptake_pu for g in groups])
    g_scope = np.asarray([_SCOPE_CODES[g.scope] for g in groups], dtype=np.int64)
    categories = sorted({g.category for g in groups if g.scope in ("1", "2", "3")})
    g_category = np.asarray(
        [categories.index(g.category) if g.scope in ("1", "2", "3") else -1 for g in groups],
        dtype=np.int64,
    )

    with np.errstate(over="ignore"):  # an overflow is refused by _check_finite below
        co2e = quantity * g_co2e[group_index]
        market = quantity * g_market[group_index]
        biogenic = quantity * g_bio[group_index]
    # A supplier PCF brings its own primary data share (PACT Methodology 4.2.2: the share is
    # inherited from inputs, weighted by emissions); otherwise a record marked primary, or a
    # contractual instrument, is primary in full.
    own_primary = np.asarray(primary_list, dtype=np.float64)
    primary = np.where(
        g_supplier[group_index],
        g_primary[group_index],
        np.maximum(own_primary, g_primary[group_index]),
    )
    uptake = quantity * g_uptake[group_index]
    g_dqr = np.asarray(
        [g.dqr if g.dqr is not None else (math.nan,) * 3 for g in groups], dtype=np.float64
    ).reshape(len(groups), 3)
    dqr = g_dqr[group_index]
    for i, values in dqr_rows.items():
        dqr[i] = values
    scope = g_scope[group_index]
    # Contribution to the reported total: market-based for Scope 2, nothing outside the scopes.
    counted = np.where(scope == _SCOPE2, market, co2e)
    counted = np.where(scope >= _OUTSIDE, 0.0, counted)

    _check_finite(records, co2e, market)
    with np.errstate(over="ignore"):
        scope1 = float(co2e[scope == _SCOPE1].sum())
        scope2_location = float(co2e[scope == _SCOPE2].sum())
        scope2_market = float(market[scope == _SCOPE2].sum())
        scope3 = float(co2e[scope == _SCOPE3].sum())
    total = scope1 + scope2_market + scope3
    if not math.isfinite(total) or not math.isfinite(scope2_location):
        largest = int(np.argmax(np.abs(counted)))
        raise NonFiniteTotalError(
            f"the total overflows a float (largest record {records[largest].record_id!r}, "
            f"{counted[largest]:.3g} kg CO2e): check the quantities and units",
        )
    gwp_sets, by_set = _gwp_sets(gwp, groups, group_index, counted, strict=strict_gwp)

    by_category: dict[str, float] = {}
    primary_by_category: dict[str, float] = {}
    if categories:
        cat = g_category[group_index]
        mask = cat >= 0
        sums = np.bincount(cat[mask], weights=counted[mask], minlength=len(categories))
        by_category = {name: float(sums[k]) for k, name in enumerate(categories)}
        weights = (counted * primary)[mask]
        sums = np.bincount(cat[mask], weights=weights, minlength=len(categories))
        primary_by_category = {name: float(sums[k]) for k, name in enumerate(categories)}

    qty_per_group = np.bincount(group_index, weights=quantity, minlength=len(groups))
    by_gas: dict[str, float] = {}
    for k, grp in enumerate(groups):
        if grp.scope not in ("1", "2", "3"):
            continue
        for gas, per_unit in grp.gases_pu.items():
            by_gas[gas] = by_gas.get(gas, 0.0) + float(qty_per_group[k]) * per_unit

    primary_total = float((counted * primary).sum())
    known = ~np.isnan(dqr[:, 0]) & (counted > 0)
    rated = float(counted[known].sum())
    mean_dqr: tuple[float, float, float] | None = None
    if rated > 0:
        t, g, ti = (float(v) for v in (dqr[known] * counted[known, None]).sum(axis=0) / rated)
        mean_dqr = (t, g, ti)
    positive = float(counted[counted > 0].sum())
    share = min(1.0, max(0.0, primary_total / total)) if total > 0 else 0.0

    is_output = np.asarray([g.output for g in groups], dtype=np.bool_)
    record_is_output = is_output[group_index]
    outputs = [
        OutputLine(
            record_id=records[i].record_id,
            product=records[i].product or records[i].activity[len("output.") :],
            quantity=records[i].quantity,
            unit=records[i].unit,
            customer=records[i].customer,
            period_start=records[i].period_start,
            period_end=records[i].period_end,
            site=records[i].site,
        )
        for i in np.flatnonzero(record_is_output).tolist()
    ]
    results = RecordResults(
        records,
        np.flatnonzero(~record_is_output).astype(np.int64),
        group_index,
        groups,
        co2e,
        market,
        biogenic,
        primary,
        record_flags,
        dqr,
        uptake,
    )
    period = (
        records.period_bounds()
        if isinstance(records, ActivityTable)
        else (
            min((r.period_start for r in records), default=None),
            max((r.period_end for r in records), default=None),
        )
    )
    return Footprint(
        gwp=gwp,
        scope1_kgco2e=scope1,
        scope2_location_kgco2e=scope2_location,
        scope2_market_kgco2e=scope2_market,
        scope3_kgco2e=scope3,
        by_category=MappingProxyType(by_category),
        by_gas=MappingProxyType(by_gas),
        biogenic_co2_kg=float(biogenic.sum()),
        primary_data_share=share,
        records=results,
        outputs=tuple(outputs),
        period_start=period[0],
        period_end=period[1],
        primary_by_category=MappingProxyType(primary_by_category),
        gwp_sets=gwp_sets,
        kgco2e_by_gwp_set=MappingProxyType(by_set),
        dqr=mean_dqr,
        dqr_coverage=rated / positive if positive > 0 else 0.0,
        biogenic_uptake_kg=float(uptake.sum()),
    )


def _check_finite(records: Sequence[ActivityRecord], *arrays: FloatArray) -> None:
    """Refuse a per-record result that overflowed to Infinity before anything is summed."""
    for values in arrays:
        bad = np.flatnonzero(np.isinf(values))
        if bad.size:
            record = records[int(bad[0])]
            raise NonFiniteTotalError(
                f"the emissions overflow a float ({record.quantity:g} {record.unit}): check "
                "the quantity and unit",
                record_id=record.record_id,
                row=record.row,
            )


def _gwp_sets(
    gwp: str,
    groups: Sequence[_Group],
    group_index: npt.NDArray[np.int64],
    counted: FloatArray,
    *,
    strict: bool,
) -> tuple[tuple[str, ...], dict[str, float]]:
    """The GWP sets behind the counted total, and CO2e per set.

    A group whose factor has a CO2e part published in another set counts under that set.
    """
    per_group = np.bincount(group_index, weights=counted, minlength=len(groups))
    by_set: dict[str, float] = {}
    foreign: dict[str, set[str]] = {}
    for k, group in enumerate(groups):
        if group.scope not in ("1", "2", "3") or per_group[k] == 0:
            continue
        others = [p for p in group.gwp_parts if p != gwp]
        key = others[0] if others else gwp
        by_set[key] = by_set.get(key, 0.0) + float(per_group[k])
        for other in others:
            foreign.setdefault(other, set()).add(group.factor_ref)
    if strict and foreign:
        detail = "; ".join(f"{s} in {', '.join(sorted(r)[:3])}" for s, r in foreign.items())
        raise MixedGwpError(
            f"the total would mix GWP sets: {gwp} was chosen, but CO2e-only factors use "
            f"{detail}; they have no gas split to convert, so choose their set or give "
            "gas-level factors"
        )
    return (gwp, *sorted(foreign)), by_set


__all__ = [
    "Footprint",
    "OutputLine",
    "RecordResult",
    "RecordResults",
    "compute_footprint",
]
