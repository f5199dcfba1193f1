"""The column-wise activity reader gives exactly what the row-by-row reader gives.

Same records (values and file rows), same errors (row, record id, column, message) on hostile
files: quoting, blank lines, CRLF, BOM, ragged rows, odd numbers, bad codes, duplicates.
"""

from __future__ import annotations

import math
import tempfile
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedcarbon.accounting.activity_table import (
    ActivityTable,
    _arrow_numbers,
    read_activity_table,
    read_columns,
)
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.factors import FactorCatalog
from fedcarbon.accounting.records import (
    ActivityRecord,
    read_activity_csv,
    read_activity_csv_rowwise,
    write_activity_csv,
)

from .engine_samples import FACTORS_CSV

HEADER = "record_id,period_start,period_end,site,activity,quantity,unit,region"


def _both(path: Path) -> None:
    """Assert the column reader and the row reader agree on ``path``, rows included."""
    table, errors = read_activity_table(path)
    records = table.to_records()
    expected, expected_errors = read_activity_csv_rowwise(path)
    assert errors == expected_errors
    assert records == expected
    assert [r.row for r in records] == [r.row for r in expected]
    assert [table[i] for i in range(len(table))] == expected


def _write(tmp_path: Path, text: str, name: str = "a.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_plain_file_takes_the_arrow_path(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "\na,2023-01-01,2023-01-31,S,fuel.gas,1,kWh,GB\n")
    raw = read_columns(path)
    assert raw is not None and raw.numbers is not None  # pyarrow parsed the quantities


def test_quoted_file_takes_the_csv_module_path(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + '\na,2023-01-01,2023-01-31,"S, 1",fuel.gas,1,kWh,GB\n')
    raw = read_columns(path)
    assert raw is not None and raw.numbers is None


def test_row_numbers_count_blank_lines_and_crlf(tmp_path: Path) -> None:
    text = (
        HEADER + "\r\n\r\n"
        "a,2023-01-01,2023-01-31,S,fuel.gas,1,kWh,GB\r\n"
        "\r\n\r\n"
        "b,2023-01-01,2023-01-31,S,fuel.gas,oops,kWh,GB"
    )
    table, errors = read_activity_table(_write(tmp_path, text))
    assert (table[0].row, str(errors[0])) == (
        3,
        "row 6 (record 'b'), column 'quantity': 'oops' is not a number",
    )


def test_row_numbers_after_a_quoted_newline_are_file_lines(tmp_path: Path) -> None:
    text = (
        HEADER + "\n"
        'a,2023-01-01,2023-01-31,"two\nlines",fuel.gas,1,kWh,GB\n'
        "b,2023-01-01,2023-01-31,S,fuel.gas,1,kWh,Britain\n"
    )
    path = _write(tmp_path, text)
    _, errors = read_activity_table(path)
    assert errors[0].row == 4
    _both(path)


def test_duplicate_ids_name_the_first_valid_row(tmp_path: Path) -> None:
    text = (
        HEADER + "\n"
        "a,2023-01-01,2023-01-31,S,fuel.gas,x,kWh,GB\n"  # invalid: does not count as seen
        "a,2023-01-01,2023-01-31,S,fuel.gas,1,kWh,GB\n"
        " a ,2023-01-01,2023-01-31,S,fuel.gas,2,kWh,GB\n"
    )
    path = _write(tmp_path, text)
    _, errors = read_activity_table(path)
    assert [(e.row, e.message) for e in errors] == [
        (2, "'x' is not a number"),
        (4, "duplicate of row 3 (would double count)"),
    ]
    _both(path)


def test_ragged_rows_fall_back_and_agree(tmp_path: Path) -> None:
    text = (
        HEADER + ",data_quality\n"
        "a,2023-01-01,2023-01-31,S,fuel.gas,1,kWh,GB\n"  # short: data_quality missing is fine
        "b,2023-01-01,2023-01-31,S,fuel.gas,1,kWh,GB,primary,extra\n"
        "c,2023-01-01,2023-01-31,S,fuel.gas\n"
    )
    _both(_write(tmp_path, text))


def test_bom_header_and_unknown_column(tmp_path: Path) -> None:
    _both(_write(tmp_path, "\ufeff" + HEADER + ",colour\na,2023-01-01,2023-01-31,S,f.g,1,kWh,GB\n"))


def test_header_only_and_empty_files(tmp_path: Path) -> None:
    _both(_write(tmp_path, "id,amount\n"))
    _both(_write(tmp_path, "", "empty.csv"))
    _both(_write(tmp_path, HEADER + "\n", "header.csv"))


def test_invalid_utf8_raises_like_the_row_reader(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(HEADER.encode() + b"\na,2023-01-01,2023-01-31,S\xff,fuel.gas,1,kWh,GB\n")
    with pytest.raises(UnicodeDecodeError):
        read_activity_table(path)


def test_read_activity_csv_is_the_table_as_a_list(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "\na,2023-01-01,2023-01-31,S,fuel.gas,1,kWh,gb\n")
    records, errors = read_activity_csv(path)
    assert (records[0].region, records[0].row, errors) == ("GB", 2, [])


def test_engine_gives_the_same_footprint_from_table_and_list(tmp_path: Path) -> None:
    factors = tmp_path / "f.csv"
    factors.write_text(FACTORS_CSV, encoding="utf-8")
    catalog = FactorCatalog.default().overlay(FactorCatalog.from_files(factors))
    rows = [
        "g1,2023-01-01,2023-12-31,Leeds,fuel.gas,1000,kWh,GB,,primary",
        "e1,2023-01-01,2023-12-31,Leeds,electricity.grid,2,MWh,GB,REGO,",
        "r1,2022-01-01,2022-12-31,Leeds,release.R-410A,1.5,kg,GB,,",
        "g2,2023-01-01,2023-12-31,York,fuel.gas,5,MWh,GB,,",
        "o1,2023-01-01,2023-12-31,Leeds,output.widget,100,piece,GB,,",
        "g3,2023-01-01,2023-12-31,York,fuel.gas,7,kWh,GB,,PRIMARY",
    ]
    path = _write(tmp_path, HEADER + ",instrument,data_quality\n" + "\n".join(rows) + "\n")
    table, _ = read_activity_table(path)
    from_table = compute_footprint(table, catalog)
    from_list = compute_footprint(table.to_records(), catalog)
    assert from_table.to_dict() == from_list.to_dict()
    assert list(from_table.by_gas) == list(from_list.by_gas)  # groups in the same order


def test_grouping_numbers_groups_by_first_appearance(tmp_path: Path) -> None:
    rows = [
        "a,2023-01-01,2023-01-31,S,fuel.b,1,kWh,GB",
        "b,2023-01-01,2023-01-31,S,fuel.a,1,kWh,GB",
        "c,2024-01-01,2024-01-31,S,fuel.b,1,kWh,GB",
        "d,2023-06-01,2023-06-30,S,fuel.b,1,kWh,gb",
    ]
    table, _ = read_activity_table(_write(tmp_path, HEADER + "\n" + "\n".join(rows)))
    groups, firsts, primary = table.grouping()
    assert (groups.tolist(), firsts, primary.tolist()) == ([0, 1, 2, 0], [0, 1, 2], [False] * 4)


def test_empty_table_is_an_empty_sequence() -> None:
    table = ActivityTable.empty()
    assert (len(table), table.period_bounds(), list(table)) == (0, (None, None), [])


@given(st.text(alphabet="0123456789.eE+-_ infatyINFATY\u0660\u00a0,", min_size=0, max_size=12))
def test_arrow_numbers_are_float_or_nan(cell: str) -> None:
    try:
        expected = float(cell.strip())
    except ValueError:
        expected = math.nan
    got = float(_arrow_numbers(pa.array([cell, "1"], type=pa.string()))[0])
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


_CELLS = {
    "record_id": st.sampled_from(["a", "b", " a", "", "c d", "x,y", 'q"t', "é"]),
    "period_start": st.sampled_from(["2023-01-01", "2023-13-01", "", " 2023-02-01", "2023-1-1"]),
    "period_end": st.sampled_from(["2023-12-31", "2022-12-31", "2023-01-01", "x"]),
    "site": st.sampled_from(["S", "", " ", "Leeds, UK", "two\nlines"]),
    "activity": st.sampled_from(["fuel.gas", "fuel", " fuel.gas ", "x.y-z+1", "a..b"]),
    "quantity": st.sampled_from(
        ["1", "1.5e3", "-2", " 3 ", "", "nan", "inf", "1_000", "1,5", "\u0661", "+4", ".5", "x"]
    ),
    "unit": st.sampled_from(["kWh", "", " L "]),
    "region": st.sampled_from(["GB", "gb", "GB-SCT", "Britain", "", "GLOBAL", "global"]),
    "scope3_category": st.sampled_from(["", "1", "15", "16", "0", " 3", "x", "+2", "1_0"]),
    "data_quality": st.sampled_from(["", "primary", "Primary", " primary "]),
}


def _quote(cell: str, always: bool) -> str:
    if always or any(c in cell for c in ',"\n\r'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.fixed_dictionaries(_CELLS), min_size=1, max_size=8),
    newline=st.sampled_from(["\n", "\r\n"]),
    blank_lines=st.lists(st.booleans(), min_size=8, max_size=8),
    quote_all=st.booleans(),
    bom=st.booleans(),
    ragged=st.sampled_from([0, -1, 1]),
)
def test_column_reader_agrees_with_row_reader_on_hostile_files(
    rows: list[dict[str, str]],
    newline: str,
    blank_lines: list[bool],
    quote_all: bool,
    bom: bool,
    ragged: int,
) -> None:
    names = list(_CELLS)
    lines = [",".join(names)]
    for k, row in enumerate(rows):
        cells = [_quote(row[name], quote_all) for name in names]
        if k == len(rows) - 1 and ragged < 0:
            cells = cells[:-2]
        elif k == len(rows) - 1 and ragged > 0:
            cells.append("extra")
        lines.append(",".join(cells))
        if blank_lines[k]:
            lines.append("")
    text = ("\ufeff" if bom else "") + newline.join(lines) + newline
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.csv"
        path.write_bytes(text.encode("utf-8"))
        _both(path)


def test_round_trip_of_written_records(tmp_path: Path) -> None:
    records = [
        ActivityRecord(
            f"r{i}",
            date(2023, 1, 1),
            date(2023, 3, 31),
            "Leeds, UK" if i % 2 else "York",
            "fuel.natural_gas",
            0.1 * i,
            "kWh",
            "GB",
            scope3_category=None if i % 3 else 4,
            instrument="REGO" if i == 1 else None,
            row=i + 2,
        )
        for i in range(20)
    ]
    path = tmp_path / "a.csv"
    write_activity_csv(records, path)
    table, errors = read_activity_table(path)
    assert (table.to_records(), errors) == (records, [])


@settings(max_examples=200)
@given(
    lines=st.lists(st.sampled_from(["", "a", "b,c", "\r"]), max_size=12),
    crlf=st.booleans(),
    final_newline=st.booleans(),
    chunk=st.integers(1, 7),
)
def test_plain_lines_numbers_non_empty_lines_across_chunk_borders(
    lines: list[str], crlf: bool, final_newline: bool, chunk: int
) -> None:
    import fedcarbon.accounting.activity_table as module

    pieces = [line.replace("\r", "") for line in lines]
    text = ("\r\n" if crlf else "\n").join(pieces) + (
        ("\r\n" if crlf else "\n") if final_newline else ""
    )
    expected = [i + 1 for i, line in enumerate(pieces) if line]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.csv"
        path.write_bytes(text.encode())
        saved = module._SCAN_BYTES
        module._SCAN_BYTES = chunk
        try:
            got = module.plain_lines(path)
        finally:
            module._SCAN_BYTES = saved
    assert got is not None and got.tolist() == expected


def test_plain_lines_refuses_a_lone_carriage_return(tmp_path: Path) -> None:
    from fedcarbon.accounting.activity_table import plain_lines

    path = tmp_path / "a.csv"
    path.write_bytes(b"a,b\rc,d\n")
    assert plain_lines(path) is None


def test_iteration_in_blocks_gives_every_record_in_order(tmp_path: Path) -> None:
    import fedcarbon.accounting.activity_table as module

    rows = [f"r{i},2023-01-01,2023-01-31,S,fuel.gas,{i},kWh,GB" for i in range(10)]
    table, _ = read_activity_table(_write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    saved = module._ITER_BLOCK
    module._ITER_BLOCK = 3
    try:
        assert list(table) == table.to_records() and [r.row for r in table] == list(range(2, 12))
    finally:
        module._ITER_BLOCK = saved
