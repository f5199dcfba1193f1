"""The Excel adapter: conformance kit over a typed workbook with a title above the header."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from fedcarbon.adapters.registry import create_adapter
from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase
from tests.unit.adapters.samples import ERP_HEADER, ERP_MAPPING, YEAR_2024

ROWS: list[list[Any]] = [
    ["4900001", "P1", "STROM", 1234.5, "KWH", date(2024, 1, 15)],
    ["4900002", "P1", "GAS", 1.5, "MWH", date(2024, 1, 16)],
    ["4900003", "P2", "DIESEL", 200, "L", date(2024, 2, 3)],
    ["4900004", "P1", "SCHRAUBE", 10, "ST", date(2024, 1, 16)],  # bad: unmapped material
    ["4900005", "P1", "STROM", "n/a", "KWH", date(2024, 1, 17)],  # bad: not a number
    ["4900006", "P1", "STROM", 5, "KWH", None],  # bad: no date
]
MAPPING = {k: v for k, v in ERP_MAPPING.items() if k not in ("date_format", "decimal_comma")}


def write_workbook(path: Path, rows: list[list[Any]] = ROWS) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Energie"
    sheet.append(["Materialbewegungen 2024"])
    sheet.append([])
    sheet.append(ERP_HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _xlsx(path: Path, **extra: Any) -> Any:
    options = {"path": str(path), "sheet": "Energie", "header_row": 3, "mapping": MAPPING}
    return create_adapter("xlsx", {**options, **extra})


class TestExcelConformance(AdapterConformance):
    @pytest.fixture
    def conformance_case(self, tmp_path: Path) -> ConformanceCase:
        book = write_workbook(tmp_path / "movements.xlsx")
        return ConformanceCase(
            make_adapter=lambda: _xlsx(book),
            period=YEAR_2024,
            expected_records=3,
            expected_rejected=3,
            expected_quantities={"P1-4900002": (1500.0, "kWh"), "P2-4900003": (200.0, "L")},
            make_unreachable=lambda: _xlsx(tmp_path / "gone" / "movements.xlsx"),
        )


def test_rejections_name_sheet_and_row(tmp_path: Path) -> None:
    book = write_workbook(tmp_path / "m.xlsx")
    refs = sorted(r.source_ref for r in _xlsx(book).fetch(YEAR_2024).rejected)
    assert refs == ["m.xlsx:Energie!7", "m.xlsx:Energie!8", "m.xlsx:Energie!9"]


def test_missing_sheet_is_rejected_naming_it(tmp_path: Path) -> None:
    book = write_workbook(tmp_path / "m.xlsx")
    (rejected,) = _xlsx(book, sheet="Strom").fetch(YEAR_2024).rejected
    assert "no worksheet 'Strom'" in rejected.reason


def test_corrupt_workbook_is_rejected_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "bad.xlsx").write_bytes(b"this is not a zip archive")
    write_workbook(tmp_path / "good.xlsx")
    result = create_adapter(
        "xlsx", {"path": str(tmp_path), "sheet": "Energie", "header_row": 3, "mapping": MAPPING}
    ).fetch(YEAR_2024)
    assert (len(result.records), next(r.source_ref for r in result.rejected)) == (3, "bad.xlsx")
