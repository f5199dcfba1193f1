"""The mapping layer applied column-wise: each distinct source value is mapped once, not per row.

``map_rows`` calls ``map_row`` per row, which looks up the same unit spelling, material code
and date text a million times in a large export. ``map_columns`` gives the same result for a
table of dictionary-encoded source columns: dates, units, activity codes, filters and negation
flags are mapped per distinct cell, quantities per distinct cell with a plain-number shortcut,
templates (composite record ids) per row, unit conversion as one multiplication per row. Any
row the column path is not sure about (a value a helper refuses, a missing column, an empty
quantity cell with a default) is mapped by ``map_row`` itself, so rejection reasons are
``map_row``'s own. Validation is ``activity_table.validate_columns``, the column twin of
``parse_activity_rows``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fedcarbon.accounting.activity_table import RawColumns, _Encoded, validate_columns
from fedcarbon.accounting.errors import UnitConversionError, UnitError
from fedcarbon.accounting.records import CANONICAL_COLUMNS
from fedcarbon.accounting.units import conversion_factor
from fedcarbon.adapters.contract import Period, Rejected
from fedcarbon.adapters.mapping import (
    _DATE_FIELDS,
    _NUMBER_RE,
    FIELDS,
    Ignored,
    MappedRows,
    RecordMapping,
    RowRejected,
    _cell_text,
    _conversion_target,
    _date_text,
    _map_unit,
    _number,
    _safe_record_id,
    _template_fields,
    map_row,
)
from fedcarbon.lazy import LazySequence

CodeArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class SourceColumn:
    """A dictionary-encoded source column: ``values[codes[i]]`` is row i's cell (any type)."""

    values: list[Any]
    codes: CodeArray


class _Missing:
    """The cell of a column that this row's file does not have (folders of mixed exports)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass
class SourceColumns:
    """Rows of one source as columns, with each row's reference (``file.csv:17``)."""

    columns: dict[str, SourceColumn]
    refs: Sequence[str]

    def __len__(self) -> int:
        return len(self.refs)

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as the mapping's row functions take it (without its missing columns)."""
        out = {name: c.values[int(c.codes[i])] for name, c in self.columns.items()}
        return {name: value for name, value in out.items() if value is not MISSING}

    def missing_rows(self, names: set[str]) -> BoolArray:
        """Rows that lack one of the columns ``names`` (a file or a short row without it)."""
        missing = np.zeros(len(self), dtype=np.bool_)
        for name in names:
            column = self.columns.get(name)
            if column is None:
                continue
            flags = np.asarray([v is MISSING for v in column.values], dtype=np.bool_)
            if flags.any():
                missing |= flags[column.codes]
        return missing

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[str, Mapping[str, Any]]]) -> SourceColumns:
        """Dictionary-encode ``(source_ref, row)`` pairs (cells of any type; 1 and 1.0 apart)."""
        names: dict[str, None] = {}
        for _, row in rows:
            names.update(dict.fromkeys(row))
        columns: dict[str, SourceColumn] = {}
        for name in names:
            index: dict[tuple[type, Any], int] = {}
            values: list[Any] = []
            codes = np.empty(len(rows), dtype=np.int32)
            for i, (_, row) in enumerate(rows):
                value = row.get(name, MISSING)
                key = (type(value), value)
                code = index.get(key)
                if code is None:
                    code = index[key] = len(values)
                    values.append(value)
                codes[i] = code
            columns[name] = SourceColumn(values, codes)
        return cls(columns, [ref for ref, _ in rows])

    @classmethod
    def concat(cls, parts: Sequence[SourceColumns]) -> SourceColumns:
        """The rows of every part, in order; a column a part lacks reads ``MISSING`` there."""
        if len(parts) == 1:
            return parts[0]
        names: dict[str, None] = {}
        for part in parts:
            names.update(dict.fromkeys(part.columns))
        columns: dict[str, SourceColumn] = {}
        for name in names:
            index: dict[tuple[type, Any], int] = {}
            values: list[Any] = []
            pieces: list[CodeArray] = []
            for part in parts:
                column = part.columns.get(name) or SourceColumn(
                    [MISSING], np.zeros(len(part), dtype=np.int32)
                )
                remap = np.empty(len(column.values), dtype=np.int32)
                for k, value in enumerate(column.values):
                    key = (type(value), value)
                    code = index.get(key)
                    if code is None:
                        code = index[key] = len(values)
                        values.append(value)
                    remap[k] = code
                pieces.append(remap[column.codes])
            columns[name] = SourceColumn(values, np.concatenate(pieces))
        refs: list[str] = []
        for part in parts:
            refs.extend(part.refs)
        return cls(columns, refs)


class _Unsure(Exception):
    """The column path cannot map this column for every row: use ``map_row`` row by row."""


def _per_value(column: SourceColumn, function: Callable[[Any], Any]) -> tuple[list[Any], BoolArray]:
    """``function`` of each distinct cell, and which rows' cells it refused (raised)."""
    results: list[Any] = []
    refused = np.zeros(len(column.values), dtype=np.bool_)
    for k, value in enumerate(column.values):
        try:
            results.append(function(value))
        except (RowRejected, Ignored, ValueError):
            results.append(None)
            refused[k] = True
    return results, refused[column.codes]


class _Field:
    """One canonical field's text per row: ``values[codes[i]]``, or ``texts[i]`` per row."""

    def __init__(self, n: int) -> None:
        self.values: list[str] = [""]
        self.codes: CodeArray = np.zeros(n, dtype=np.int32)
        self.texts: list[str] | None = None
        self.lookup: dict[str, int] | None = None  # value -> code, built by _override

    def text(self, i: int) -> str:
        if self.texts is not None:
            return self.texts[i]
        return self.values[int(self.codes[i])]

    def fill_default(self, default: str) -> None:
        if not default:
            return
        if self.texts is not None:
            self.texts = [t or default for t in self.texts]
        else:
            self.values = [v or default for v in self.values]

    def encoded(self) -> _Encoded:
        if self.texts is None:
            return _Encoded(self.values, self.codes)
        index: dict[str, int] = {}
        codes = [index.setdefault(t, len(index)) for t in self.texts]
        return _Encoded(list(index), np.asarray(codes, dtype=np.int32))


def _source(name: str, mapping: RecordMapping, header: set[str]) -> str | None:
    spec = mapping.columns.get(name)
    if spec is None and name in header:
        spec = name
    return spec


def _require(table: SourceColumns, column: str) -> SourceColumn:
    found = table.columns.get(column)
    if found is None:
        raise _Unsure(column)
    return found


def _map_fields(
    table: SourceColumns, mapping: RecordMapping, unsure: BoolArray
) -> tuple[dict[str, _Field], FloatArray, BoolArray]:
    """Canonical text fields, the quantities, and the rows the filters leave out."""
    n = len(table)
    header = set(table.columns)
    filtered = np.zeros(n, dtype=np.bool_)
    for name, accepted in mapping.filters.items():
        source = _require(table, name)
        kept = np.asarray([_cell_text(v) in accepted for v in source.values], dtype=np.bool_)
        filtered |= ~kept[source.codes]
    fields: dict[str, _Field] = {}
    quantity = np.full(n, math.nan)
    quantity_set = np.zeros(n, dtype=np.bool_)
    for name in FIELDS:
        out = fields[name] = _Field(n)
        spec = _source(name, mapping, header)
        names = _template_fields(spec) if spec is not None else set()
        if name == "quantity" and (names or (spec is None and mapping.defaults.get(name))):
            raise _Unsure(name)  # a templated or constant quantity: map_row parses the text
        if spec is None:
            out.fill_default(mapping.defaults.get(name, ""))
            continue
        if names:
            out.texts = _template_texts(table, spec, names)
            out.fill_default(mapping.defaults.get(name, ""))
            continue
        column = _require(table, spec)
        if name == "quantity":
            quantity, quantity_set = _quantity_column(column, mapping, unsure)
            out.values = [_cell_text(v) for v in column.values]
            out.codes = column.codes
            continue
        texts: list[Any]
        if name in _DATE_FIELDS:
            texts, refused = _per_value(column, functools.partial(_dates, mapping, name))
        else:
            texts, refused = _per_value(column, _cell_text)
        texts = ["" if v is MISSING else t for v, t in zip(column.values, texts, strict=True)]
        absent = np.asarray([v is MISSING for v in column.values], dtype=np.bool_)
        refused &= ~absent[column.codes]
        unsure |= refused
        out.values = ["" if t is None else t for t in texts]
        out.codes = column.codes
        out.fill_default(mapping.defaults.get(name, ""))
    return fields, np.where(quantity_set, quantity, math.nan), filtered


def _dates(mapping: RecordMapping, field_name: str, value: Any) -> str:
    return _date_text(value, mapping.date_format, field_name)


def _template_texts(table: SourceColumns, spec: str, names: set[str]) -> list[str]:
    """``_resolve`` of a template per row: '' when any of its columns is empty."""
    parts = []
    for field_name in sorted(names):
        column = _require(table, field_name)
        parts.append((field_name, [_cell_text(v) for v in column.values], column.codes.tolist()))
    out: list[str] = []
    for i in range(len(table)):
        values = {field_name: texts[codes[i]] for field_name, texts, codes in parts}
        out.append("" if not all(values.values()) else spec.format_map(values))
    return out


def _quantity_column(
    column: SourceColumn, mapping: RecordMapping, unsure: BoolArray
) -> tuple[FloatArray, BoolArray]:
    """Each row's number as ``map_row`` reads it (NaN if empty), and which rows have one."""
    numbers, refused = _per_value(column, lambda v: _quantity(v, mapping.decimal_comma))
    empty = np.asarray([v is MISSING or not _cell_text(v) for v in column.values], dtype=np.bool_)[
        column.codes
    ]
    if mapping.defaults.get("quantity"):
        # An empty cell with a default: map_row parses the empty cell (and refuses it).
        unsure |= empty
    unsure |= refused & ~empty
    per_value = np.asarray([math.nan if x is None else x for x in numbers], dtype=np.float64)
    return per_value[column.codes], ~empty


def _quantity(value: Any, decimal_comma: bool) -> float:
    """``map_row``'s number (``_number``), with a shortcut for plain decimal text."""
    if isinstance(value, str) and not decimal_comma and _NUMBER_RE.match(value):
        return float(value)
    number = _number(value, decimal_comma)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _apply_tables(
    table: SourceColumns,
    mapping: RecordMapping,
    fields: dict[str, _Field],
    quantity: FloatArray,
    unsure: BoolArray,
    skipped: BoolArray,
) -> FloatArray:
    """Activity codes, negation, unit spellings and conversion, per distinct value."""
    activity = fields["activity"]
    if mapping.activities and activity.texts is None:
        mapped: list[str] = []
        skip = np.zeros(len(activity.values), dtype=np.bool_)
        reject = np.zeros(len(activity.values), dtype=np.bool_)
        for k, code in enumerate(activity.values):
            if not code:
                mapped.append(code)
            elif code in mapping.activities:
                mapped.append(mapping.activities[code])
            elif mapping.unmapped == "ignore":
                mapped.append(code)
                skip[k] = True
            else:
                mapped.append(code)
                reject[k] = True
        activity.values = mapped
        skipped |= skip[activity.codes]
        unsure |= reject[activity.codes]
    elif mapping.activities:
        raise _Unsure("activity")  # templated activity codes: rare, map_row does them
    has_quantity = ~np.isnan(quantity)
    for column, values in mapping.negate.items():
        source = _require(table, column)
        flip = np.asarray([_cell_text(v) in values for v in source.values], dtype=np.bool_)
        quantity = np.where(flip[source.codes], -quantity, quantity)
    unit = fields["unit"]
    if unit.texts is not None:
        raise _Unsure("unit")
    spellings, refused = _per_value(
        SourceColumn(unit.values, unit.codes), lambda u: _map_unit(u, mapping.units) if u else u
    )
    unsure |= refused
    unit.values = ["" if s is None else s for s in spellings]
    if not mapping.convert:
        return quantity
    if activity.texts is not None:
        raise _Unsure("activity")
    # One conversion factor per distinct (activity, unit) pair.
    pair = activity.codes.astype(np.int64) * len(unit.values) + unit.codes
    pairs, inverse = np.unique(pair, return_inverse=True)
    factors = np.ones(len(pairs), dtype=np.float64)
    targets: list[str | None] = []
    failed = np.zeros(len(pairs), dtype=np.bool_)
    for k, p in enumerate(pairs.tolist()):
        act = activity.values[p // len(unit.values)]
        spelled = unit.values[p % len(unit.values)]
        target = _conversion_target(act, mapping.convert) if spelled else None
        targets.append(target)
        if target is not None and target != spelled:
            try:
                factors[k] = conversion_factor(spelled, target)
            except (UnitError, UnitConversionError):
                failed[k] = True
    inverse = inverse.reshape(-1)
    convert = np.asarray([t is not None for t in targets], dtype=np.bool_)[inverse] & has_quantity
    unsure |= failed[inverse] & has_quantity
    quantity = np.where(convert, quantity * factors[inverse], quantity)
    # Rows converted take the target unit: re-encode the unit per row where it changed.
    if convert.any():
        appended: dict[str, int] = {}
        for target in targets:
            if target is not None and target not in appended:
                appended[target] = len(unit.values) + len(appended)
        target_codes = np.asarray(
            [-1 if t is None else appended[t] for t in targets], dtype=np.int32
        )
        unit.values = [*unit.values, *appended]
        unit.codes = np.where(convert, target_codes[inverse], unit.codes).astype(np.int32)
    return quantity


class _QuantityText(LazySequence[str]):
    """The quantity text ``parse_activity_rows`` would see: ``repr`` of the number, or ''."""

    def __init__(self, numbers: FloatArray, given: BoolArray) -> None:
        self._numbers = numbers
        self._given = given

    def __len__(self) -> int:
        return len(self._numbers)

    def _build(self, index: int) -> str:
        return repr(float(self._numbers[index])) if self._given[index] else ""


def map_columns(
    table: SourceColumns,
    mapping: RecordMapping,
    *,
    source: str,
    period: Period | None = None,
) -> MappedRows:
    """``map_rows`` for a table of columns: the same records, rejections and ignored count."""
    n = len(table)
    unsure = np.zeros(n, dtype=np.bool_)
    skipped = np.zeros(n, dtype=np.bool_)  # codes mapped to "ignore"
    try:
        fields, quantity, filtered = _map_fields(table, mapping, unsure)
        quantity = _apply_tables(table, mapping, fields, quantity, unsure, skipped)
    except _Unsure:
        # A column the mapping names is missing (every row is rejected) or a rare layout
        # (templated activity or unit, constant quantity): the row path for every row.
        unsure[:] = True
        fields = {name: _Field(n) for name in FIELDS}
        quantity = np.full(n, math.nan)
        filtered = np.zeros(n, dtype=np.bool_)
    # map_row refuses a row without a column the mapping names; a canonically named column
    # (used without a mapping entry) simply counts as empty there, as below.
    missing = table.missing_rows(mapping.source_columns())
    unsure |= missing
    filtered &= ~missing
    given = ~np.isnan(quantity)
    # Filters come first in map_row; an ignored code only once every field has mapped.
    ignored = filtered | (skipped & ~unsure)
    out_of_batch = ignored.copy()
    rejected: list[Rejected] = []
    for i in np.flatnonzero(unsure & ~filtered).tolist():
        row = table.row(i)
        try:
            mapped = map_row(row, mapping)
        except Ignored:
            ignored[i] = out_of_batch[i] = True
            continue
        except RowRejected as exc:
            where = f"{exc.field}: " if exc.field else ""
            rejected.append(
                Rejected(table.refs[i], _safe_record_id(row, mapping), f"{where}{exc.message}")
            )
            out_of_batch[i] = True
            continue
        for name in FIELDS:
            _override(fields[name], i, mapped.get(name, ""))
        text = mapped.get("quantity", "")
        quantity[i] = float(text) if text else math.nan
        given[i] = bool(text)
    ignored_count = int(np.count_nonzero(ignored))
    batch = np.flatnonzero(~out_of_batch)
    raw = _canonical(fields, quantity, given, batch)
    records, errors = validate_columns(raw, source=source)
    refs = [table.refs[i] for i in batch.tolist()]
    for error in errors:
        where = f"{error.field}: " if error.field else ""
        rejected.append(Rejected(refs[error.row], error.record_id, f"{where}{error.message}"))
    out_of_period = 0
    if period is not None:
        inside = records.periods_where(period.overlaps)
        out_of_period = int(np.count_nonzero(~inside))
        records = records.select(inside)
    kept_refs = [refs[k] for k in records.rows.tolist()]
    return MappedRows(
        records.to_records(with_rows=False), rejected, ignored_count + out_of_period, kept_refs
    )


def _override(out: _Field, i: int, text: str) -> None:
    """Set row ``i`` of a field to ``map_row``'s text."""
    if out.texts is not None:
        out.texts[i] = text
        return
    if out.lookup is None:
        out.lookup = {}
        for k, value in enumerate(out.values):
            out.lookup.setdefault(value, k)
    code = out.lookup.get(text)
    if code is None:
        code = out.lookup[text] = len(out.values)
        out.values.append(text)
    out.codes[i] = code


def _canonical(
    fields: dict[str, _Field],
    quantity: FloatArray,
    given: BoolArray,
    batch: npt.NDArray[np.int64],
) -> RawColumns:
    """The mapped rows of ``batch`` as the canonical columns ``validate_columns`` checks."""
    encoded: dict[str, _Encoded] = {}
    for name, out in fields.items():
        if name in ("record_id", "quantity"):
            continue
        column = out.encoded()
        encoded[name] = _Encoded(column.values, column.codes[batch])
    record_id = fields["record_id"]
    ids = [record_id.text(i) for i in batch.tolist()]
    numbers = quantity[batch]
    header = [name for name in FIELDS if name in CANONICAL_COLUMNS or name in encoded]
    return RawColumns(
        header,
        np.arange(len(batch), dtype=np.int64),
        ids,
        _QuantityText(numbers, given[batch]),
        encoded,
        [],
        numbers,
    )
