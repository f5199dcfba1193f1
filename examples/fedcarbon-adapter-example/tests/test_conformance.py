"""The example adapter passes fedcarbon's conformance kit."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fedcarbon.adapters import Period, create_adapter
from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase

INVOICES = [
    {"invoice": "INV-0117", "meter": "DE0001", "site": "Berlin HQ", "carrier": "electricity",
     "from": "2024-01-01", "to": "2024-01-31", "consumption": 12.5, "unit": "MWh"},
    {"invoice": "INV-0118", "meter": "DE0002", "site": "Berlin HQ", "carrier": "gas",
     "from": "2024-01-01", "to": "2024-01-31", "consumption": 1800, "unit": "m3"},
    {"invoice": "INV-0217", "meter": "DE0001", "site": "Berlin HQ", "carrier": "electricity",
     "from": "2024-02-01", "to": "2024-02-29", "consumption": 11900, "unit": "kWh"},
    {"invoice": "INV-0218", "meter": "DE0003", "site": "Berlin HQ", "carrier": "steam",
     "from": "2024-02-01", "to": "2024-02-29", "consumption": 4, "unit": "MWh"},
]  # fmt: skip
"""Three good invoices and one with an energy carrier the adapter does not know."""


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "invoices.jsonl"
    lines = [json.dumps(i) for i in INVOICES] + ["{this line was cut off"]
    path.write_text("\n".join(lines) + "\n")
    return path


class TestUtilityBills(AdapterConformance):
    @pytest.fixture
    def conformance_case(self, export: Path, tmp_path: Path) -> ConformanceCase:
        return ConformanceCase(
            make_adapter=lambda: create_adapter(
                "utility-bills", {"path": str(export), "region": "DE"}
            ),
            period=Period(date(2024, 1, 1), date(2024, 12, 31)),
            expected_records=3,
            expected_rejected=2,  # the unknown carrier and the cut-off line
            expected_quantities={"INV-0117/DE0001": (12500.0, "kWh")},
            make_unreachable=lambda: create_adapter(
                "utility-bills", {"path": str(tmp_path / "missing.jsonl"), "region": "DE"}
            ),
        )
