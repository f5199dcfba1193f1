"""The PACT adapter over footprint files: purchases become Scope 3 category 1 activities."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from fedcarbon.adapters.builtin.pact_footprints import PactAdapter
from fedcarbon.adapters.registry import create_adapter
from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase
from tests.unit.adapters.samples import (
    PACT_DATA,
    PURCHASES_CSV,
    PURCHASES_MAPPING,
    YEAR_2024,
)


@pytest.fixture
def pact_files(tmp_path: Path) -> Path:
    folder = tmp_path / "footprints"
    folder.mkdir()
    shutil.copy(PACT_DATA / "example-1.json", folder)
    shutil.copy(PACT_DATA / "example-2.json", folder)
    (folder / "truncated.json").write_text('{"id": "x", "specVersion": ')  # bad: cut off
    (tmp_path / "purchases.csv").write_text(PURCHASES_CSV)
    return tmp_path


def _pact(root: Path, **extra: Any) -> PactAdapter:
    options = {
        "purchases": str(root / "purchases.csv"),
        "purchases_mapping": PURCHASES_MAPPING,
        "footprints": str(root / "footprints"),
    }
    adapter = create_adapter("pact", {**options, **extra})
    assert isinstance(adapter, PactAdapter)
    return adapter


class TestPactFilesConformance(AdapterConformance):
    @pytest.fixture
    def conformance_case(self, pact_files: Path, tmp_path: Path) -> ConformanceCase:
        return ConformanceCase(
            make_adapter=lambda: _pact(pact_files),
            period=YEAR_2024,
            expected_records=3,
            expected_rejected=3,
            expected_quantities={"4500004-10": (1500.0, "kg"), "4500001-20": (500.0, "L")},
            make_unreachable=lambda: _pact(pact_files, footprints=str(tmp_path / "gone")),
        )


def test_purchase_becomes_pcf_activity_in_category_1(pact_files: Path) -> None:
    record = next(
        r for r in _pact(pact_files).fetch(YEAR_2024).records if r.record_id == "4500001-10"
    )
    assert (record.activity, record.scope3_category) == ("pcf.gtin.5695872369587", 1)


def test_supplier_is_taken_from_the_footprint(pact_files: Path) -> None:
    record = next(
        r for r in _pact(pact_files).fetch(YEAR_2024).records if r.record_id == "4500001-20"
    )
    assert record.supplier == "Company 2"


def test_purchase_without_footprint_is_rejected_naming_product(pact_files: Path) -> None:
    reasons = [r.reason for r in _pact(pact_files).fetch(YEAR_2024).rejected]
    assert "no active PACT footprint for product 'urn:gtin:0000000000000'" in reasons


def test_footprints_feed_the_factor_catalog(pact_files: Path) -> None:
    from fedcarbon.accounting.pact import factors_from_pact

    adapter = _pact(pact_files)
    adapter.fetch(YEAR_2024)
    factor = factors_from_pact(adapter.footprints()).lookup("pcf.gtin.5695872369587", "DE")
    assert factor.gases["CO2e"] == pytest.approx(0.384)


def test_spec_violating_footprint_is_rejected_with_its_json_path(pact_files: Path) -> None:
    import json

    path = pact_files / "footprints" / "example-1.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["pcf"]["declaredUnitAmount"] = "-0.5"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = _pact(pact_files).fetch(YEAR_2024)
    reasons = [r.reason for r in result.rejected if r.source_ref == "example-1.json"]
    assert len(reasons) == 1 and "$.pcf.declaredUnitAmount" in reasons[0]
