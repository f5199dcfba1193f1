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
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from fedcarbon.accounting import gwp as gwp_table
from fedcarbon.accounting.activity_table import ActivityTable
from fedcarbon.accounting.errors import (
    AccountingError,
    CategoryError,
    FactorNotFoundError,
    InstrumentError,
    UnknownGwpSetError,
)
from fedcarbon.accounting.factors import EmissionFactor, FactorCatalog
from fedcarbon.accounting.instruments import check_market_boundary, parse_instrument
from fedcarbon.accounting.records import ActivityRecord
from fedcarbon.accounting.units import conversion_factor, is_currency

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
    primary: bool = False
    market_basis: str | None = None
    market_factor_ref: str | None = None
    flags: tuple[str, ...] = ()
    output: bool = False


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

    def _per_unit(self, factor: EmissionFactor, record: ActivityRecord) -> tuple[float, str]:
        """CO2e per record unit, and the GWP basis behind it.

        Gases are weighted with the chosen set; a ``CO2e`` entry (a publisher's CO2e for gases
        it does not split, or the whole factor) is added as published.
        """
        to_factor_unit = conversion_factor(record.unit, factor.unit)
        co2e = gwp_table.co2e_kg(factor.gases, self.gwp)
        only_co2e = set(factor.gases) == {"CO2e"}
        basis = (factor.co2e_gwp_basis or "unknown") if only_co2e else self.gwp
        return to_factor_unit * co2e, basis

    def _factored(self, record: ActivityRecord) -> _Group:
        factor = self._lookup(record.activity, record)
        to_factor_unit = conversion_factor(record.unit, factor.unit)
        co2e_pu, basis = self._per_unit(factor, record)
        published_basis = factor.co2e_gwp_basis or "unknown"
        flags: list[str] = []
        if factor.region != record.region:
            flags.append(f"factor-region:{factor.region}")
        if factor.year > record.period_start.year:
            flags.append(f"factor-year:{factor.year}")
        if "CO2e" in factor.gases and published_basis != self.gwp:
            flags.append(f"co2e-as-published:{published_basis}")
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
            primary=method == "supplier-specific",
            flags=tuple(flags),
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
            group.market_pu = instrument.kg_co2e_per_kwh * conversion_factor(record.unit, "kWh")
            group.market_basis = instrument.basis
            group.market_factor_ref = f"instrument:{record.instrument}"
            group.primary = True
            return
        if factor.category.removeprefix("scope2.") == "electricity":
            try:
                residual = self._lookup(RESIDUAL_MIX_ACTIVITY, record)
            except FactorNotFoundError:
                residual = None
            if residual is not None and residual.region in (record.region, _country(record.region)):
                group.market_pu, _ = self._per_unit(residual, record)
                group.market_basis = "residual-mix"
                group.market_factor_ref = residual.ref
                return
        group.market_pu = group.co2e_pu
        group.market_basis = "location-fallback"
        group.market_factor_ref = factor.ref
        group.flags = (*group.flags, "market:location-fallback")


# -- lazy per-record results ----------------------------------------------------------------


class RecordResults(Sequence[RecordResult]):
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
        primary: npt.NDArray[np.bool_],
    ) -> None:
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

    @overload
    def __getitem__(self, index: int) -> RecordResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[RecordResult]: ...

    def __getitem__(self, index: int | slice) -> RecordResult | list[RecordResult]:
        if isinstance(index, slice):
            return [self._build(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._build(index)

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
        return out

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
            primary=bool(self._primary[pos]),
            market_basis=group.market_basis,
            market_factor_ref=group.market_factor_ref,
            flags=group.flags,
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
) -> Footprint:
    """Compute a GHG inventory from activity records (method in the module docstring).

    Args:
        records: canonical activity records; ``output.*`` records become ``Footprint.outputs``.
        catalog: factor datasets to use; the built-in catalog when None.
        gwp: GWP100 set, ``"AR6"`` (default) or ``"AR5"``.

    Raises:
        AccountingError: a subclass naming the record id (and file row) that could not be
            accounted for: unknown activity, no factor for the region, a unit that does not
            convert to the factor's unit, an unknown gas, a malformed instrument.
    """
    if gwp not in gwp_table.GWP_SETS:
        raise UnknownGwpSetError(gwp, gwp_table.GWP_SETS)
    n = len(records)
    keys: dict[tuple[object, ...], int] = {}
    firsts: list[int] = []
    group_list: list[int] | npt.NDArray[np.int64] = [0] * n
    primary_list: list[bool] | npt.NDArray[np.bool_] = [False] * n
    if isinstance(records, ActivityTable):  # columns: the same groups without a Python loop
        group_list, firsts, primary_list = records.grouping()
    for i, r in enumerate(() if isinstance(records, ActivityTable) else records):
        key = (r.activity, r.region, r.unit, r.period_start.year, r.scope3_category, r.instrument)
        gi = keys.get(key)
        if gi is None:
            gi = keys[key] = len(firsts)
            firsts.append(i)
        group_list[i] = gi
        dq = r.data_quality
        if dq is not None and dq.lower() == "primary":
            primary_list[i] = True
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
    g_primary = np.asarray([g.primary for g in groups], dtype=np.bool_)
    g_scope = np.asarray([_SCOPE_CODES[g.scope] for g in groups], dtype=np.int64)
    categories = sorted({g.category for g in groups if g.scope in ("1", "2", "3")})
    g_category = np.asarray(
        [categories.index(g.category) if g.scope in ("1", "2", "3") else -1 for g in groups],
        dtype=np.int64,
    )

    co2e = quantity * g_co2e[group_index]
    market = quantity * g_market[group_index]
    biogenic = quantity * g_bio[group_index]
    primary = np.asarray(primary_list, dtype=np.bool_) | g_primary[group_index]
    scope = g_scope[group_index]
    # Contribution to the reported total: market-based for Scope 2, nothing outside the scopes.
    counted = np.where(scope == _SCOPE2, market, co2e)
    counted = np.where(scope >= _OUTSIDE, 0.0, counted)

    scope1 = float(co2e[scope == _SCOPE1].sum())
    scope2_location = float(co2e[scope == _SCOPE2].sum())
    scope2_market = float(market[scope == _SCOPE2].sum())
    scope3 = float(co2e[scope == _SCOPE3].sum())
    total = scope1 + scope2_market + scope3

    by_category: dict[str, float] = {}
    primary_by_category: dict[str, float] = {}
    if categories:
        cat = g_category[group_index]
        mask = cat >= 0
        sums = np.bincount(cat[mask], weights=counted[mask], minlength=len(categories))
        by_category = {name: float(sums[k]) for k, name in enumerate(categories)}
        mask &= primary
        sums = np.bincount(cat[mask], weights=counted[mask], minlength=len(categories))
        primary_by_category = {name: float(sums[k]) for k, name in enumerate(categories)}

    qty_per_group = np.bincount(group_index, weights=quantity, minlength=len(groups))
    by_gas: dict[str, float] = {}
    for k, grp in enumerate(groups):
        if grp.scope not in ("1", "2", "3"):
            continue
        for gas, per_unit in grp.gases_pu.items():
            by_gas[gas] = by_gas.get(gas, 0.0) + float(qty_per_group[k]) * per_unit

    primary_total = float(counted[primary].sum())
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
    )


__all__ = [
    "Footprint",
    "OutputLine",
    "RecordResult",
    "RecordResults",
    "compute_footprint",
]
