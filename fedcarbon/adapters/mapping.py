"""The mapping layer: source columns, units and codes to canonical records, by configuration.

Most sites do not need code to join: their ERP export already has a document number, a plant, a
material, a quantity and a unit of measure. A ``RecordMapping`` says which source column feeds
which canonical field (``columns``), which constants fill the rest (``defaults``), how the
source's unit spellings and material codes translate (``units``, ``activities``), and which
activities to convert to a reporting unit (``convert``). ``map_rows`` applies it and hands the
result to ``parse_activity_rows`` so every adapter validates exactly as the activity CSV does.
"""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from fedcarbon.accounting.errors import UnitConversionError, UnitError
from fedcarbon.accounting.records import (
    CANONICAL_COLUMNS,
    OPTIONAL_COLUMNS,
    ActivityRecord,
    parse_activity_rows,
)
from fedcarbon.accounting.units import conversion_factor, parse_unit
from fedcarbon.adapters.contract import Period, Rejected
from fedcarbon.adapters.errors import MappingError

FIELDS: tuple[str, ...] = CANONICAL_COLUMNS + OPTIONAL_COLUMNS
_DATE_FIELDS = ("period_start", "period_end")
_EMPTY: Mapping[str, str] = {}


class RowRejected(Exception):
    """One source row cannot be mapped; ``field`` is the canonical field concerned."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RecordMapping:
    """Tables that turn a source row into a canonical activity row.

    Attributes:
        columns: canonical field -> source column name, or a template over source columns such
            as ``"{MBLNR}-{MJAHR}-{ZEILE}"`` (a composite key) or ``"fuel.{FUEL}"``. A source
            column already named like a canonical field is used without an entry.
        defaults: canonical field -> constant, used when ``columns`` gives no value.
        units: source unit spelling -> pint unit (``KWH = "kWh"``, ``M3 = "m**3"``); matched
            exactly first, then ignoring case.
        activities: source code -> activity code (``"100-200" = "fuel.natural_gas"``).
        unmapped: what to do with a code missing from a non-empty ``activities`` table:
            ``"reject"`` (default, reported) or ``"ignore"`` (counted as ignored, e.g. screws in
            a material-movement export).
        convert: activity code (or prefix ending in ``.``) -> unit to convert quantities to.
        filters: source column -> accepted values; other rows are ignored (counted).
        negate: source column -> values that flip the quantity's sign (reversal documents).
        date_format: ``strptime`` format of text dates (``"%d.%m.%Y"``); ISO 8601 when unset.
        decimal_comma: text numbers use ``,`` for decimals and ``.`` for thousands.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    activities: Mapping[str, str] = field(default_factory=dict)
    unmapped: Literal["reject", "ignore"] = "reject"
    convert: Mapping[str, str] = field(default_factory=dict)
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    negate: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_format: str | None = None
    decimal_comma: bool = False

    def __post_init__(self) -> None:
        for table in ("columns", "defaults"):
            for key in getattr(self, table):
                if key not in FIELDS:
                    raise MappingError(
                        f"{table}.{key}", f"is not a canonical field (one of {', '.join(FIELDS)})"
                    )
        for key, spec in self.columns.items():
            try:
                list(string.Formatter().parse(spec))
            except ValueError as exc:
                raise MappingError(f"columns.{key}", f"bad template {spec!r}: {exc}") from None
        for key, unit in self.units.items():
            if not is_known_unit(unit):
                raise MappingError(f"units.{key}", f"{unit!r} is not a unit pint knows")
        for key, unit in self.convert.items():
            if not is_known_unit(unit):
                raise MappingError(f"convert.{key}", f"{unit!r} is not a unit pint knows")

    def source_columns(self) -> set[str]:
        """Every source column the mapping reads (for adapters that select columns)."""
        names: set[str] = set(self.filters) | set(self.negate)
        for spec in self.columns.values():
            names |= _template_fields(spec) or {spec}
        return names


IDENTITY = RecordMapping()
"""A mapping for sources that already use canonical column names."""


@functools.cache
def _template_fields_cached(spec: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(spec) if name)


def _template_fields(spec: str) -> set[str]:
    return set(_template_fields_cached(spec))


def is_known_unit(unit: str) -> bool:
    """True when the accounting engine's pint registry reads ``unit`` (``kWh``, ``m3``, ``USD``)."""
    try:
        parse_unit(unit)
    except UnitError:
        return False
    return True


def convert_quantity(quantity: float, unit: str, target: str) -> float:
    """Convert with the engine's units; raises ``ValueError`` naming both units on a mismatch."""
    if unit == target:
        return quantity
    try:
        return quantity * conversion_factor(unit, target)
    except (UnitError, UnitConversionError) as exc:
        raise ValueError(f"cannot convert {unit!r} to {target!r}: {exc}") from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal | int):
        return str(value)
    return str(value).strip()


def _lookup(row: Mapping[str, Any], column: str) -> Any:
    if column in row:
        return row[column]
    raise RowRejected(None, f"source column {column!r} is missing")


def _resolve(spec: str, row: Mapping[str, Any]) -> str:
    names = _template_fields(spec)
    if not names:
        return _cell_text(_lookup(row, spec))
    values = {name: _cell_text(_lookup(row, name)) for name in names}
    if any(not v for v in values.values()):
        return ""
    return spec.format(**values)


_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _number(value: Any, decimal_comma: bool) -> float:
    if isinstance(value, bool):
        raise RowRejected("quantity", f"{value!r} is not a number")
    if isinstance(value, int | float | Decimal):
        return float(value)
    text = str(value).strip().replace(" ", "").replace("\u00a0", "")
    negative = text.endswith("-")  # SAP writes negative numbers as "12.5-"
    if negative:
        text = text[:-1]
    thousands, decimal = (".", ",") if decimal_comma else (",", ".")
    if thousands in text:
        # A separator that does not group three digits is a decimal mark in the other locale:
        # refuse it rather than read "12,5" as 125.
        integer_part = text.split(decimal, 1)[0]
        if not re.fullmatch(rf"[+-]?\d{{1,3}}(\{thousands}\d{{3}})+", integer_part):
            hint = "true" if not decimal_comma else "false"
            raise RowRejected(
                "quantity",
                f"{value!r} does not fit the number format (set mapping.decimal_comma = {hint}?)",
            )
        text = text.replace(thousands, "")
    text = text.replace(decimal, ".")
    if not _NUMBER_RE.match(text):
        raise RowRejected("quantity", f"{value!r} is not a number")
    number = float(text)
    return -number if negative else number


def _date_text(value: Any, fmt: str | None, field_name: str) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = _cell_text(value)
    if not text:
        return ""
    try:
        if fmt is not None:
            return datetime.strptime(text, fmt).date().isoformat()
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        expected = fmt or "ISO 8601"
        raise RowRejected(field_name, f"{text!r} is not a date in {expected} format") from None


class Ignored(Exception):
    """The row is deliberately out of scope (filter, ignored code, outside the period)."""


def map_row(row: Mapping[str, Any], mapping: RecordMapping) -> dict[str, str]:
    """Map one source row to canonical text fields (not yet validated).

    Raises:
        Ignored: the mapping's filters or ``unmapped = "ignore"`` leave the row out.
        RowRejected: a column is missing, a number, date, unit or code cannot be mapped.
    """
    for column, accepted in mapping.filters.items():
        if _cell_text(_lookup(row, column)) not in accepted:
            raise Ignored
    out: dict[str, str] = {name: "" for name in CANONICAL_COLUMNS}
    raw_quantity: Any = None
    for name in FIELDS:
        value = ""
        spec = mapping.columns.get(name)
        if spec is None and name in row:
            spec = name  # a source column with the canonical name needs no mapping entry
        if spec is not None:
            try:
                if name == "quantity" and not _template_fields(spec):
                    raw_quantity = _lookup(row, spec)
                    value = _cell_text(raw_quantity)
                elif name in _DATE_FIELDS and not _template_fields(spec):
                    value = _date_text(_lookup(row, spec), mapping.date_format, name)
                else:
                    value = _resolve(spec, row)
            except RowRejected as exc:
                raise RowRejected(name, exc.message) from None
        if not value:
            value = mapping.defaults.get(name, "")
        if value or name in CANONICAL_COLUMNS:
            out[name] = value
    if out["activity"] and mapping.activities:
        code = out["activity"]
        if code in mapping.activities:
            out["activity"] = mapping.activities[code]
        elif mapping.unmapped == "ignore":
            raise Ignored
        else:
            raise RowRejected("activity", f"no activity mapping for source code {code!r}")
    if out["quantity"]:
        number = _number(
            raw_quantity if raw_quantity is not None else out["quantity"], mapping.decimal_comma
        )
        if not math.isfinite(number):
            raise RowRejected("quantity", f"{out['quantity']!r} is not a finite number")
        for column, values in mapping.negate.items():
            if _cell_text(_lookup(row, column)) in values:
                number = -number
        out["quantity"] = repr(number)
    if out["unit"]:
        out["unit"] = _map_unit(out["unit"], mapping.units)
        if out["quantity"]:
            target = _conversion_target(out["activity"], mapping.convert)
            if target is not None:
                try:
                    out["quantity"] = repr(
                        convert_quantity(float(out["quantity"]), out["unit"], target)
                    )
                except ValueError as exc:
                    raise RowRejected("unit", str(exc)) from None
                out["unit"] = target
    return out


def _map_unit(unit: str, table: Mapping[str, str]) -> str:
    if unit in table:
        return table[unit]
    folded = {k.casefold(): v for k, v in table.items()}
    if unit.casefold() in folded:
        return folded[unit.casefold()]
    if not is_known_unit(unit):
        raise RowRejected("unit", f"{unit!r} is not a known unit; add it to mapping.units")
    return unit


def _conversion_target(activity: str, table: Mapping[str, str]) -> str | None:
    if activity in table:
        return table[activity]
    best: str | None = None
    for key in table:
        if (
            key.endswith(".")
            and activity.startswith(key)
            and (best is None or len(key) > len(best))
        ):
            best = key
    return table[best] if best is not None else None


@dataclass
class MappedRows:
    """Outcome of mapping a batch: records, rejections and the count deliberately ignored."""

    records: list[ActivityRecord]
    rejected: list[Rejected]
    ignored: int
    refs: list[str] = field(default_factory=list)
    """The source reference of each record, in the same order (for adapters that post-process)."""


def map_rows(
    rows: Iterable[tuple[str, Mapping[str, Any]]],
    mapping: RecordMapping,
    *,
    source: str,
    period: Period | None = None,
) -> MappedRows:
    """Map ``(source_ref, row)`` pairs to validated records; every failure becomes a ``Rejected``.

    Rows outside ``period`` are ignored (counted, not rejected): a yearly export legitimately
    holds other years. Validation is ``parse_activity_rows``, so duplicate ids are rejected too.
    """
    refs: list[str] = []
    canonical: list[dict[str, str]] = []
    rejected: list[Rejected] = []
    ignored = 0
    for ref, row in rows:
        try:
            mapped = map_row(row, mapping)
        except Ignored:
            ignored += 1
            continue
        except RowRejected as exc:
            rid = _safe_record_id(row, mapping)
            where = f"{exc.field}: " if exc.field else ""
            rejected.append(Rejected(ref, rid, f"{where}{exc.message}"))
            continue
        refs.append(ref)
        canonical.append(mapped)
    records, errors = parse_activity_rows(canonical, source=source, first_row=0)
    for error in errors:
        where = f"{error.field}: " if error.field else ""
        rejected.append(Rejected(refs[error.row], error.record_id, f"{where}{error.message}"))
    kept: list[ActivityRecord] = []
    kept_refs: list[str] = []
    for record in records:
        if period is not None and not period.overlaps(record.period_start, record.period_end):
            ignored += 1
            continue
        kept_refs.append(refs[record.row] if record.row is not None else "")
        kept.append(replace(record, row=None))  # the batch index is no file line
    return MappedRows(kept, rejected, ignored, kept_refs)


def _safe_record_id(row: Mapping[str, Any], mapping: RecordMapping) -> str | None:
    spec = mapping.columns.get("record_id", "record_id")
    try:
        return _resolve(spec, row) or None
    except RowRejected:
        return None
