"""The SAP material-document adapter over an MB51/SE16N CSV export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fedcarbon.adapters.contract import Adapter
from fedcarbon.adapters.registry import create_adapter
from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase
from tests.unit.adapters.samples import SAP_MB51_CSV, SAP_OPTIONS, YEAR_2024


@pytest.fixture
def mb51(tmp_path: Path) -> Path:
    path = tmp_path / "mb51.csv"
    path.write_text(SAP_MB51_CSV, encoding="cp1252")
    return path


def _sap(path: Path, **extra: Any) -> Adapter:
    options = {
        **SAP_OPTIONS,
        "path": str(path),
        "delimiter": ";",
        "date_format": "%d.%m.%Y",
        "decimal_comma": True,
        "encoding": "cp1252",
    }
    return create_adapter("sap", {**options, **extra})


class TestSapCsvConformance(AdapterConformance):
    @pytest.fixture
    def conformance_case(self, mb51: Path, tmp_path: Path) -> ConformanceCase:
        return ConformanceCase(
            make_adapter=lambda: _sap(mb51),
            period=YEAR_2024,
            expected_records=3,
            expected_rejected=3,
            expected_quantities={
                "sap:4900000001-2024-1": (1250.0, "L"),
                "sap:4900000002-2024-1": (12500.0, "kWh"),
                "sap:4900000003-2024-1": (-0.25, "m**3"),
            },
            make_unreachable=lambda: _sap(tmp_path / "no-export-today.csv"),
        )


def test_material_number_matches_without_leading_zeros(mb51: Path) -> None:
    ids = {r.record_id: r.activity for r in _sap(mb51).fetch(YEAR_2024).records}
    assert ids["sap:4900000001-2024-1"] == "fuel.diesel"


def test_other_materials_and_movement_types_are_counted_as_ignored(mb51: Path) -> None:
    assert _sap(mb51).fetch(YEAR_2024).ignored == 2


def test_plant_without_region_is_named(mb51: Path) -> None:
    reasons = [r.reason for r in _sap(mb51).fetch(YEAR_2024).rejected]
    assert "plant '3000' has no region in the 'plants' table" in reasons


def test_sap_internal_date_format_needs_no_configuration(tmp_path: Path) -> None:
    path = tmp_path / "se16n.csv"
    path.write_text(
        "MBLNR,MJAHR,ZEILE,BWART,MATNR,WERKS,MENGE,MEINS,BUDAT\n"
        "4900000001,2024,1,261,100200,1000,10,L,20240315\n"
    )
    adapter = create_adapter("sap", {**SAP_OPTIONS, "path": str(path)})
    assert [str(r.period_start) for r in adapter.fetch(YEAR_2024).records] == ["2024-03-15"]


def test_saved_odata_response_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    path.write_text(
        '{"d": {"results": [{"MaterialDocument": "4900000009", "MaterialDocumentYear": "2024",'
        ' "MaterialDocumentItem": "1", "GoodsMovementType": "201", "Material": "100300",'
        ' "Plant": "2000", "QuantityInEntryUnit": "3.000", "EntryUnit": "KWH",'
        ' "PostingDate": "/Date(1710460800000)/"}]}}'
    )
    adapter = create_adapter("sap", {**SAP_OPTIONS, "format": "odata", "path": str(path)})
    (record,) = adapter.fetch(YEAR_2024).records
    assert (record.region, record.quantity, str(record.period_end)) == ("AT", 3.0, "2024-03-15")


SPEND_EXPORT = (
    "MBLNR,MJAHR,ZEILE,BWART,MATNR,WERKS,MENGE,MEINS,BUDAT,MAKTX,DMBTR,WAERS\n"
    "5000000001,2024,1,201,100200,1000,10,L,20240315,Diesel,15.00,EUR\n"
    "5000000002,2024,1,201,777001,1000,4,ST,20240316,HEX BOLT M8X40 ZP,120.50,EUR\n"
    "5000000003,2024,1,202,777001,1000,1,ST,20240317,HEX BOLT M8X40 ZP,30.00,EUR\n"
    "5000000004,2024,1,201,777002,1000,1,ST,20240318,,99.00,EUR\n"
)


def test_unmapped_materials_become_spend_lines_to_match(tmp_path: Path) -> None:
    path = tmp_path / "mb51.csv"
    path.write_text(SPEND_EXPORT)
    adapter = create_adapter("sap", {**SAP_OPTIONS, "path": str(path), "match_unmapped": True})
    result = adapter.fetch(YEAR_2024)
    spend = {r.record_id: r for r in result.records if r.activity == "spend.unmatched"}
    assert set(spend) == {"sap:5000000002-2024-1", "sap:5000000003-2024-1"}
    line = spend["sap:5000000002-2024-1"]
    assert (line.quantity, line.unit, line.description) == (120.5, "EUR", "HEX BOLT M8X40 ZP")
    assert spend["sap:5000000003-2024-1"].quantity == -30.0  # reversal
    assert result.ignored == 1  # no text: nothing to match it by


def test_without_match_unmapped_unknown_materials_stay_ignored(tmp_path: Path) -> None:
    path = tmp_path / "mb51.csv"
    path.write_text(SPEND_EXPORT)
    result = create_adapter("sap", {**SAP_OPTIONS, "path": str(path)}).fetch(YEAR_2024)
    assert [r.activity for r in result.records] == ["fuel.diesel"]
    assert result.ignored == 3
