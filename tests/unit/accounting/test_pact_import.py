"""Importing suppliers' PACT footprints as Scope 3 factors validates them first (issue 15)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fedcarbon.accounting.pact import factors_from_pact, load_footprints
from fedcarbon.accounting.pact_schema.errors import PactDocumentError

DATA = Path(__file__).resolve().parents[2] / "data" / "pact"


def _example() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / "example-1.json").read_text(encoding="utf-8"))
    return document


def _set(path: str, value: Any) -> dict[str, Any]:
    document = _example()
    holder = document
    *parents, last = path.split(".")
    for key in parents:
        holder = holder[key]
    if value is _DELETE:
        del holder[last]
    else:
        holder[last] = value
    return document


_DELETE = object()

MALFORMED = [
    ("pcf.declaredUnitAmount", "-0.5", "$.pcf.declaredUnitAmount"),
    ("pcf.declaredUnitAmount", "0", "$.pcf.declaredUnitAmount"),
    ("pcf.pcfExcludingBiogenicUptake", "-1", "$.pcf.pcfExcludingBiogenicUptake"),
    ("pcf.fossilGhgEmissions", "-0.1", "$.pcf.fossilGhgEmissions"),
    ("pcf.biogenicCO2Uptake", "5", "$.pcf.biogenicCO2Uptake"),
    ("pcf.primaryDataShare", "120", "$.pcf.primaryDataShare"),
    ("pcf.dqi.temporalDQR", "7", "$.pcf.dqi.temporalDQR"),
    ("pcf.referencePeriodEnd", "2023-01-01T00:00:00Z", "$.pcf.referencePeriodEnd"),
    ("productIds", ["not-a-urn"], "$.productIds[0]"),
]


@pytest.mark.parametrize(("path", "value", "json_path"), MALFORMED)
def test_malformed_supplier_footprint_is_refused_with_its_json_path(
    path: str, value: Any, json_path: str
) -> None:
    footprints = load_footprints(_set(path, value))
    with pytest.raises(PactDocumentError) as caught:
        factors_from_pact(footprints)
    assert json_path in str(caught.value)


def test_negative_declared_amount_never_gives_a_negative_factor() -> None:
    footprints = load_footprints(_set("pcf.declaredUnitAmount", "-0.5"))
    with pytest.raises(PactDocumentError, match="declaredUnitAmount"):
        factors_from_pact(footprints)


def test_valid_supplier_footprint_still_imports() -> None:
    catalog = factors_from_pact(load_footprints(copy.deepcopy(_example())))
    factor = catalog.lookup("pcf.gtin.5695872369587", "GB")
    assert factor.gases["CO2e"] == pytest.approx(0.384)
