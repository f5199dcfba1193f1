"""Activity data held column-wise, so that a million CSV rows are read and checked in seconds.

Reading row by row (one dict from ``csv.DictReader`` and one frozen dataclass per row) costs far
more than the footprint engine itself. Here a file is parsed into columns, every column but the
record id and the quantity is dictionary-encoded, and dates, activity codes, units, regions and
categories are validated once per distinct value with the very helpers the row parser uses
(``records.py``). A row the column checks flag is handed to the row parser, so each error message
(file line, record id, column) is exactly the one ``parse_activity_rows`` gives.
``ActivityTable`` is a ``Sequence[ActivityRecord]`` that builds a record only when asked; the
engine reads its arrays directly (``grouping``, ``quantities``).

Parsing: pyarrow's multi-threaded CSV reader when the file is plain (UTF-8, no quote character,
no NUL, no lone CR: then every non-empty physical line is one row, and the row numbers come from
a scan of the newlines); otherwise the standard ``csv`` module, in chunks, with its own line
numbers. Both give the same columns; the first is the fast path for machine-written exports.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fedcarbon.accounting.records import (
    CANONICAL_COLUMNS,
    OPTIONAL_COLUMNS,
    ActivityRecord,
    RowError,
    _iso_date,
    _normal_region,
    _parse_one,
    _RowInvalid,
    _valid_activity,
    header_errors,
)
from fedcarbon.lazy import LazySequence

IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

FIELDS: tuple[str, ...] = CANONICAL_COLUMNS + OPTIONAL_COLUMNS
_PLAIN = ("record_id", "quantity")
"""Columns kept as one string per row (nearly every value differs)."""
_ENCODED = tuple(c for c in FIELDS if c not in _PLAIN)
"""Columns dictionary-encoded: few distinct values, each validated once."""

CHUNK_ROWS = 65_536
"""Rows the ``csv``-module path holds as Python lists at a time (bounds its memory)."""
_SCAN_BYTES = 1 << 23
_ITER_BLOCK = 4096
_BAD: Any = object()
"""What a check returns for a cell that is set but wrong (a category of 16)."""


@dataclass
class _Encoded:
    """A dictionary-encoded text column: ``values[codes[i]]`` is row i's raw cell."""

    values: list[str]
    codes: CodeArray


@dataclass
class RawColumns:
    """A file's cells as columns, before any validation.

    ``lines`` is each row's 1-based file line (header = 1); ``extra`` the row indices that had
    more cells than the header has columns. Missing cells of short rows read as empty.
    ``numbers`` is the quantity column already parsed by the reader (NaN where a cell is not a
    number), or None to parse ``quantity`` here.
    """

    header: list[str]
    lines: IntArray
    record_id: list[str]
    quantity: Sequence[str]
    encoded: dict[str, _Encoded]
    extra: list[int]
    numbers: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.lines.shape[0])

    def row(self, i: int) -> dict[str, str | None]:
        """Row ``i`` as ``csv.DictReader`` gives it (for the row parser's error messages)."""
        out: dict[str, str | None] = {}
        for name in self.header:
            if name == "record_id":
                out[name] = self.record_id[i]
            elif name == "quantity":
                out[name] = self.quantity[i]
            elif name in self.encoded:
                column = self.encoded[name]
                out[name] = column.values[int(column.codes[i])]
        return out


# -- parsing -------------------------------------------------------------------------------


def plain_lines(path: Path) -> IntArray | None:
    """File line (1-based) of every non-empty line, or None if the file is not plain.

    Plain: no quote character (so no field spans lines), no NUL, and every CR followed by LF.
    Empty lines are skipped by both ``csv.DictReader`` and pyarrow, so the i-th row of either is
    the i-th non-empty line after the header.
    """
    content_ends: list[IntArray] = []
    newline_at: list[IntArray] = []
    offset = 0
    previous_last = -1
    with path.open("rb") as handle:
        while chunk := handle.read(_SCAN_BYTES):
            if b'"' in chunk or b"\0" in chunk:  # memchr: far cheaper than a numpy pass
                return None
            data = np.frombuffer(chunk, dtype=np.uint8)
            if previous_last == 0x0D and data[0] != 0x0A:
                return None
            newlines = np.flatnonzero(data == 0x0A)
            if b"\r" in chunk:
                cr = data == 0x0D
                followed = np.zeros_like(cr)
                followed[:-1] = data[1:] == 0x0A
                if (cr & ~followed)[:-1].any():
                    return None
                # A line's content ends before its LF, or before the CR of a CRLF.
                before = np.where(newlines > 0, data[np.maximum(newlines - 1, 0)], previous_last)
                content_ends.append(offset + newlines - (before == 0x0D))
            elif previous_last == 0x0D and len(newlines) and newlines[0] == 0:
                content_ends.append(offset + newlines - (newlines == 0))
            else:
                content_ends.append(offset + newlines)
            newline_at.append(offset + newlines)
            previous_last = int(data[-1])
            offset += len(data)
    if previous_last == 0x0D:
        return None
    ends = np.concatenate(content_ends) if content_ends else np.zeros(0, dtype=np.int64)
    lfs = np.concatenate(newline_at) if newline_at else np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([0], lfs[:-1] + 1)) if len(lfs) else lfs
    numbers = np.flatnonzero(ends > starts).astype(np.int64) + 1
    last_start = int(lfs[-1]) + 1 if len(lfs) else 0
    if offset > last_start:  # a last line without a newline
        numbers = np.append(numbers, len(lfs) + 1)
    return numbers


def _encode_python(column: Sequence[str], index: dict[str, int], codes: list[int]) -> None:
    codes.extend([index.setdefault(value, len(index)) for value in column])


def _read_with_csv_module(path: Path, encoding: str, delimiter: str) -> RawColumns | None:
    """Columns by the standard ``csv`` module (handles quoting, ragged rows, any encoding)."""
    with path.open(newline="", encoding=encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return None
        width = len(header)
        # A repeated column name: the later column wins, as in csv.DictReader's dicts.
        position = {name: j for j, name in enumerate(header)}
        indices: dict[str, dict[str, int]] = {n: {} for n in position if n in _ENCODED}
        codes: dict[str, list[int]] = {n: [] for n in indices}
        record_id: list[str] = []
        quantity: list[str] = []
        lines: list[int] = []
        extra: list[int] = []
        rows: list[list[str]] = []

        def flush() -> None:
            first = len(record_id)
            for k, row in enumerate(rows):
                if len(row) > width:
                    extra.append(first + k)
                    del row[width:]
                elif len(row) < width:
                    row.extend([""] * (width - len(row)))
            columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
            empty = [""] * len(rows)
            record_id.extend(columns[position["record_id"]] if "record_id" in position else empty)
            quantity.extend(columns[position["quantity"]] if "quantity" in position else empty)
            for name, index in indices.items():
                _encode_python(columns[position[name]], index, codes[name])
            rows.clear()

        for row in reader:
            if not row:
                continue  # csv.DictReader skips empty rows too
            lines.append(reader.line_num)
            rows.append(row)
            if len(rows) == CHUNK_ROWS:
                flush()
        flush()
    encoded = {
        name: _Encoded(list(index), np.asarray(codes[name], dtype=np.int32))
        for name, index in indices.items()
    }
    return RawColumns(
        header, np.asarray(lines, dtype=np.int64), record_id, quantity, encoded, extra
    )


class _ArrowText(LazySequence[str]):
    """A string column kept in pyarrow's buffers; a cell becomes a ``str`` only when read."""

    def __init__(self, chunks: list[Any]) -> None:
        self._chunks = chunks
        self._starts = np.cumsum([0] + [len(c) for c in chunks])

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _build(self, index: int) -> str:
        chunk = int(np.searchsorted(self._starts, index, side="right")) - 1
        value: str = self._chunks[chunk][index - int(self._starts[chunk])].as_py()
        return value


def _arrow_numbers(column: Any) -> FloatArray:
    """Quantities parsed by pyarrow, exactly as ``float()`` would, NaN where it cannot.

    pyarrow's string-to-double cast (a correctly rounded parser) accepts plain decimal and
    exponent notation only; a batch with anything else (blank cells, spaces, ``1_000``, other
    scripts' digits) is parsed cell by cell with ``float()`` instead, so the result never
    depends on which parser ran. Tested against ``float()`` in tests/unit/accounting.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        parsed: FloatArray = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        return parsed
    except pa.ArrowInvalid:
        return _python_numbers(column.to_pylist())


def _python_numbers(cells: list[str]) -> FloatArray:
    """``float()`` of every stripped cell, NaN where it raises."""
    try:
        return np.fromiter(map(float, map(str.strip, cells)), dtype=np.float64, count=len(cells))
    except ValueError:
        parsed = np.empty(len(cells), dtype=np.float64)
        for i, cell in enumerate(cells):
            try:
                parsed[i] = float(cell.strip())
            except ValueError:
                parsed[i] = math.nan
        return parsed


def _read_with_arrow(path: Path, lines: IntArray) -> RawColumns | None:
    """Columns by pyarrow's CSV reader, batch by batch; None if the file is irregular for it.

    Each batch's text columns are dictionary-encoded and re-coded against the file's running
    dictionary, so only one batch of cells is in memory at a time besides the record ids.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:  # pragma: no cover - pyarrow is a dependency; the csv module still works
        return None
    if len(lines) == 0 or lines[0] != 1:
        return None
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first = handle.readline().rstrip("\r\n")
    header = next(csv.reader([first]))
    if len(set(header)) != len(header):
        return None
    record_id: list[str] = []
    quantity_chunks: list[Any] = []
    numbers: list[FloatArray] = []
    indices: dict[str, dict[str, int]] = {n: {} for n in header if n in _ENCODED}
    codes: dict[str, list[CodeArray]] = {n: [] for n in indices}
    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(
                column_names=header, skip_rows=1, use_threads=True, block_size=1 << 22
            ),
            parse_options=pcsv.ParseOptions(delimiter=",", quote_char=False),
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            if "record_id" in header:
                record_id.extend(batch.column("record_id").to_pylist())
            if "quantity" in header:
                cells = batch.column("quantity")
                quantity_chunks.append(cells)
                numbers.append(_arrow_numbers(cells))
            for name, index in indices.items():
                encoded = batch.column(name).dictionary_encode()
                local = encoded.dictionary.to_pylist()
                remap = np.asarray(
                    [index.setdefault(value, len(index)) for value in local], dtype=np.int32
                )
                codes[name].append(remap[encoded.indices.to_numpy(zero_copy_only=False)])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # ragged rows, bad UTF-8: the csv module reports them as the row parser does
    n = len(lines) - 1
    if len(record_id) != n and "record_id" in header:
        return None
    empty = [""] * n
    encoded_columns = {
        name: _Encoded(
            list(index),
            np.concatenate(codes[name]) if codes[name] else np.zeros(0, dtype=np.int32),
        )
        for name, index in indices.items()
    }
    if any(len(column.codes) != n for column in encoded_columns.values()):
        return None
    return RawColumns(
        header,
        lines[1:].copy(),
        record_id if "record_id" in header else empty,
        _ArrowText(quantity_chunks) if "quantity" in header else empty,
        encoded_columns,
        [],
        np.concatenate(numbers) if numbers else None,
    )


def read_columns(path: str | Path, *, encoding: str = "utf-8-sig") -> RawColumns | None:
    """A CSV file's cells as columns (pyarrow when the file is plain); None if it is empty."""
    path = Path(path)
    if encoding.replace("_", "-").lower() in ("utf-8", "utf-8-sig", "utf8"):
        lines = plain_lines(path)
        if lines is not None:
            raw = _read_with_arrow(path, lines)
            if raw is not None:
                return raw
    return _read_with_csv_module(path, encoding, ",")


# -- validation ----------------------------------------------------------------------------


def _text(value: str) -> str | None:
    value = value.strip()
    return value or None


def _date_value(value: str) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return _iso_date(text)
    except ValueError:
        return None


def _activity_value(value: str) -> str | None:
    text = _text(value)
    return text if text is not None and _valid_activity(text) else None


def _region_value(value: str) -> str | None:
    text = _text(value)
    return None if text is None else _normal_region(text)


def _category_value(value: str) -> object:
    text = _text(value)
    if text is None:
        return None
    try:
        number = int(text)
    except ValueError:
        return _BAD
    return number if 1 <= number <= 15 else _BAD


_CHECKS: dict[str, Callable[[str], Any]] = {
    "period_start": _date_value,
    "period_end": _date_value,
    "site": _text,
    "activity": _activity_value,
    "unit": _text,
    "region": _region_value,
    "scope3_category": _category_value,
}
"""Per distinct cell, its value in the record: None when empty, ``_BAD`` when wrong."""


@dataclass
class _Normalised:
    """A validated, re-encoded column: ``values[codes[i]]`` is row i's field value."""

    values: list[Any]
    codes: CodeArray


def _normalise(name: str, column: _Encoded | None, n: int, bad: BoolArray) -> _Normalised:
    """Apply the field's check once per distinct raw cell; flag rows whose cell fails it."""
    if column is None:  # an optional column the file does not have
        return _Normalised([None], np.zeros(n, dtype=np.int32))
    check = _CHECKS.get(name, _text)
    required = name in CANONICAL_COLUMNS
    index: dict[Any, int] = {}
    values: list[Any] = []
    remap = np.empty(len(column.values), dtype=np.int32)
    valid = np.ones(len(column.values), dtype=np.bool_)
    for k, raw in enumerate(column.values):
        value = check(raw)
        if value is _BAD or (required and value is None):
            valid[k] = False
            remap[k] = 0
            continue
        code = index.get(value)
        if code is None:
            code = index[value] = len(values)
            values.append(value)
        remap[k] = code
    if not valid.all():
        bad |= ~valid[column.codes]
    if not values:
        values.append(None)
    return _Normalised(values, remap[column.codes])


def _quantities(raw: RawColumns, bad: BoolArray) -> FloatArray:
    """Every quantity as ``float()`` reads it; failing or non-finite cells flag their row."""
    numbers = raw.numbers if raw.numbers is not None else _python_numbers(list(raw.quantity))
    bad |= ~np.isfinite(numbers)
    return numbers


def validate_columns(
    raw: RawColumns, *, source: str | None = None
) -> tuple[ActivityTable, list[RowError]]:
    """Check every row as ``parse_activity_rows`` does; bad rows become ``RowError``s.

    Columns are checked per distinct value; only flagged rows go through the row parser, which
    writes the error. Duplicate record ids among otherwise valid rows are errors naming the row
    of the first occurrence.
    """
    n = len(raw)
    errors = header_errors(raw.header, has_rows=n > 0)
    if errors or n == 0:
        return ActivityTable.empty(), errors
    bad = np.zeros(n, dtype=np.bool_)
    record_ids = [cell.strip() for cell in raw.record_id]
    bad |= np.fromiter((not rid for rid in record_ids), dtype=np.bool_, count=n)
    quantity = _quantities(raw, bad)
    fields = {name: _normalise(name, raw.encoded.get(name), n, bad) for name in _ENCODED}
    starts, ends = fields["period_start"], fields["period_end"]
    start_ord = np.asarray([d.toordinal() if d else 0 for d in starts.values], dtype=np.int64)
    end_ord = np.asarray([d.toordinal() if d else 0 for d in ends.values], dtype=np.int64)
    bad |= end_ord[ends.codes] < start_ord[starts.codes]

    extra = np.zeros(n, dtype=np.bool_)
    extra[raw.extra] = True
    bad |= extra
    found: list[RowError] = []
    for i in np.flatnonzero(bad).tolist():
        line = int(raw.lines[i])
        row = raw.row(i)
        rid = _text(raw.record_id[i])
        if extra[i]:
            found.append(RowError(line, rid, None, "more cells than columns"))
            continue
        try:
            _parse_one(row, line, source)
        except _RowInvalid as exc:
            found.append(RowError(line, rid, exc.column, exc.message))
            continue
        raise AssertionError(f"column and row checks disagree on line {line}")  # pragma: no cover

    kept = np.flatnonzero(~bad)
    kept_ids = [record_ids[i] for i in kept.tolist()]
    if len(set(kept_ids)) != len(kept_ids):
        seen: dict[str, int] = {}
        duplicate = np.zeros(len(kept), dtype=np.bool_)
        for k, rid in enumerate(kept_ids):
            line = int(raw.lines[kept[k]])
            first = seen.setdefault(rid, line)
            if first != line:
                duplicate[k] = True
                found.append(
                    RowError(
                        line, rid, "record_id", f"duplicate of row {first} (would double count)"
                    )
                )
        kept = kept[~duplicate]
        kept_ids = [record_ids[i] for i in kept.tolist()]
    found.sort(key=lambda error: error.row)

    sources = fields["source"]
    if source is not None and None in sources.values:
        sources.values[sources.values.index(None)] = source
    if len(kept) == n:  # nothing rejected: keep the arrays as they are
        table = ActivityTable(record_id=kept_ids, quantity=quantity, rows=raw.lines, fields=fields)
    else:
        table = ActivityTable(
            record_id=kept_ids,
            quantity=quantity[kept],
            rows=raw.lines[kept],
            fields={name: _Normalised(f.values, f.codes[kept]) for name, f in fields.items()},
        )
    return table, found


def read_activity_table(path: str | Path) -> tuple[ActivityTable, list[RowError]]:
    """Read an activity CSV (UTF-8, header row) column-wise into a table and row errors.

    Same contract as ``records.read_activity_csv`` (which materialises this table as a list).
    """
    raw = read_columns(path)
    if raw is None:
        return ActivityTable.empty(), [RowError(1, None, None, "file is empty (no header row)")]
    return validate_columns(raw)


# -- the table -----------------------------------------------------------------------------


class ActivityTable(LazySequence[ActivityRecord]):
    """Validated activity records as columns; a record object is built only when indexed.

    ``fields`` holds every field but ``record_id`` and ``quantity`` dictionary-encoded (values
    are dates, strings, category numbers or None). Memory is about one string per row (the id)
    plus a few integers, instead of a dataclass and a dozen strings per row.
    """

    def __init__(
        self,
        *,
        record_id: list[str],
        quantity: FloatArray,
        rows: IntArray,
        fields: dict[str, _Normalised],
    ) -> None:
        self._record_id = record_id
        self._quantity = quantity
        self._rows = rows
        self._fields = fields

    @classmethod
    def empty(cls) -> ActivityTable:
        """A table of no records."""
        return cls(
            record_id=[],
            quantity=np.zeros(0, dtype=np.float64),
            rows=np.zeros(0, dtype=np.int64),
            fields={name: _Normalised([None], np.zeros(0, dtype=np.int32)) for name in _ENCODED},
        )

    def __len__(self) -> int:
        return len(self._record_id)

    def _value(self, name: str, i: int) -> Any:
        column = self._fields[name]
        return column.values[int(column.codes[i])]

    def _build(self, i: int) -> ActivityRecord:
        value = self._value
        return ActivityRecord(
            record_id=self._record_id[i],
            period_start=value("period_start", i),
            period_end=value("period_end", i),
            site=value("site", i),
            activity=value("activity", i),
            quantity=float(self._quantity[i]),
            unit=value("unit", i),
            region=value("region", i),
            scope3_category=value("scope3_category", i),
            supplier=value("supplier", i),
            customer=value("customer", i),
            product=value("product", i),
            instrument=value("instrument", i),
            data_quality=value("data_quality", i),
            source=value("source", i),
            row=int(self._rows[i]),
        )

    def __iter__(self) -> Iterator[ActivityRecord]:
        # In blocks: a consumer that stops early (a search for one id) builds little.
        for start in range(0, len(self), _ITER_BLOCK):
            yield from self._records(start, min(start + _ITER_BLOCK, len(self)), True)

    def to_records(self, *, with_rows: bool = True) -> list[ActivityRecord]:
        """Every record as an ``ActivityRecord`` (what row-wise callers want).

        ``with_rows=False`` leaves ``row`` None (an adapter's batch position is no file line).
        """
        return self._records(0, len(self), with_rows)

    def _records(self, first: int, stop: int, with_rows: bool) -> list[ActivityRecord]:
        columns: list[list[Any]] = []
        for name in _ENCODED:
            column = self._fields[name]
            values = column.values
            columns.append([values[k] for k in column.codes[first:stop].tolist()])
        quantity = self._quantity[first:stop].tolist()
        rows = self._rows[first:stop].tolist() if with_rows else [None] * (stop - first)
        start, end, site, activity, *rest = columns
        ids = self._record_id[first:stop]
        return [
            ActivityRecord(*cells)
            for cells in zip(ids, start, end, site, activity, quantity, *rest, rows, strict=True)
        ]

    @property
    def rows(self) -> IntArray:
        """Every record's file row (or batch position), in order."""
        return self._rows

    def select(self, keep: BoolArray) -> ActivityTable:
        """The records where ``keep`` is true, in order."""
        if keep.all():
            return self
        index = np.flatnonzero(keep)
        return ActivityTable(
            record_id=[self._record_id[i] for i in index.tolist()],
            quantity=self._quantity[index],
            rows=self._rows[index],
            fields={n: _Normalised(f.values, f.codes[index]) for n, f in self._fields.items()},
        )

    def periods_where(self, test: Callable[[date, date], bool]) -> BoolArray:
        """``test(period_start, period_end)`` per record, evaluated once per distinct pair."""
        starts, ends = self._fields["period_start"], self._fields["period_end"]
        pair = starts.codes.astype(np.int64) * len(ends.values) + ends.codes
        pairs, inverse = np.unique(pair, return_inverse=True)
        width = len(ends.values)
        results = np.asarray(
            [test(starts.values[p // width], ends.values[p % width]) for p in pairs.tolist()],
            dtype=np.bool_,
        )
        return results[inverse.reshape(-1)] if len(self) else np.zeros(0, dtype=np.bool_)

    @property
    def quantities(self) -> FloatArray:
        """Every record's quantity, in order."""
        return self._quantity

    def period_bounds(self) -> tuple[date | None, date | None]:
        """Earliest period start and latest period end over all records."""
        if not len(self):
            return None, None
        starts, ends = self._fields["period_start"], self._fields["period_end"]
        used_starts = np.unique(starts.codes).tolist()
        used_ends = np.unique(ends.codes).tolist()
        return (
            min(starts.values[k] for k in used_starts),
            max(ends.values[k] for k in used_ends),
        )

    def grouping(self) -> tuple[IntArray, list[int], BoolArray]:
        """The engine's groups without a per-record loop.

        Records sharing (activity, region, unit, year of period start, Scope 3 category,
        instrument) form a group, numbered by first appearance as ``compute_footprint``'s
        own loop numbers them. Returns each record's group, each group's first record, and
        which records say ``data_quality = primary``.
        """
        n = len(self)
        starts = self._fields["period_start"]
        years = np.asarray([d.year if d else 0 for d in starts.values], dtype=np.int64)
        parts: list[npt.NDArray[np.integer[Any]]] = [
            self._fields["activity"].codes,
            self._fields["region"].codes,
            self._fields["unit"].codes,
            years[starts.codes],
            self._fields["scope3_category"].codes,
            self._fields["instrument"].codes,
        ]
        key = np.zeros(n, dtype=np.int64)
        span = 1
        for part in parts:
            width = int(part.max()) + 1 if n else 1
            if span * width >= 2**62:  # re-number first so the combined key cannot overflow
                _, inverse = np.unique(key, return_inverse=True)
                key = inverse.astype(np.int64).reshape(-1)
                span = int(key.max()) + 1
            key = key * width + part.astype(np.int64)
            span *= width
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        group_index = rank[inverse.reshape(-1)].astype(np.int64)
        quality = self._fields["data_quality"]
        primary_values = np.asarray(
            [v is not None and v.lower() == "primary" for v in quality.values], dtype=np.bool_
        )
        return group_index, first[order].tolist(), primary_values[quality.codes]


__all__ = [
    "ActivityTable",
    "RawColumns",
    "read_activity_table",
    "read_columns",
    "validate_columns",
]
