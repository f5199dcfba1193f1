"""Emission factors: versioned, cited datasets and the catalog that picks one factor per activity.

A factor is "kg of each gas emitted per unit of activity" (GHG Protocol Corporate Standard
ch. 6: emissions = activity data x emission factor). Gases are kept apart so the engine can
apply the GWP set the user chose; only when a publisher gives no gas split is a factor a bare
CO2e value, and then it says which GWP set (``co2e_gwp_basis``) stands behind it.

File format (``data/*.csv``, and any organisation's own file), one row per factor:

    activity,region,unit,scope,category,gases,co2e,co2e_gwp_basis,biogenic_co2,year,
    source,source_ref,licence,description

* ``gases``: ``GAS=kg;GAS=kg`` (``CO2=0.18;CH4=1.1e-05;N2O=3.5e-06``), kg of gas per ``unit``;
  may be empty when only ``co2e`` is known.
* ``co2e`` + ``co2e_gwp_basis``: the publisher's CO2e per unit and its GWP set. With ``gases``
  given it is only a cross-check (``EmissionFactor.published_co2e``); without, it is the factor.
* a ``CO2e=`` entry inside ``gases`` is a part the publisher gives only as CO2e (the US EPA's
  "HFCs and PFCs, unspecified"); it is added as is, and ``co2e_gwp_basis`` names its GWP set.
* optional ``dataset``/``dataset_version`` columns name the dataset of an organisation's file;
  otherwise the file stem is the id and the version is ``local``.

Built-in datasets are listed, in precedence order (first wins), in ``data/datasets.json``.

Lookup rules (``FactorCatalog.lookup``), all deterministic:

1. Layers: a catalog built with ``overlay`` is searched top layer first, and the first layer
   that has the activity for the region (after fallback) wins, so an organisation's own factor
   beats every built-in one. Inside the built-ins the manifest order is the precedence:
   DESNZ 2023 (UK, region GB) > Ember grid > IPCC 2006 (GLOBAL) > US EPA spend factors.
2. Region, within one layer: the exact region (``GB-SCT``), then its country (``GB``), then
   ``GLOBAL``. So a German natural-gas record gets the IPCC GLOBAL factor, a British one DESNZ.
3. Unit: when ``unit`` is given, only factors whose unit has the same dimension count (a litre
   record never gets a per-kWh factor); otherwise the dataset's first row for that activity.
4. Year: the newest factor year <= ``year``; when every factor is newer, the oldest one.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from fedcarbon.accounting.errors import (
    DatasetError,
    FactorNotFoundError,
    UnitError,
    UnknownActivityError,
)
from fedcarbon.accounting.units import dimension_of

FACTOR_COLUMNS: tuple[str, ...] = (
    "activity",
    "region",
    "unit",
    "scope",
    "category",
    "gases",
    "co2e",
    "co2e_gwp_basis",
    "biogenic_co2",
    "year",
    "source",
    "source_ref",
    "licence",
    "description",
)
"""Columns of a factor dataset file, in the order the derivation scripts write them."""

_REQUIRED = ("activity", "region", "unit", "scope", "category", "year", "source", "licence")
_SCOPES = ("1", "2", "3", "outside")
MANIFEST = "datasets.json"

US_ECONOMY_DATASETS: frozenset[str] = frozenset({"epa-supply-chain-v1.2"})
"""Built-in spend factors of the US economy (USEEIO); used elsewhere only as a proxy, which the
engine flags per record (``spend:us-economy-factor-for:<region>``)."""

LIFECYCLE_DATASETS: frozenset[str] = frozenset({"ember-grid"})
"""Built-in datasets that split a published lifecycle grid intensity (IPCC AR5 WGIII Annex III)
into a combustion part (Scope 2, ``electricity.grid``) and an upstream part (Scope 3 category 3,
``wtt.electricity.grid``) with a combustion share modelled from the generation mix
(``scripts/derive_grid.py``); the engine flags their use (``location:combustion-share-modelled``)
because the split is an estimate, not a published combustion-only factor."""


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """Who published a dataset, under which licence, and how to credit it."""

    id: str
    version: str
    title: str
    publisher: str
    year: int
    licence: str
    attribution: str
    url: str
    file: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class EmissionFactor:
    """kg of each gas per unit of one activity in one region, with where the number came from.

    ``published_co2e``/``published_gwp_basis`` keep the publisher's own CO2e total when the
    factor also has a gas split (a cross-check, not used in calculation); ``description`` is
    the publisher's wording of the row. Supplier PCFs (``pact.factors_from_pact``) also carry
    their primary data share, data quality ratings and biogenic uptake, which the engine
    passes on to the footprint.
    """

    dataset: str
    dataset_version: str
    activity: str
    region: str
    unit: str
    gases: Mapping[str, float]
    co2e_gwp_basis: str | None
    biogenic_co2: float
    scope: str
    category: str
    source: str
    source_ref: str
    year: int
    licence: str
    published_co2e: float | None = None
    published_gwp_basis: str | None = None
    description: str = ""
    primary_share: float | None = None
    """Fraction 0..1 of the factor that rests on primary data (a supplier PCF's share)."""
    dqr: tuple[float, float, float] | None = None
    """Technological, geographical, temporal data quality ratings 1..5 (a supplier PCF's)."""
    biogenic_uptake: float = 0.0
    """kg CO2 taken up by biomass per unit (<= 0), reported apart from emissions."""

    @property
    def ref(self) -> str:
        """Stable reference ``dataset@version:activity/region`` for results and audit trails."""
        return f"{self.dataset}@{self.dataset_version}:{self.activity}/{self.region}"


@dataclass(frozen=True)
class _Layer:
    """One precedence level: factors indexed by activity code, in file order."""

    by_activity: Mapping[str, tuple[EmissionFactor, ...]]
    datasets: Mapping[str, DatasetInfo]


class FactorCatalog:
    """An ordered stack of factor datasets answering "which factor applies to this activity?"."""

    def __init__(self, layers: Sequence[_Layer] = ()) -> None:
        self._layers: tuple[_Layer, ...] = tuple(layers)  # index 0 = highest precedence
        merged: dict[str, DatasetInfo] = {}
        for layer in self._layers:  # precedence order; a higher layer's info wins
            for key, info in layer.datasets.items():
                merged.setdefault(key, info)
        self.datasets: Mapping[str, DatasetInfo] = MappingProxyType(merged)

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def default(cls) -> FactorCatalog:
        """All built-in datasets of the package, in the manifest's precedence order (cached)."""
        return _default_catalog()

    @classmethod
    def from_factors(
        cls, factors: Iterable[EmissionFactor], datasets: Iterable[DatasetInfo] = ()
    ) -> FactorCatalog:
        """A one-layer catalog from factor objects (e.g. supplier PCFs turned into factors)."""
        return cls([_layer(list(factors), {d.id: d for d in datasets})])

    @classmethod
    def from_files(cls, *paths: str | Path) -> FactorCatalog:
        """An organisation's own datasets: factor CSV files and/or ``datasets.json`` manifests.

        Earlier paths take precedence over later ones, like the built-in manifest order.
        """
        catalog = cls()
        for path in reversed([Path(p) for p in paths]):
            if path.suffix.lower() == ".json":
                layer_catalog = _catalog_from_manifest(path.read_text(encoding="utf-8"), path)
            else:
                factors, info = read_factor_csv(path)
                layer_catalog = cls([_layer(factors, {i.id: i for i in info})])
            catalog = catalog.overlay(layer_catalog)
        return catalog

    def overlay(self, other: FactorCatalog) -> FactorCatalog:
        """A new catalog in which ``other``'s factors win over this one's on lookup."""
        return FactorCatalog([*other._layers, *self._layers])

    # -- queries --------------------------------------------------------------------------
    def lookup(
        self, activity: str, region: str, year: int | None = None, *, unit: str | None = None
    ) -> EmissionFactor:
        """The factor for ``activity`` in ``region`` (see the module docstring for the rules).

        Args:
            activity: activity code, e.g. ``"fuel.natural_gas"``.
            region: ISO 3166-1 alpha-2, alpha-2 + ``-`` + subdivision, or ``"GLOBAL"``.
            year: reporting year; picks the newest factor year not after it.
            unit: the activity's unit; when given only dimension-compatible factors qualify.

        Raises:
            UnknownActivityError: no layer knows the activity at all.
            FactorNotFoundError: the activity exists, but not for this region or unit.
        """
        candidates = self.candidates(activity, region, unit=unit)
        if candidates:
            return _pick_year(candidates, year)
        if not any(activity in layer.by_activity for layer in self._layers):
            raise UnknownActivityError(activity, region)
        raise FactorNotFoundError(activity, region if unit is None else f"{region}, unit {unit}")

    def candidates(
        self, activity: str, region: str, *, unit: str | None = None
    ) -> list[EmissionFactor]:
        """Factors of the winning layer and region for ``activity`` (all years), best first."""
        for layer in self._layers:
            for candidate_region in region_fallbacks(region):
                found = [
                    f
                    for f in layer.by_activity.get(activity, ())
                    if f.region == candidate_region
                    and (unit is None or units_compatible(unit, f.unit))
                ]
                if found:
                    return found
        return []

    def search(self, text: str) -> list[EmissionFactor]:
        """Factors whose activity, region, category, source or description contain ``text``.

        Case-insensitive; every whitespace-separated word must match somewhere.
        """
        words = text.lower().split()
        return [
            f
            for f in self
            if all(
                w
                in " ".join(
                    (f.activity, f.region, f.category, f.source, f.description, f.dataset)
                ).lower()
                for w in words
            )
        ]

    def activities(self) -> list[str]:
        """All activity codes in the catalog, sorted."""
        return sorted({a for layer in self._layers for a in layer.by_activity})

    def __iter__(self) -> Iterator[EmissionFactor]:
        for layer in self._layers:
            for factors in layer.by_activity.values():
                yield from factors

    def __len__(self) -> int:
        return sum(len(fs) for layer in self._layers for fs in layer.by_activity.values())


def region_fallbacks(region: str) -> tuple[str, ...]:
    """Regions tried in order: exact, its country (``GB-SCT`` -> ``GB``), then ``GLOBAL``."""
    chain = [region]
    if "-" in region:
        chain.append(region.split("-", 1)[0])
    if region != "GLOBAL":
        chain.append("GLOBAL")
    return tuple(chain)


def _pick_year(factors: Sequence[EmissionFactor], year: int | None) -> EmissionFactor:
    """Newest factor year <= ``year`` (newest overall when ``year`` is None), else the oldest.

    Ties keep file order, so the first row for a year wins.
    """
    if year is None:
        newest = max(f.year for f in factors)
        return next(f for f in factors if f.year == newest)
    eligible = [f.year for f in factors if f.year <= year]
    chosen = max(eligible) if eligible else min(f.year for f in factors)
    return next(f for f in factors if f.year == chosen)


# -- units ------------------------------------------------------------------------------------
@functools.cache
def _dimension(unit: str) -> str | None:
    """Dimensionality of a unit string in the shared registry, or None when it is unreadable."""
    try:
        return dimension_of(unit)
    except UnitError:
        return None


def units_compatible(a: str, b: str) -> bool:
    """True when two unit strings measure the same thing (equal strings always are)."""
    if a == b:
        return True
    da, db = _dimension(a), _dimension(b)
    return da is not None and da == db


# -- reading files ----------------------------------------------------------------------------
def parse_gases(text: str) -> dict[str, float]:
    """Parse ``CO2=0.18;CH4=1e-05`` into ``{"CO2": 0.18, "CH4": 1e-05}``."""
    gases: dict[str, float] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected GAS=kg, got {part!r}")
        gases[name.strip()] = float(value)
    return gases


def format_gases(gases: Mapping[str, float]) -> str:
    """Inverse of ``parse_gases``, with ``repr`` floats so a round trip is exact."""
    return ";".join(f"{name}={value!r}" for name, value in gases.items())


def _float(row: Mapping[str, str], name: str, default: float | None = None) -> float | None:
    text = (row.get(name) or "").strip()
    if not text:
        return default
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number")
    return value


def parse_factor_rows(
    rows: Iterable[Mapping[str, str]],
    *,
    dataset: str,
    version: str,
    where: str,
    first_line: int = 2,
) -> list[EmissionFactor]:
    """Turn CSV rows into factors; ``dataset``/``version`` apply where a row names none.

    Raises:
        DatasetError: naming ``where``, the line and the column of the first bad cell.
    """
    factors: list[EmissionFactor] = []
    for line, row in enumerate(rows, start=first_line):
        column = ""
        try:
            for column in _REQUIRED:
                if not (row.get(column) or "").strip():
                    raise ValueError("is required")
            column = "scope"
            scope = row["scope"].strip()
            if scope not in _SCOPES:
                raise ValueError(f"must be one of {', '.join(_SCOPES)}")
            column = "gases"
            gases = parse_gases(row.get("gases") or "")
            split = bool(gases)
            column = "co2e"
            co2e = _float(row, "co2e")
            basis = (row.get("co2e_gwp_basis") or "").strip() or None
            if not gases:
                if co2e is None:
                    raise ValueError("a row needs gases or co2e")
                gases = {"CO2e": co2e}
            if "CO2e" in gases and basis is None:
                column = "co2e_gwp_basis"
                raise ValueError("is required when the factor has a CO2e part")
            column = "biogenic_co2"
            biogenic = _float(row, "biogenic_co2", 0.0)
            column = "year"
            year = int(row["year"])
            factors.append(
                EmissionFactor(
                    dataset=(row.get("dataset") or "").strip() or dataset,
                    dataset_version=(row.get("dataset_version") or "").strip() or version,
                    activity=row["activity"].strip(),
                    region=row["region"].strip(),
                    unit=row["unit"].strip(),
                    gases=MappingProxyType(gases),
                    co2e_gwp_basis=basis if "CO2e" in gases else None,
                    biogenic_co2=biogenic if biogenic is not None else 0.0,
                    scope=scope,
                    category=row["category"].strip(),
                    source=row["source"].strip(),
                    source_ref=(row.get("source_ref") or "").strip(),
                    year=year,
                    licence=row["licence"].strip(),
                    published_co2e=co2e if split else None,
                    published_gwp_basis=basis if split else None,
                    description=(row.get("description") or "").strip(),
                )
            )
        except (ValueError, KeyError) as exc:
            raise DatasetError(where, str(exc), line=line, field=column or None) from None
    return factors


def write_factor_rows(rows: Iterable[Mapping[str, str]], path: str | Path) -> int:
    """Write a factor dataset file (``FACTOR_COLUMNS`` order, ``\n`` line ends); return rows.

    The derivation scripts all write through this, so every shipped file has one format.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FACTOR_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def read_factor_csv(
    path: str | Path, *, dataset: str | None = None, version: str = "local"
) -> tuple[list[EmissionFactor], list[DatasetInfo]]:
    """Read one factor file; returns its factors and a ``DatasetInfo`` per dataset it names."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DatasetError(str(path), f"cannot read: {exc.strerror}") from None
    factors = _parse_csv_text(text, dataset=dataset or path.stem, version=version, where=str(path))
    infos: dict[str, DatasetInfo] = {}
    for f in factors:
        infos.setdefault(
            f.dataset,
            DatasetInfo(
                id=f.dataset,
                version=f.dataset_version,
                title=f"Organisation dataset {path.name}",
                publisher=f.source,
                year=f.year,
                licence=f.licence,
                attribution=f.source,
                url=str(path),
                file=str(path),
            ),
        )
    return factors, list(infos.values())


def _parse_csv_text(text: str, *, dataset: str, version: str, where: str) -> list[EmissionFactor]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or ())]
    if missing:
        raise DatasetError(where, f"missing columns: {', '.join(missing)}", line=1)
    return parse_factor_rows(reader, dataset=dataset, version=version, where=where)


def _layer(factors: list[EmissionFactor], datasets: Mapping[str, DatasetInfo]) -> _Layer:
    by_activity: dict[str, list[EmissionFactor]] = {}
    for f in factors:
        by_activity.setdefault(f.activity, []).append(f)
    return _Layer(
        by_activity=MappingProxyType({a: tuple(fs) for a, fs in by_activity.items()}),
        datasets=MappingProxyType(dict(datasets)),
    )


def parse_manifest(text: str, where: str) -> list[DatasetInfo]:
    """Read a ``datasets.json`` manifest: a JSON list of DatasetInfo objects (with ``file``)."""
    try:
        entries = json.loads(text)
        return [
            DatasetInfo(
                id=str(e["id"]),
                version=str(e["version"]),
                title=str(e["title"]),
                publisher=str(e["publisher"]),
                year=int(e["year"]),
                licence=str(e["licence"]),
                attribution=str(e["attribution"]),
                url=str(e["url"]),
                file=str(e["file"]),
                notes=str(e.get("notes", "")),
            )
            for e in entries
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetError(where, f"bad manifest: {exc}") from None


def _catalog_from_manifest(text: str, path: Path) -> FactorCatalog:
    layers = []
    for info in parse_manifest(text, str(path)):
        csv_path = path.parent / info.file
        try:
            csv_text = csv_path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise DatasetError(str(csv_path), f"cannot read: {exc.strerror}") from None
        factors = _parse_csv_text(
            csv_text, dataset=info.id, version=info.version, where=str(csv_path)
        )
        layers.append(_layer(factors, {info.id: info}))
    return FactorCatalog(layers)


@functools.cache
def _default_catalog() -> FactorCatalog:
    data = resources.files("fedcarbon.accounting.data")
    layers = []
    manifest = data.joinpath(MANIFEST).read_text(encoding="utf-8")
    for info in parse_manifest(manifest, MANIFEST):
        text = data.joinpath(info.file).read_text(encoding="utf-8")
        factors = _parse_csv_text(text, dataset=info.id, version=info.version, where=info.file)
        layers.append(_layer(factors, {info.id: info}))
    return FactorCatalog(layers)


def builtin_dataset_path(name: str) -> Path:
    """Filesystem path of a built-in data file (for the derivation-determinism tests)."""
    return Path(str(resources.files("fedcarbon.accounting.data").joinpath(name)))


__all__ = [
    "FACTOR_COLUMNS",
    "DatasetInfo",
    "EmissionFactor",
    "FactorCatalog",
    "format_gases",
    "parse_factor_rows",
    "parse_gases",
    "read_factor_csv",
    "region_fallbacks",
    "units_compatible",
]
