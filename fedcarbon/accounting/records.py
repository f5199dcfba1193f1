"""Activity records: the one canonical row type every adapter produces.

An activity record is a quantity of something an organisation did in a period (fuel burnt,
electricity bought, refrigerant released, money spent, product made), before any emission
factor is applied. Keeping the raw activity separate from the factor is what lets an auditor
re-trace every result (GHG Protocol Corporate Standard, ch. 6 "Identifying and calculating GHG
emissions": activity data x emission factor). The CSV layout is documented in
``docs/activity-data.md``.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

CANONICAL_COLUMNS: tuple[str, ...] = (
    "record_id",
    "period_start",
    "period_end",
    "site",
    "activity",
    "quantity",
    "unit",
    "region",
)
"""Columns every activity CSV must have, in the order ``write_activity_csv`` writes them."""

OPTIONAL_COLUMNS: tuple[str, ...] = (
    "scope3_category",
    "supplier",
    "customer",
    "product",
    "instrument",
    "data_quality",
    "source",
    "description",
)
"""Columns a CSV may have; an empty cell means "not given"."""

_REGION_RE = re.compile(r"^(GLOBAL|[A-Z]{2}(-[A-Z0-9]{1,3})?)$")
_ACTIVITY_RE = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_\-+]+)+$")


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """One quantity of activity in one period at one site, as an adapter read it.

    ``row`` is where the record came from in a file (1-based line, header = 1), kept only so
    errors can name it; it takes no part in equality.
    """

    record_id: str
    period_start: date
    period_end: date
    site: str
    activity: str
    quantity: float
    unit: str
    region: str
    scope3_category: int | None = None
    supplier: str | None = None
    customer: str | None = None
    product: str | None = None
    instrument: str | None = None
    data_quality: str | None = None
    source: str | None = None
    description: str | None = None
    """Free text of a purchase line (ERP short text): what ``spend.unmatched`` is matched by."""
    row: int | None = field(default=None, compare=False)

    @property
    def is_output(self) -> bool:
        """True for production-output records (``output.<product>``), which carry no emissions."""
        return self.activity.startswith("output.")


@dataclass(frozen=True)
class RowError:
    """Why one input row was rejected; ``row`` is the 1-based file line (header = 1)."""

    row: int
    record_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}"
        if self.record_id:
            where += f" (record {self.record_id!r})"
        if self.field:
            where += f", column {self.field!r}"
        return f"{where}: {self.message}"


class _RowInvalid(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def _text(row: Mapping[str, str | None], column: str) -> str | None:
    value = row.get(column)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _required(row: Mapping[str, str | None], column: str) -> str:
    value = _text(row, column)
    if value is None:
        raise _RowInvalid(column, "is empty")
    return value


@lru_cache(maxsize=4096)
def _iso_date(value: str) -> date:
    return date.fromisoformat(value)


@lru_cache(maxsize=4096)
def _valid_activity(activity: str) -> bool:
    return _ACTIVITY_RE.match(activity) is not None


@lru_cache(maxsize=4096)
def _normal_region(region: str) -> str | None:
    upper = region.upper()
    return upper if _REGION_RE.match(upper) else None


def _date(row: Mapping[str, str | None], column: str) -> date:
    value = _required(row, column)
    try:
        return _iso_date(value)
    except ValueError:
        raise _RowInvalid(column, f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def _parse_one(row: Mapping[str, str | None], line: int, source: str | None) -> ActivityRecord:
    record_id = _required(row, "record_id")
    start = _date(row, "period_start")
    end = _date(row, "period_end")
    if end < start:
        raise _RowInvalid("period_end", f"{end} is before period_start {start}")
    activity = _required(row, "activity")
    if not _valid_activity(activity):
        raise _RowInvalid("activity", f"{activity!r} is not a dotted activity code")
    raw_quantity = _required(row, "quantity")
    try:
        quantity = float(raw_quantity)
    except ValueError:
        raise _RowInvalid("quantity", f"{raw_quantity!r} is not a number") from None
    if not math.isfinite(quantity):
        raise _RowInvalid("quantity", f"{raw_quantity!r} is not a finite number")
    unit = _required(row, "unit")
    raw_region = _required(row, "region")
    region = _normal_region(raw_region)
    if region is None:
        raise _RowInvalid(
            "region", f"{raw_region!r} is not ISO 3166 alpha-2 (or -subdivision) or GLOBAL"
        )
    raw_category = _text(row, "scope3_category")
    category: int | None = None
    if raw_category is not None:
        try:
            category = int(raw_category)
        except ValueError:
            raise _RowInvalid("scope3_category", f"{raw_category!r} is not 1..15") from None
        if not 1 <= category <= 15:
            raise _RowInvalid("scope3_category", f"{category} is not 1..15")
    return ActivityRecord(
        record_id=record_id,
        period_start=start,
        period_end=end,
        site=_required(row, "site"),
        activity=activity,
        quantity=quantity,
        unit=unit,
        region=region,
        scope3_category=category,
        supplier=_text(row, "supplier"),
        customer=_text(row, "customer"),
        product=_text(row, "product"),
        instrument=_text(row, "instrument"),
        data_quality=_text(row, "data_quality"),
        source=_text(row, "source") or source,
        description=_text(row, "description"),
        row=line,
    )


def header_errors(columns: Iterable[str], *, has_rows: bool) -> list[RowError]:
    """Row-1 errors for a header: required columns missing, and (given rows) unknown ones.

    A header-only file is only checked for missing columns, so that a wrong file is not a
    silent empty result.
    """
    present = set(columns)
    errors = [
        RowError(1, None, column, "required column is missing")
        for column in CANONICAL_COLUMNS
        if column not in present
    ]
    if has_rows:
        known = set(CANONICAL_COLUMNS) | set(OPTIONAL_COLUMNS)
        errors += [
            RowError(1, None, column, "unknown column (typo?)")
            for column in sorted(present - known)
        ]
    return errors


def _parse_numbered(
    numbered: Iterable[tuple[int, Mapping[str, str | None]]], source: str | None
) -> tuple[list[ActivityRecord], list[RowError]]:
    records: list[ActivityRecord] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    checked_columns = False
    for line, row in numbered:
        if not checked_columns:
            checked_columns = True
            errors = header_errors([c for c in row if c is not None], has_rows=True)
            if errors:
                return [], errors
        if None in row:
            errors.append(RowError(line, _text(row, "record_id"), None, "more cells than columns"))
            continue
        try:
            record = _parse_one(row, line, source)
        except _RowInvalid as exc:
            errors.append(RowError(line, _text(row, "record_id"), exc.column, exc.message))
            continue
        if record.record_id in seen:
            errors.append(
                RowError(
                    line,
                    record.record_id,
                    "record_id",
                    f"duplicate of row {seen[record.record_id]} (would double count)",
                )
            )
            continue
        seen[record.record_id] = line
        records.append(record)
    return records, errors


def parse_activity_rows(
    rows: Iterable[Mapping[str, str]], *, source: str | None = None, first_row: int = 2
) -> tuple[list[ActivityRecord], list[RowError]]:
    """Parse string rows (e.g. from ``csv.DictReader``) into records, collecting every bad row.

    Nothing is dropped silently: each row becomes a record or a ``RowError`` naming its row
    number (``first_row`` for the first mapping, counting up), record id and column. Duplicate
    record ids are errors because they would be counted twice.
    """
    return _parse_numbered(enumerate(rows, start=first_row), source)


def read_activity_csv(path: str | Path) -> tuple[list[ActivityRecord], list[RowError]]:
    """Read an activity CSV (UTF-8, header row) into records and row errors.

    The file is read and checked column-wise (``activity_table.read_activity_table``); callers
    that can work on columns (``compute_footprint`` can) should use that table directly and skip
    building a record object per row.
    """
    from fedcarbon.accounting.activity_table import read_activity_table

    table, errors = read_activity_table(path)
    return table.to_records(), errors


def read_activity_csv_rowwise(path: str | Path) -> tuple[list[ActivityRecord], list[RowError]]:
    """The row-by-row reader (``csv.DictReader``): the reference the column reader is tested on."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            return [], [RowError(1, None, None, "file is empty (no header row)")]

        def numbered() -> Iterable[tuple[int, Mapping[str, str | None]]]:
            for row in reader:
                yield reader.line_num, row

        records, errors = _parse_numbered(numbered(), source=None)
        if not records and not errors:
            # Header only: still check the columns so a wrong file is not a silent empty result.
            errors = header_errors(reader.fieldnames, has_rows=False)
        return records, errors


_FIELD_ORDER = CANONICAL_COLUMNS + OPTIONAL_COLUMNS


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_activity_csv(records: Iterable[ActivityRecord], path: str | Path) -> None:
    """Write records as a canonical activity CSV that ``read_activity_csv`` reads back unchanged."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_FIELD_ORDER)
        for record in records:
            writer.writerow([_cell(getattr(record, name)) for name in _FIELD_ORDER])
