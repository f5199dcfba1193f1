"""Sample sources for adapter tests: small ERP-style exports with planted bad rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fedcarbon.adapters.contract import Period

YEAR_2024 = Period(date(2024, 1, 1), date(2024, 12, 31))

ERP_HEADER = ["Beleg", "Werk", "Material", "Menge", "ME", "Datum"]
ERP_ROWS = [
    ["4900001", "P1", "STROM", "1.234,5", "KWH", "15.01.2024"],
    ["4900002", "P1", "GAS", "1,5", "MWH", "16.01.2024"],
    ["4900003", "P2", "DIESEL", "200", "L", "03.02.2024"],
    ["4900004", "P1", "SCHRAUBE", "10", "ST", "16.01.2024"],  # bad: unmapped material
    ["4900005", "P1", "STROM", "abc", "KWH", "17.01.2024"],  # bad: not a number
    ["4900006", "P1", "STROM", "5", "KWH", "31.02.2024"],  # bad: no such date
    ["4800001", "P1", "STROM", "7", "KWH", "20.12.2023"],  # other year: ignored
]
"""A German-locale material-movement export: 3 good rows, 3 bad rows, 1 from another year."""

ERP_MAPPING: dict[str, Any] = {
    "columns": {
        "record_id": "{Werk}-{Beleg}",
        "site": "Werk",
        "activity": "Material",
        "quantity": "Menge",
        "unit": "ME",
        "period_start": "Datum",
        "period_end": "Datum",
    },
    "defaults": {"region": "DE"},
    "units": {"KWH": "kWh", "MWH": "MWh", "L": "L"},
    "activities": {
        "STROM": "electricity.grid",
        "GAS": "fuel.natural_gas",
        "DIESEL": "fuel.diesel",
    },
    "convert": {"fuel.natural_gas": "kWh"},
    "date_format": "%d.%m.%Y",
    "decimal_comma": True,
}

ERP_EXPECTED_QUANTITIES = {
    "P1-4900001": (1234.5, "kWh"),
    "P1-4900002": (1500.0, "kWh"),
    "P2-4900003": (0.2, "m**3"),
}


def write_erp_csv(path: Path, rows: list[list[str]] = ERP_ROWS) -> Path:
    """Write the export as a semicolon-separated CSV, as SAP GUI list exports look."""
    lines = [";".join(ERP_HEADER)] + [";".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PACT_DATA = Path(__file__).resolve().parents[2] / "data" / "pact"
"""Sample PACT footprints (example-1: urn:gtin:5695872369587 per kilogram; example-2:
urn:gtin:4712345060507 per 12 liter)."""

PURCHASES_CSV = """po,item,product,qty,uom,date,plant
4500001,10,urn:gtin:5695872369587,1200,KG,2024-03-05,P1
4500001,20,urn:gtin:4712345060507,500,L,2024-03-05,P1
4500002,10,urn:gtin:4712345060507,2,t,2024-04-01,P1
4500003,10,urn:gtin:0000000000000,5,KG,2024-04-02,P1
4500004,10,urn:gtin:5695872369587,1.5,t,2024-05-01,P1
"""
"""Purchase lines: 3 with a usable footprint, 1 whose unit does not fit (t vs liter),
1 product without a footprint."""

PURCHASES_MAPPING: dict[str, Any] = {
    "columns": {
        "record_id": "{po}-{item}",
        "site": "plant",
        "product": "product",
        "quantity": "qty",
        "unit": "uom",
        "period_start": "date",
        "period_end": "date",
    },
    "defaults": {"region": "DE"},
    "units": {"KG": "kg", "L": "L", "t": "tonne"},
}


SAP_MB51_CSV = """MBLNR;MJAHR;ZEILE;BWART;MATNR;WERKS;MENGE;MEINS;BUDAT
4900000001;2024;1;261;000000000000100200;1000;1.250,000;L;15.03.2024
4900000002;2024;1;201;100300;1000;12,5;MWH;20.03.2024
4900000003;2024;1;262;100200;1000;250,000;L;22.03.2024
4900000004;2024;1;261;999999;1000;5;ST;22.03.2024
4900000005;2024;1;101;100200;1000;5.000;L;01.03.2024
4900000006;2024;1;261;100200;3000;10;L;23.03.2024
4900000007;2024;1;261;100200;1000;xx;L;23.03.2024
4900000008;2024;1;261;100300;1000;3;ZZZ;23.03.2024
"""
"""An MB51-style export (German locale): a diesel issue, an electricity issue, a diesel reversal;
ignored: screws (not an energy material), a goods receipt (101); bad: plant without region,
non-numeric quantity, unknown unit."""

SAP_OPTIONS: dict[str, Any] = {
    "materials": {"100200": "fuel.diesel", "100300": "electricity.grid"},
    "plants": {"1000": "DE", "2000": "AT"},
}
