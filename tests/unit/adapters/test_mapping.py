"""The mapping layer: columns, templates, units, codes, filters and conversions by configuration."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedcarbon.adapters.contract import Period
from fedcarbon.adapters.errors import MappingError
from fedcarbon.adapters.mapping import Ignored, RecordMapping, RowRejected, map_row, map_rows

BASE = RecordMapping(
    columns={
        "record_id": "{MBLNR}-{ZEILE}",
        "site": "WERKS",
        "activity": "MATNR",
        "quantity": "MENGE",
        "unit": "MEINS",
        "period_start": "BUDAT",
        "period_end": "BUDAT",
    },
    defaults={"region": "DE"},
    units={"KWH": "kWh", "MWH": "MWh", "M3": "m**3"},
    activities={"E-100": "electricity.grid", "G-200": "fuel.natural_gas"},
    date_format="%Y%m%d",
)


def _row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "MBLNR": "4900000001",
        "ZEILE": "1",
        "WERKS": "1000",
        "MATNR": "E-100",
        "MENGE": "12.5",
        "MEINS": "KWH",
        "BUDAT": "20240115",
        "BWART": "261",
    }
    row.update(overrides)
    return row


def _with(**changes: Any) -> RecordMapping:
    fields = {
        name: getattr(BASE, name)
        for name in ("columns", "defaults", "units", "activities", "date_format")
    }
    fields.update(changes)
    return RecordMapping(**fields)


def test_template_builds_a_composite_record_id() -> None:
    assert map_row(_row(), BASE)["record_id"] == "4900000001-1"


def test_activity_code_is_translated() -> None:
    assert map_row(_row(), BASE)["activity"] == "electricity.grid"


def test_unit_spelling_is_matched_ignoring_case() -> None:
    assert map_row(_row(MEINS="kwh"), BASE)["unit"] == "kWh"


def test_date_format_is_applied() -> None:
    assert map_row(_row(), BASE)["period_start"] == "2024-01-15"


def test_date_objects_need_no_format() -> None:
    assert map_row(_row(BUDAT=date(2024, 3, 1)), _with(date_format=None))["period_end"] == (
        "2024-03-01"
    )


def test_sap_trailing_minus_is_a_negative_number() -> None:
    assert map_row(_row(MENGE="12.5-"), BASE)["quantity"] == "-12.5"


def test_decimal_comma_with_thousands_dots() -> None:
    assert map_row(_row(MENGE="1.234,5"), _with(decimal_comma=True))["quantity"] == "1234.5"


def test_negate_flips_reversal_documents() -> None:
    mapping = _with(negate={"BWART": ("262",)})
    assert map_row(_row(BWART="262"), mapping)["quantity"] == "-12.5"


def test_convert_prefix_converts_quantity_and_unit() -> None:
    mapped = map_row(_row(MATNR="G-200", MEINS="MWH"), _with(convert={"fuel.": "kWh"}))
    assert (mapped["quantity"], mapped["unit"]) == ("12500.0", "kWh")


def test_convert_across_dimensions_is_rejected_naming_units() -> None:
    with pytest.raises(RowRejected, match=r"'m\*\*3' to 'kWh'"):
        map_row(_row(MATNR="G-200", MEINS="M3"), _with(convert={"fuel.": "kWh"}))


def test_unmapped_code_is_rejected_by_default() -> None:
    with pytest.raises(RowRejected, match=r"no activity mapping for source code 'X-1'"):
        map_row(_row(MATNR="X-1"), BASE)


def test_unmapped_code_can_be_ignored_on_purpose() -> None:
    with pytest.raises(Ignored):
        map_row(_row(MATNR="X-1"), _with(unmapped="ignore"))


def test_filter_ignores_other_movement_types() -> None:
    with pytest.raises(Ignored):
        map_row(_row(BWART="101"), _with(filters={"BWART": ("261", "262")}))


def test_unknown_unit_is_rejected_with_a_hint() -> None:
    with pytest.raises(RowRejected, match=r"add it to mapping.units"):
        map_row(_row(MEINS="ST"), BASE)


def test_missing_source_column_is_rejected_naming_it() -> None:
    row = _row()
    del row["MENGE"]
    with pytest.raises(RowRejected, match=r"'MENGE' is missing"):
        map_row(row, BASE)


def test_unknown_canonical_field_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match=r"columns.qty"):
        RecordMapping(columns={"qty": "MENGE"})


def test_unknown_unit_in_table_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match=r"units.X"):
        RecordMapping(units={"X": "nonsense_unit"})


def test_map_rows_rejects_duplicate_ids_with_source_ref() -> None:
    result = map_rows([("a.csv:2", _row()), ("a.csv:3", _row())], BASE, source="t")
    assert [(r.source_ref, r.record_id) for r in result.rejected] == [("a.csv:3", "4900000001-1")]


def test_map_rows_counts_rows_outside_the_period_as_ignored() -> None:
    period = Period(date(2023, 1, 1), date(2023, 12, 31))
    result = map_rows([("a.csv:2", _row())], BASE, source="t", period=period)
    assert (result.records, result.ignored) == ([], 1)


def test_map_rows_sets_source_name() -> None:
    result = map_rows([("a.csv:2", _row())], BASE, source="sap")
    assert result.records[0].source == "sap"


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_mwh_rows_convert_to_kwh_times_thousand(quantity: float) -> None:
    mapped = map_row(_row(MENGE=quantity, MEINS="MWH"), _with(convert={"electricity.": "kWh"}))
    assert float(mapped["quantity"]) == pytest.approx(quantity * 1000, rel=1e-12)


def test_decimal_comma_without_the_setting_is_rejected_not_read_as_thousands() -> None:
    with pytest.raises(RowRejected, match="decimal_comma = true"):
        map_row(_row(MENGE="12,5"), BASE)


def test_thousands_commas_are_accepted_by_default() -> None:
    assert map_row(_row(MENGE="1,234,567.5"), BASE)["quantity"] == "1234567.5"


def test_decimal_point_in_a_decimal_comma_file_is_rejected() -> None:
    with pytest.raises(RowRejected, match="decimal_comma = false"):
        map_row(_row(MENGE="12.5"), _with(decimal_comma=True))


@given(st.decimals(min_value=0, max_value=10**12, places=3), st.booleans())
def test_grouped_numbers_read_back_in_either_locale(amount: Any, decimal_comma: bool) -> None:
    text = f"{amount:,.3f}"  # 1,234,567.125
    if decimal_comma:
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")  # 1.234.567,125
    mapped = map_row(_row(MENGE=text), _with(decimal_comma=decimal_comma))
    assert float(mapped["quantity"]) == pytest.approx(float(amount), rel=1e-15)
