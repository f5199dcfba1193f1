"""Activity records: CSV parsing, row errors with row numbers, and a lossless round trip."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from fedcarbon.accounting.records import (
    CANONICAL_COLUMNS,
    ActivityRecord,
    parse_activity_rows,
    read_activity_csv,
    write_activity_csv,
)

HEADER = ",".join(CANONICAL_COLUMNS)


def _row(**override: str) -> dict[str, str]:
    row = {
        "record_id": "r1",
        "period_start": "2023-01-01",
        "period_end": "2023-12-31",
        "site": "Leeds",
        "activity": "fuel.natural_gas",
        "quantity": "1200.5",
        "unit": "kWh",
        "region": "GB",
    }
    row.update(override)
    return row


def test_valid_row_becomes_a_record() -> None:
    records, errors = parse_activity_rows([_row()])
    assert (records[0].quantity, records[0].region, errors) == (1200.5, "GB", [])


def test_region_is_upper_cased() -> None:
    records, _ = parse_activity_rows([_row(region="gb-sct")])
    assert records[0].region == "GB-SCT"


def test_bad_quantity_is_reported_with_row_and_column() -> None:
    _, errors = parse_activity_rows([_row(), _row(record_id="r2", quantity="lots")])
    assert (errors[0].row, errors[0].record_id, errors[0].field) == (3, "r2", "quantity")


def test_non_finite_quantity_is_an_error() -> None:
    _, errors = parse_activity_rows([_row(quantity="nan")])
    assert errors[0].field == "quantity"


def test_bad_date_is_an_error() -> None:
    _, errors = parse_activity_rows([_row(period_start="01/01/2023")])
    assert errors[0].field == "period_start"


def test_period_end_before_start_is_an_error() -> None:
    _, errors = parse_activity_rows([_row(period_end="2022-12-31")])
    assert errors[0].field == "period_end"


def test_scope3_category_outside_1_to_15_is_an_error() -> None:
    _, errors = parse_activity_rows([_row(scope3_category="16")])
    assert errors[0].field == "scope3_category"


def test_bad_region_is_an_error() -> None:
    _, errors = parse_activity_rows([_row(region="Britain")])
    assert errors[0].field == "region"


def test_duplicate_record_id_is_an_error_naming_the_first_row() -> None:
    _, errors = parse_activity_rows([_row(), _row()])
    assert "duplicate of row 2" in errors[0].message


def test_missing_required_column_is_a_header_error() -> None:
    row = _row()
    del row["unit"]
    _, errors = parse_activity_rows([row])
    assert (errors[0].row, errors[0].field) == (1, "unit")


def test_unknown_column_is_a_header_error() -> None:
    _, errors = parse_activity_rows([{**_row(), "scope3_categroy": "1"}])
    assert errors[0].field == "scope3_categroy"


def test_every_bad_row_is_reported_not_just_the_first() -> None:
    rows = [_row(record_id=str(i), quantity="x") for i in range(5)]
    _, errors = parse_activity_rows(rows)
    assert [e.row for e in errors] == [2, 3, 4, 5, 6]


def test_csv_row_numbers_are_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        HEADER + "\n"
        "a,2023-01-01,2023-01-31,S,fuel.gas,1,kWh,GB\n"
        "b,2023-01-01,2023-01-31,S,fuel.gas,oops,kWh,GB\n",
        encoding="utf-8",
    )
    _, errors = read_activity_csv(path)
    assert str(errors[0]) == "row 3 (record 'b'), column 'quantity': 'oops' is not a number"


def test_header_only_file_with_wrong_columns_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,amount\n", encoding="utf-8")
    _, errors = read_activity_csv(path)
    assert {e.field for e in errors} >= {"record_id", "quantity"}


def test_extra_cells_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "\na,2023-01-01,2023-01-31,S,fuel.gas,1,kWh,GB,extra\n")
    _, errors = read_activity_csv(path)
    assert errors[0].message == "more cells than columns"


def test_output_records_are_recognised() -> None:
    records, _ = parse_activity_rows([_row(activity="output.widget")])
    assert records[0].is_output


_text = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1).filter(
    lambda s: s.strip() == s and "," not in s
)


@given(
    record_id=_text,
    quantity=st.floats(allow_nan=False, allow_infinity=False, width=64),
    category=st.none() | st.integers(1, 15),
    instrument=st.none() | st.sampled_from(["REGO", "supplier:0.1", "GO:abc"]),
    supplier=st.none() | _text,
)
def test_write_then_read_is_lossless(
    record_id: str,
    quantity: float,
    category: int | None,
    instrument: str | None,
    supplier: str | None,
) -> None:
    record = ActivityRecord(
        record_id,
        date(2023, 1, 1),
        date(2023, 3, 31),
        "site 1",
        "fuel.natural_gas",
        quantity,
        "kWh",
        "GB",
        scope3_category=category,
        instrument=instrument,
        supplier=supplier,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.csv"
        write_activity_csv([record], path)
        records, errors = read_activity_csv(path)
    assert (records, errors) == ([record], [])
