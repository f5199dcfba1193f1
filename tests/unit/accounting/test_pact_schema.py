"""Validation against the PACT v3 OpenAPI schemas: valid examples, hostile documents, paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from fedcarbon.accounting.pact_schema import (
    SPEC_VERSION,
    errors_only,
    is_date_time,
    is_urn,
    nullable_to_type,
    spec_document,
    validate,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "pact"
PACKAGE = Path(__file__).resolve().parents[3] / "fedcarbon" / "accounting" / "pact_schema"


def _raw(name: str = "example-1.json") -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _errors(document: Any) -> list[tuple[str, str]]:
    return [(v.json_path, v.message) for v in errors_only(validate(document))]


def _error_paths(document: Any) -> list[str]:
    return [path for path, _ in _errors(document)]


@pytest.mark.parametrize(
    "name", ["example-1.json", "example-2.json", "list-footprints-response.json"]
)
def test_shipped_examples_have_no_errors(name: str) -> None:
    assert _errors(_raw(name)) == []


def test_spec_version_constant_is_the_shipped_document_version() -> None:
    assert spec_document()["info"]["version"] == SPEC_VERSION


def test_package_copy_is_unaltered_from_the_reference_data() -> None:
    shared = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "pact" / "v3"
    if not shared.is_dir():
        pytest.skip(f"reference data {shared} is absent in this environment")
    assert (PACKAGE / "openapi.yaml").read_bytes() == (shared / "openapi.yaml").read_bytes()


def test_licence_is_shipped_beside_the_schema() -> None:
    text = (PACKAGE / "LICENSE.md").read_text(encoding="utf-8")
    assert "World Business Council for Sustainable Development" in text


def test_missing_required_property_is_named_by_its_path() -> None:
    document = _raw()
    del document["pcf"]["declaredUnitAmount"]
    assert _error_paths(document) == ["$.pcf.declaredUnitAmount"]


def test_wrong_type_is_named_by_its_path() -> None:
    document = _raw()
    document["companyIds"] = "urn:company:example:company1"
    assert _error_paths(document) == ["$.companyIds"]


def test_number_instead_of_decimal_string_is_an_error() -> None:
    document = _raw()
    document["pcf"]["primaryDataShare"] = 12.9
    assert _error_paths(document) == ["$.pcf.primaryDataShare"]


def test_bad_date_is_named_by_its_path() -> None:
    document = _raw()
    document["pcf"]["referencePeriodStart"] = "2024-02-30T00:00:00Z"
    assert _error_paths(document) == ["$.pcf.referencePeriodStart"]


def test_date_time_without_offset_is_an_error() -> None:
    document = _raw()
    document["created"] = "2025-04-30T00:00:00"
    assert _error_paths(document) == ["$.created"]


def test_negative_emissions_where_forbidden_are_errors() -> None:
    document = _raw()
    document["pcf"]["fossilGhgEmissions"] = "-0.35"
    assert _error_paths(document) == ["$.pcf.fossilGhgEmissions"]


def test_negative_declared_amount_is_an_error_despite_the_spec_pattern() -> None:
    """The spec's PositiveNonZeroDecimal pattern lets "-0.5" through; the corrected one not."""
    document = _raw()
    document["pcf"]["declaredUnitAmount"] = "-0.5"
    assert _error_paths(document) == ["$.pcf.declaredUnitAmount"]


def test_zero_declared_amount_is_an_error() -> None:
    document = _raw()
    document["pcf"]["declaredUnitAmount"] = "0"
    assert _error_paths(document) == ["$.pcf.declaredUnitAmount"]


def test_positive_uptake_is_an_error_despite_the_spec_pattern() -> None:
    """biogenicCO2Uptake is <= 0; the spec's pattern alone accepts "10"."""
    document = _raw()
    document["pcf"]["biogenicCO2Uptake"] = "10"
    assert _error_paths(document) == ["$.pcf.biogenicCO2Uptake"]


def test_decimal_with_trailing_text_is_an_error() -> None:
    document = _raw()
    document["pcf"]["declaredUnitAmount"] = "5abc"
    assert "$.pcf.declaredUnitAmount" in _error_paths(document)


def test_unknown_declared_unit_is_an_error() -> None:
    document = _raw()
    document["pcf"]["declaredUnitOfMeasurement"] = "barrel"
    assert _error_paths(document) == ["$.pcf.declaredUnitOfMeasurement"]


def test_two_geographies_are_an_error_on_the_pcf() -> None:
    document = _raw()
    document["pcf"]["geographyCountry"] = "US"
    (path, message), *_ = _errors(document)
    assert (path, "at most one of" in message) == ("$.pcf", True)


def test_product_id_that_is_not_a_urn_is_named_by_index() -> None:
    document = _raw()
    document["productIds"] = ["urn:gtin:5695872369587", "gtin 123"]
    assert set(_error_paths(document)) == {"$.productIds[1]"}


def test_id_that_is_not_a_uuid_is_an_error() -> None:
    document = _raw()
    document["id"] = "pcf-1"
    assert _error_paths(document) == ["$.id"]


def test_dqr_outside_one_to_five_is_an_error() -> None:
    document = _raw()
    document["pcf"]["dqi"]["temporalDQR"] = "6.5"
    assert _error_paths(document) == ["$.pcf.dqi.temporalDQR"]


def test_packaging_emissions_without_packaging_included_is_an_error() -> None:
    document = _raw("example-2.json")
    document["pcf"]["packagingEmissionsIncluded"] = False
    assert _error_paths(document) == ["$.pcf.packagingGhgEmissions"]


def test_reference_period_ending_before_it_starts_is_an_error() -> None:
    document = _raw()
    document["pcf"]["referencePeriodEnd"] = "2023-01-01T00:00:00Z"
    assert _error_paths(document) == ["$.pcf.referencePeriodEnd"]


def test_unknown_property_is_a_warning_with_its_path() -> None:
    document = _raw("example-2.json")
    document["pcf"]["dqi"]["coveragePercent"] = "80"
    warnings = [v.json_path for v in validate(document) if v.severity == "warning"]
    assert "$.pcf.dqi.coveragePercent" in warnings


def test_unknown_property_is_not_an_error() -> None:
    document = _raw()
    document["x-acme-batch"] = "B42"
    assert _errors(document) == []


def test_list_response_errors_are_named_with_the_item_index() -> None:
    document = {"data": [_raw("example-1.json"), _raw("example-2.json")]}
    del document["data"][1]["status"]
    assert _error_paths(document) == ["$.data[1].status"]


def test_get_response_errors_are_named_under_data() -> None:
    document = {"data": _raw()}
    document["data"]["status"] = "Retired"
    assert _error_paths(document) == ["$.data.status"]


def test_list_response_with_null_data_is_an_error() -> None:
    assert _error_paths({"data": None}) == ["$.data"]


@pytest.mark.parametrize("document", [[], "text", 3, None])
def test_non_object_document_is_reported_at_the_root(document: Any) -> None:
    assert _error_paths(document) == ["$"]


def test_deeply_nested_extension_data_is_accepted() -> None:
    document = _raw()
    nested: dict[str, Any] = {}
    node = nested
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    document["extensions"] = [
        {"specVersion": "2.0.0", "dataSchema": "https://example.org/s.json", "data": nested}
    ]
    assert _errors(document) == []


def test_extension_without_schema_url_is_an_error() -> None:
    document = _raw()
    document["extensions"] = [{"specVersion": "2.0.0", "data": {}}]
    assert _error_paths(document) == ["$.extensions[0].dataSchema"]


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("urn:gtin:4712345060507", True),
        ("URN:ISBN:978-951-0-18435-6", True),
        ("urn:pact:acme.example:supplier-id:coil%20A", True),
        ("urn:x:a", False),  # NID needs 2..32 characters
        ("urn:pact:has space", False),
        ("gtin:4712345060507", False),
    ],
)
def test_urn_format_follows_rfc_8141(text: str, valid: bool) -> None:
    assert is_urn(text) is valid


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2025-04-30T00:00:00Z", True),
        ("2025-04-30T00:00:00.5+02:00", True),
        ("2025-04-30", False),
        ("2025-04-31T00:00:00Z", False),
        ("2025-04-30 00:00:00Z", False),
    ],
)
def test_date_time_format_follows_rfc_3339(text: str, valid: bool) -> None:
    assert is_date_time(text) is valid


def test_spec_patterns_are_corrected_only_in_memory() -> None:
    shipped = yaml.safe_load((PACKAGE / "openapi.yaml").read_text(encoding="utf-8"))
    pattern = shipped["components"]["schemas"]["NegativeOrZeroDecimal"]["pattern"]
    assert spec_document()["components"]["schemas"]["NegativeOrZeroDecimal"]["pattern"] != pattern


def test_openapi_3_0_nullable_becomes_a_null_type() -> None:
    schema: dict[str, Any] = {"properties": {"a": {"type": "string", "nullable": True}}}
    nullable_to_type(schema)
    assert schema == {"properties": {"a": {"type": ["string", "null"]}}}
