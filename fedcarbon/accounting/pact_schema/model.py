"""The PACT v3 data model as frozen dataclasses, and its exact JSON import and export.

Each dataclass mirrors one object of the PACT Technical Specifications v3 data model
(``ProductFootprint``, ``CarbonFootprint``, ``DataQualityIndicators``...); every field carries
its PACT property name and JSON kind in its metadata, which is all ``parse_document`` and
``dump_footprint`` need. Decimals are ``Decimal`` and date-times ``datetime`` (subclasses that
remember how the document spelled them), so reading a v3 document and writing it back gives
the same JSON; properties the spec does not define are kept in each object's ``extra``.
Import refuses, naming the JSON path, only what the model cannot hold; ``validate`` in this
package reports every departure from the spec. v2.x footprints are upgraded first (``v2``).
"""

# ruff: noqa: RUF009  (``_p`` returns ``dataclasses.field(...)``; ruff only knows ``field``)
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from fedcarbon.accounting.pact_schema import document_kind, is_decimal
from fedcarbon.accounting.pact_schema.errors import PactDocumentError
from fedcarbon.accounting.pact_schema.v2 import is_v2, upgrade_v2

JSON = Any
"""A JSON value as ``json.loads`` returns it (kept as is in ``extra`` and extension data)."""


# -- value types that remember their spelling ---------------------------------------------------


class SpelledDecimal(Decimal):
    """A ``Decimal`` read from a document, remembering its text so export writes it unchanged.

    ``"+5"`` and ``"5"`` are equal decimals, but an exact round trip needs the original text.
    Arithmetic on it gives plain ``Decimal``s, which export writes in canonical form.
    """

    spelling: str

    def __new__(cls, text: str) -> SpelledDecimal:
        value = super().__new__(cls, text)
        value.spelling = text
        return value

    # Immutable like Decimal; copies and pickles keep the spelling (Decimal's would drop it).
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (type(self), (self.spelling,))

    def __copy__(self) -> SpelledDecimal:
        return self

    def __deepcopy__(self, memo: object) -> SpelledDecimal:
        return self


class SpelledDateTime(datetime):
    """A ``datetime`` read from a document, remembering its text (``Z`` or ``+00:00``...)."""

    spelling: str

    @classmethod
    def parse(cls, text: str) -> SpelledDateTime:
        """Parse an ISO 8601 / RFC 3339 date-time; raises ValueError when it is not one."""
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        value = cls.combine(parsed.date(), parsed.timetz())
        value.spelling = text
        return value

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, tuple[str]]:
        return (type(self).parse, (self.spelling,))

    def __copy__(self) -> SpelledDateTime:
        return self

    def __deepcopy__(self, memo: object) -> SpelledDateTime:
        return self


def _decimal_text(value: Decimal) -> str:
    spelling = getattr(value, "spelling", None)
    if isinstance(spelling, str):
        return spelling
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _datetime_text(value: datetime) -> str:
    spelling = getattr(value, "spelling", None)
    if isinstance(spelling, str):
        return spelling
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def to_decimal(value: float | Decimal) -> Decimal:
    """A decimal for export from a float: 12 significant digits, no binary noise."""
    if isinstance(value, Decimal):
        return value
    return Decimal(f"{value:.12g}")


# -- the data model ---------------------------------------------------------------------------


def _p(json_name: str, kind: str, default: Any = MISSING, **more: Any) -> Any:
    """A dataclass field tied to its PACT property name and JSON kind (used by load/dump)."""
    metadata = {"json": json_name, "kind": kind, **more}
    if default is MISSING:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


def _extra() -> Any:
    return field(default_factory=dict, metadata={"kind": "extra"})


@dataclass(frozen=True, kw_only=True)
class ProductOrSectorSpecificRule:
    """Product- or sector-specific rules (PCRs, PEFCRs) that governed the calculation."""

    operator: str = _p("operator", "str")
    rule_names: tuple[str, ...] = _p("ruleNames", "strs")
    other_operator_name: str | None = _p("otherOperatorName", "str", None)
    extra: Mapping[str, JSON] = _extra()


@dataclass(frozen=True, kw_only=True)
class EmissionFactorSource:
    """A secondary emission factor database and its version (e.g. ecoinvent 3.9.1)."""

    name: str = _p("name", "str")
    version: str = _p("version", "str")
    extra: Mapping[str, JSON] = _extra()


@dataclass(frozen=True, kw_only=True)
class DataQualityIndicators:
    """Data quality ratings, 1 (best) to 5, per the PACT Methodology section 4.2.3."""

    technological_dqr: Decimal = _p("technologicalDQR", "decimal")
    geographical_dqr: Decimal = _p("geographicalDQR", "decimal")
    temporal_dqr: Decimal = _p("temporalDQR", "decimal")
    extra: Mapping[str, JSON] = _extra()


@dataclass(frozen=True, kw_only=True)
class Verification:
    """Third-party verification of the footprint (was ``Assurance`` in v2)."""

    coverage: str | None = _p("coverage", "str", None)
    provider_name: str | None = _p("providerName", "str", None)
    completed_at: datetime | None = _p("completedAt", "datetime", None)
    standard_name: str | None = _p("standardName", "str", None)
    comments: str | None = _p("comments", "str", None)
    extra: Mapping[str, JSON] = _extra()


@dataclass(frozen=True, kw_only=True)
class DataModelExtension:
    """A PACT data model extension: a schema URL and the data conforming to it."""

    spec_version: str = _p("specVersion", "str")
    data_schema: str = _p("dataSchema", "str")
    data: Mapping[str, JSON] = _p("data", "json")
    documentation: str | None = _p("documentation", "str", None)
    extra: Mapping[str, JSON] = _extra()


@dataclass(frozen=True, kw_only=True)
class CarbonFootprint:
    """The ``pcf`` block: emissions per declared unit, boundary, period and data quality.

    Emission values are kgCO2e (carbon contents kgC, land occupation m2 year) per declared
    unit, the ``declared_unit_amount`` of ``declared_unit_of_measurement``. Two v3-required
    properties are optional here because v2 files may lack them (they are then reported by
    ``validate``): ``product_mass_per_declared_unit`` and ``pcf_including_biogenic_uptake``.
    """

    declared_unit_of_measurement: str = _p("declaredUnitOfMeasurement", "str")
    declared_unit_amount: Decimal = _p("declaredUnitAmount", "decimal")
    product_mass_per_declared_unit: Decimal | None = _p(
        "productMassPerDeclaredUnit", "decimal", None
    )
    reference_period_start: datetime = _p("referencePeriodStart", "datetime")
    reference_period_end: datetime = _p("referencePeriodEnd", "datetime")
    geography_region_or_subregion: str | None = _p("geographyRegionOrSubregion", "str", None)
    geography_country: str | None = _p("geographyCountry", "str", None)
    geography_country_subdivision: str | None = _p("geographyCountrySubdivision", "str", None)
    boundary_processes_description: str | None = _p("boundaryProcessesDescription", "str", None)
    pcf_excluding_biogenic_uptake: Decimal = _p("pcfExcludingBiogenicUptake", "decimal")
    pcf_including_biogenic_uptake: Decimal | None = _p(
        "pcfIncludingBiogenicUptake", "decimal", None
    )
    fossil_carbon_content: Decimal = _p("fossilCarbonContent", "decimal")
    biogenic_carbon_content: Decimal | None = _p("biogenicCarbonContent", "decimal", None)
    recycled_carbon_content: Decimal | None = _p("recycledCarbonContent", "decimal", None)
    fossil_ghg_emissions: Decimal = _p("fossilGhgEmissions", "decimal")
    land_use_change_ghg_emissions: Decimal | None = _p("landUseChangeGhgEmissions", "decimal", None)
    land_carbon_leakage: Decimal | None = _p("landCarbonLeakage", "decimal", None)
    land_management_fossil_ghg_emissions: Decimal | None = _p(
        "landManagementFossilGhgEmissions", "decimal", None
    )
    land_management_biogenic_co2_emissions: Decimal | None = _p(
        "landManagementBiogenicCO2Emissions", "decimal", None
    )
    land_management_biogenic_co2_removals: Decimal | None = _p(
        "landManagementBiogenicCO2Removals", "decimal", None
    )
    biogenic_co2_uptake: Decimal | None = _p("biogenicCO2Uptake", "decimal", None)
    biogenic_non_co2_emissions: Decimal | None = _p("biogenicNonCO2Emissions", "decimal", None)
    land_area_occupation: Decimal | None = _p("landAreaOccupation", "decimal", None)
    aircraft_ghg_emissions: Decimal | None = _p("aircraftGhgEmissions", "decimal", None)
    packaging_emissions_included: bool | None = _p("packagingEmissionsIncluded", "bool", None)
    packaging_ghg_emissions: Decimal | None = _p("packagingGhgEmissions", "decimal", None)
    packaging_biogenic_carbon_content: Decimal | None = _p(
        "packagingBiogenicCarbonContent", "decimal", None
    )
    outbound_logistics_ghg_emissions: Decimal | None = _p(
        "outboundLogisticsGhgEmissions", "decimal", None
    )
    ccs_technological_co2_capture_included: bool | None = _p(
        "ccsTechnologicalCO2CaptureIncluded", "bool", None
    )
    ccs_technological_co2_capture: Decimal | None = _p(
        "ccsTechnologicalCO2Capture", "decimal", None
    )
    technological_co2_capture_origin: str | None = _p("technologicalCO2CaptureOrigin", "str", None)
    technological_co2_removals: Decimal | None = _p("technologicalCO2Removals", "decimal", None)
    ccu_carbon_content: Decimal | None = _p("ccuCarbonContent", "decimal", None)
    ccu_calculation_approach: str | None = _p("ccuCalculationApproach", "str", None)
    ccu_credit_certification: str | None = _p("ccuCreditCertification", "str", None)
    ipcc_characterization_factors: tuple[str, ...] = _p("ipccCharacterizationFactors", "strs")
    cross_sectoral_standards: tuple[str, ...] = _p("crossSectoralStandards", "strs")
    product_or_sector_specific_rules: tuple[ProductOrSectorSpecificRule, ...] | None = _p(
        "productOrSectorSpecificRules", "objects", None, type=ProductOrSectorSpecificRule
    )
    exempted_emissions_percent: Decimal = _p("exemptedEmissionsPercent", "decimal")
    exempted_emissions_description: str | None = _p("exemptedEmissionsDescription", "str", None)
    allocation_rules_description: str | None = _p("allocationRulesDescription", "str", None)
    secondary_emission_factor_sources: tuple[EmissionFactorSource, ...] | None = _p(
        "secondaryEmissionFactorSources", "objects", None, type=EmissionFactorSource
    )
    primary_data_share: Decimal | None = _p("primaryDataShare", "decimal", None)
    dqi: DataQualityIndicators | None = _p("dqi", "object", None, type=DataQualityIndicators)
    verification: Verification | None = _p("verification", "object", None, type=Verification)
    extra: Mapping[str, JSON] = _extra()

    @property
    def geography(self) -> str:
        """The most specific geography given, or ``GLOBAL`` when none is (PACT: global)."""
        return (
            self.geography_country_subdivision
            or self.geography_country
            or self.geography_region_or_subregion
            or "GLOBAL"
        )


@dataclass(frozen=True, kw_only=True)
class ProductFootprint:
    """A PACT v3 ``ProductFootprint``: who made which product, and its carbon footprint."""

    id: str = _p("id", "str")
    spec_version: str = _p("specVersion", "str")
    preceding_pf_ids: tuple[str, ...] | None = _p("precedingPfIds", "strs", None)
    created: datetime = _p("created", "datetime")
    status: str = _p("status", "str")
    validity_period_start: datetime | None = _p("validityPeriodStart", "datetime", None)
    validity_period_end: datetime | None = _p("validityPeriodEnd", "datetime", None)
    company_name: str = _p("companyName", "str")
    company_ids: tuple[str, ...] = _p("companyIds", "strs")
    product_description: str = _p("productDescription", "str")
    product_ids: tuple[str, ...] = _p("productIds", "strs")
    product_classifications: tuple[str, ...] | None = _p("productClassifications", "strs", None)
    product_name_company: str = _p("productNameCompany", "str")
    comment: str | None = _p("comment", "str", None)
    pcf: CarbonFootprint = _p("pcf", "object", type=CarbonFootprint)
    extensions: tuple[DataModelExtension, ...] | None = _p(
        "extensions", "objects", None, type=DataModelExtension
    )
    extra: Mapping[str, JSON] = _extra()


_T = TypeVar("_T")


# -- import -----------------------------------------------------------------------------------


def _path(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{base}.{key}"
    return f"{base}[{key!r}]"


def _read_value(value: JSON, kind: str, where: str, meta: Mapping[str, Any]) -> Any:
    if kind == "str":
        if not isinstance(value, str):
            raise PactDocumentError(where, f"{value!r} is not a string")
        return value
    if kind == "decimal":
        if not isinstance(value, str):
            raise PactDocumentError(
                where, f"{value!r} is not a decimal string (PACT v3 writes numbers as strings)"
            )
        if not is_decimal(value):
            raise PactDocumentError(where, f"{value!r} is not a decimal")
        try:
            return SpelledDecimal(value)
        except InvalidOperation:  # pragma: no cover - is_decimal admits only valid decimals
            raise PactDocumentError(where, f"{value!r} is not a decimal") from None
    if kind == "datetime":
        if not isinstance(value, str):
            raise PactDocumentError(where, f"{value!r} is not a date-time string")
        try:
            return SpelledDateTime.parse(value)
        except ValueError:
            raise PactDocumentError(where, f"{value!r} is not a date-time") from None
    if kind == "bool":
        if not isinstance(value, bool):
            raise PactDocumentError(where, f"{value!r} is not a boolean")
        return value
    if kind == "strs":
        if not isinstance(value, list):
            raise PactDocumentError(where, f"{value!r} is not an array")
        return tuple(
            _read_value(item, "str", _path(where, i), meta) for i, item in enumerate(value)
        )
    if kind == "json":
        if not isinstance(value, dict):
            raise PactDocumentError(where, f"{value!r} is not an object")
        return value
    if kind == "object":
        return _read_object(meta["type"], value, where)
    if kind == "objects":
        if not isinstance(value, list):
            raise PactDocumentError(where, f"{value!r} is not an array")
        return tuple(
            _read_object(meta["type"], item, _path(where, i)) for i, item in enumerate(value)
        )
    raise AssertionError(f"unknown field kind {kind}")  # pragma: no cover


def _read_object(cls: type[_T], value: JSON, where: str) -> _T:
    """One dataclass from a JSON object, by its fields' PACT names; unknown keys -> extra."""
    if not isinstance(value, dict):
        raise PactDocumentError(where, f"{_short(value)} is not an object")
    kwargs: dict[str, Any] = {}
    known: set[str] = set()
    for spec in fields(cls):  # type: ignore[arg-type]
        meta = spec.metadata
        if meta.get("kind") == "extra":
            continue
        name = meta["json"]
        known.add(name)
        mandatory = spec.default is MISSING and spec.default_factory is MISSING
        if name not in value:
            if mandatory:
                raise PactDocumentError(_path(where, name), "required property is missing")
            continue
        if value[name] is None:
            raise PactDocumentError(_path(where, name), "is null; PACT omits absent properties")
        kwargs[spec.name] = _read_value(value[name], meta["kind"], _path(where, name), meta)
    kwargs["extra"] = {k: v for k, v in value.items() if k not in known}
    return cls(**kwargs)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _footprint(value: JSON, where: str) -> ProductFootprint:
    if isinstance(value, dict) and is_v2(value):
        value = upgrade_v2(value, path=where)
    elif isinstance(value, dict):
        version = value.get("specVersion")
        if isinstance(version, str) and not version.startswith("3."):
            raise PactDocumentError(
                _path(where, "specVersion"),
                f"PACT {version} is not supported (fedcarbon reads 2.x and 3.x)",
            )
    return _read_object(ProductFootprint, value, where)


def parse_document(document: JSON, *, source: str | None = None) -> list[ProductFootprint]:
    """The footprints in an already parsed footprint, get or list response body."""
    try:
        kind = document_kind(document)
        if kind is None:
            raise PactDocumentError(
                "$",
                "not a PACT document: expected a ProductFootprint object or a response body "
                f"{{'data': ...}}, got {type(document).__name__}",
            )
        if kind == "footprint":
            return [_footprint(document, "$")]
        if kind == "get":
            return [_footprint(document["data"], "$.data")]
        return [_footprint(item, f"$.data[{i}]") for i, item in enumerate(document["data"])]
    except PactDocumentError as exc:
        if source is not None and exc.source is None:
            raise PactDocumentError(exc.json_path, _bare(exc), source=source) from None
        raise


def _bare(error: PactDocumentError) -> str:
    return str(error).split(f"{error.json_path}: ", 1)[-1]


def load_footprints(
    path_or_json: str | Path | bytes | Mapping[str, JSON],
) -> list[ProductFootprint]:
    """The footprints in a PACT file, JSON text or parsed document (v2.x upgraded to v3).

    Accepts a single ``ProductFootprint``, a GetFootprint body ``{"data": {...}}`` or a
    ListFootprints body ``{"data": [...]}``. A ``str`` starting with ``{`` is JSON text,
    anything else a file path.

    Raises:
        PactDocumentError: unreadable JSON, or a document the model cannot hold, naming the
            file and JSON path.
        OSError: the file cannot be read.
    """
    source: str | None = None
    if isinstance(path_or_json, Mapping):
        return parse_document(dict(path_or_json))
    if isinstance(path_or_json, bytes):
        text = path_or_json.decode("utf-8")
    elif isinstance(path_or_json, str) and path_or_json.lstrip().startswith(("{", "[")):
        text = path_or_json
    else:
        source = str(path_or_json)
        text = Path(path_or_json).read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PactDocumentError(
            "$", f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", source=source
        ) from None
    except RecursionError:
        raise PactDocumentError("$", "JSON nested too deeply to read", source=source) from None
    return parse_document(document, source=source)


# -- export -----------------------------------------------------------------------------------


def _write_value(value: Any, kind: str) -> JSON:
    if kind == "decimal":
        return _decimal_text(value)
    if kind == "datetime":
        return _datetime_text(value)
    if kind == "strs":
        return list(value)
    if kind == "object":
        return _write_object(value)
    if kind == "objects":
        return [_write_object(item) for item in value]
    if kind == "json":
        return dict(value)
    return value


def _write_object(obj: Any) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    extra: Mapping[str, JSON] = {}
    for spec in fields(obj):
        value = getattr(obj, spec.name)
        if spec.metadata.get("kind") == "extra":
            extra = value
        elif value is not None:
            out[spec.metadata["json"]] = _write_value(value, spec.metadata["kind"])
    out.update(extra)
    return out


def dump_footprint(footprint: ProductFootprint) -> dict[str, JSON]:
    """The PACT JSON object of a footprint; ``dump_footprint(load(x)) == x`` for v3 input."""
    return _write_object(footprint)


def dumps(footprints: ProductFootprint | Sequence[ProductFootprint]) -> str:
    """JSON text: one footprint as an object, several as a ListFootprints body."""
    if isinstance(footprints, ProductFootprint):
        document: JSON = dump_footprint(footprints)
    else:
        document = {"data": [dump_footprint(fp) for fp in footprints]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
