"""Column-wise mapping gives exactly what row-wise mapping gives: records, rejections, ignored.

``map_rows`` (one ``map_row`` per row) is the reference; ``map_columns`` must agree with it on
hostile rows under every mapping feature, and the CSV adapter's column reader must agree with
``csv.DictReader`` rows fed to ``map_rows``.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedcarbon.adapters.builtin.csv_export import read_csv_columns
from fedcarbon.adapters.column_mapping import MISSING, SourceColumns, map_columns
from fedcarbon.adapters.contract import Period
from fedcarbon.adapters.mapping import MappedRows, RecordMapping, map_rows

YEAR = Period(date(2024, 1, 1), date(2024, 12, 31))

ERP = RecordMapping(
    columns={
        "record_id": "{Werk}-{Beleg}",
        "site": "Werk",
        "activity": "Material",
        "quantity": "Menge",
        "unit": "ME",
        "period_start": "Datum",
        "period_end": "Datum",
    },
    defaults={"region": "DE"},
    units={"KWH": "kWh", "MWH": "MWh", "L": "L"},
    activities={"STROM": "electricity.grid", "GAS": "fuel.natural_gas", "DIESEL": "fuel.diesel"},
    convert={"fuel.natural_gas": "kWh", "fuel.": "m**3"},
    filters={"BWART": ("101", "102", "201")},
    negate={"BWART": ("102",)},
    date_format="%d.%m.%Y",
    decimal_comma=True,
)
PLAIN = RecordMapping(
    columns={"record_id": "Beleg", "site": "Werk", "activity": "Material", "quantity": "Menge"},
    defaults={"region": "FR", "unit": "kWh", "period_start": "2024-01-01"},
    activities={"STROM": "electricity.grid", "GAS": "fuel.natural_gas"},
    unmapped="ignore",
    convert={"electricity.": "MWh"},
)
CANONICAL = RecordMapping()

_ERP_CELLS = {
    "Beleg": st.sampled_from(["1", "2", "3", "", " 4 "]),
    "Werk": st.sampled_from(["P1", "P2", ""]),
    "Material": st.sampled_from(["STROM", "GAS", "DIESEL", "SCHRAUBE", ""]),
    "Menge": st.sampled_from(
        ["1.234,5", "1,5", "200", "12,5-", "abc", "", "1.5", "1e3", "nan", " 7 ", "1.23"]
    ),
    "ME": st.sampled_from(["KWH", "kwh", "MWH", "L", "ST", "", "kg"]),
    "Datum": st.sampled_from(["15.01.2024", "31.02.2024", "20.12.2023", "", "2024-01-15"]),
    "BWART": st.sampled_from(["101", "102", "201", "999"]),
}
_PLAIN_CELLS = {
    "Beleg": st.sampled_from(["a", "b", "c", ""]),
    "Werk": st.sampled_from(["S1", ""]),
    "Material": st.sampled_from(["STROM", "GAS", "OTHER", ""]),
    "Menge": st.sampled_from(["1", "2.5", "-3", "x", "", "1,000", "inf", "1_0"]),
    "period_end": st.sampled_from(["2024-12-31", "2023-12-31", "bad", ""]),
    "product": st.sampled_from(["", "widget"]),
}
_CANONICAL_CELLS = {
    "record_id": st.sampled_from(["r1", "r2", " r1", ""]),
    "period_start": st.sampled_from(["2024-01-01", "2023-01-01", "x"]),
    "period_end": st.sampled_from(["2024-12-31", "2023-12-31"]),
    "site": st.sampled_from(["S", ""]),
    "activity": st.sampled_from(["fuel.gas", "bad", "electricity.grid"]),
    "quantity": st.sampled_from(["1", "2.5e2", "", "y"]),
    "unit": st.sampled_from(["kWh", "MWh", "bogus", ""]),
    "region": st.sampled_from(["GB", "gb", "Britain"]),
}


def _same(got: MappedRows, expected: MappedRows) -> None:
    assert got.rejected == expected.rejected
    assert got.records == expected.records
    assert got.refs == expected.refs
    assert got.ignored == expected.ignored


def _rows_strategy(cells: dict[str, Any]) -> Any:
    return st.lists(st.fixed_dictionaries(cells), min_size=0, max_size=10)


def _check(rows: list[dict[str, Any]], mapping: RecordMapping) -> None:
    pairs = [(f"f.csv:{i + 2}", row) for i, row in enumerate(rows)]
    expected = map_rows(pairs, mapping, source="test", period=YEAR)
    got = map_columns(SourceColumns.from_rows(pairs), mapping, source="test", period=YEAR)
    _same(got, expected)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows_strategy(_ERP_CELLS))
def test_erp_mapping_agrees_with_map_rows(rows: list[dict[str, Any]]) -> None:
    _check(rows, ERP)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows_strategy(_PLAIN_CELLS))
def test_defaults_ignore_and_convert_agree_with_map_rows(rows: list[dict[str, Any]]) -> None:
    _check(rows, PLAIN)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows_strategy(_CANONICAL_CELLS))
def test_identity_mapping_agrees_with_map_rows(rows: list[dict[str, Any]]) -> None:
    _check(rows, CANONICAL)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "Beleg": st.sampled_from([1, 2, 1.0, True, "1"]),
                "Werk": st.sampled_from(["P1", None, ""]),
                "Material": st.sampled_from(["STROM", "GAS"]),
                "Menge": st.sampled_from([1, 1.5, 2.0, True, "3", float("nan"), -4]),
                "ME": st.sampled_from(["KWH", "MWH"]),
                "Datum": st.sampled_from(
                    [datetime(2024, 3, 1, 12), date(2024, 2, 1), "01.05.2024", 45000]
                ),
                "BWART": st.sampled_from(["101", 102, "102"]),
            }
        ),
        max_size=8,
    )
)
def test_typed_cells_of_a_workbook_agree_with_map_rows(rows: list[dict[str, Any]]) -> None:
    _check(rows, ERP)


def test_a_row_without_a_mapped_column_is_rejected_as_map_row_does() -> None:
    rows = [
        ("a.csv:2", {"Beleg": "1", "Werk": "P1", "Material": "STROM", "Menge": "1"}),
        ("b.csv:2", {"Beleg": "2", "Material": "STROM", "Menge": "2"}),  # no Werk column
    ]
    table = SourceColumns.from_rows(rows)
    assert table.row(1) == rows[1][1] and table.columns["Werk"].values[-1] is MISSING
    _same(
        map_columns(table, PLAIN, source="t", period=YEAR),
        map_rows(rows, PLAIN, source="t", period=YEAR),
    )


def test_concatenated_files_keep_order_and_catch_duplicates_across_files() -> None:
    first = [
        (
            "a.csv:2",
            {
                "Beleg": "a",
                "Material": "STROM",
                "Menge": "1",
                "Werk": "S",
                "period_end": "2024-12-31",
            },
        )
    ]
    second = [
        (
            "b.csv:2",
            {
                "Beleg": "a",
                "Material": "GAS",
                "Menge": "2",
                "Werk": "S",
                "period_end": "2024-12-31",
            },
        )
    ]
    joined = SourceColumns.concat([SourceColumns.from_rows(first), SourceColumns.from_rows(second)])
    got = map_columns(joined, PLAIN, source="t", period=YEAR)
    _same(got, map_rows(first + second, PLAIN, source="t", period=YEAR))
    assert "duplicate of row" in got.rejected[0].reason


def _dictreader_rows(path: Path, delimiter: str) -> tuple[list[tuple[str, Any]], list[str]]:
    """The CSV adapter's former reading: DictReader rows, ragged ones refused."""
    pairs: list[tuple[str, Any]] = []
    refused: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        for row in reader:
            ref = f"{path.name}:{reader.line_num}"
            if None in row or any(v is None for v in row.values()):
                refused.append(ref)
            else:
                pairs.append((ref, {str(k).strip(): v for k, v in row.items()}))
    return pairs, refused


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=_rows_strategy(_ERP_CELLS),
    quoted=st.booleans(),
    ragged=st.sampled_from([0, -1, 1]),
    crlf=st.booleans(),
)
def test_csv_adapter_columns_agree_with_dictreader_rows(
    rows: list[dict[str, str]], quoted: bool, ragged: int, crlf: bool
) -> None:
    names = list(_ERP_CELLS)
    lines = [";".join(f" {n}" if k == 0 else n for k, n in enumerate(names))]
    for k, row in enumerate(rows):
        cells = [f'"{row[n]}"' if quoted else row[n] for n in names]
        if k == 0 and ragged:
            cells = cells[:-1] if ragged < 0 else [*cells, "x"]
        lines.append(";".join(cells))
    newline = "\r\n" if crlf else "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.csv"
        path.write_text(newline.join(lines) + newline, encoding="utf-8")
        table, refused = read_csv_columns(path, "utf-8-sig", ";")
        pairs, expected_refused = _dictreader_rows(path, ";")
    assert [r.source_ref for r in refused] == expected_refused
    got = map_columns(table, ERP, source="csv", period=YEAR)
    _same(got, map_rows(pairs, ERP, source="csv", period=YEAR))


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            _CANONICAL_CELLS,
            optional={
                "scope3_category": st.sampled_from(["", "3", "16"]),
                "data_quality": st.sampled_from(["", "primary"]),
            },
        ),
        max_size=8,
    ),
    drop=st.sets(st.sampled_from(["site", "period_end", "unit", "quantity"]), max_size=2),
)
def test_short_rows_without_canonical_columns_agree_with_map_rows(
    rows: list[dict[str, Any]], drop: set[str]
) -> None:
    """openpyxl gives shorter rows when trailing cells are empty: those keys are absent."""
    for k, row in enumerate(rows):
        if k % 2:
            for name in drop:
                row.pop(name, None)
    _check(rows, CANONICAL)
    _check(
        rows, RecordMapping(defaults={"site": "HQ", "quantity": "1", "period_end": "2024-12-31"})
    )
