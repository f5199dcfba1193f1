"""PACT v3 import/export: exact round trips, the shapes PACT exchanges, v2 upgrade, factors."""

from __future__ import annotations

import copy
import json
import pickle
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.factors import FactorCatalog
from fedcarbon.accounting.pact import (
    Company,
    dump_footprint,
    dumps,
    factors_from_pact,
    footprint_from_pcf,
    load_footprints,
    pcf_activity,
    product_urn,
)
from fedcarbon.accounting.pact_schema import SPEC_VERSION, errors_only, validate
from fedcarbon.accounting.pact_schema.errors import PactDocumentError, PactExportError
from fedcarbon.accounting.pcf import ProductCarbonFootprint
from fedcarbon.accounting.records import ActivityRecord

DATA = Path(__file__).resolve().parents[2] / "data" / "pact"
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "pact" / "v3"
EXAMPLES = ("example-1.json", "example-2.json", "list-footprints-response.json")


def _raw(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _round_trip(document: Any) -> Any:
    footprints = load_footprints(document)
    if "data" in document:
        if isinstance(document["data"], list):
            return {"data": [dump_footprint(fp) for fp in footprints]}
        return {"data": dump_footprint(footprints[0])}
    return dump_footprint(footprints[0])


@pytest.mark.parametrize("name", EXAMPLES)
def test_shipped_examples_export_back_equal(name: str) -> None:
    assert _round_trip(_raw(name)) == _raw(name)


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_from_shared_data_export_back_equal(name: str) -> None:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"reference data {path} is absent in this environment")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert _round_trip(document) == document


def test_test_copies_match_the_shared_reference_data() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"reference data {SHARED} is absent in this environment")
    for name in EXAMPLES:
        assert (DATA / name).read_bytes() == (SHARED / name).read_bytes(), name


def test_get_response_body_imports_its_footprint() -> None:
    footprint = _raw("example-1.json")
    assert _round_trip({"data": footprint}) == {"data": footprint}


def test_file_path_json_text_and_bytes_load_the_same() -> None:
    path = DATA / "example-2.json"
    text = path.read_text(encoding="utf-8")
    assert load_footprints(path) == load_footprints(text) == load_footprints(text.encode())


def test_decimal_and_date_time_spellings_survive_a_round_trip() -> None:
    document = _raw("example-1.json")
    document["pcf"]["declaredUnitAmount"] = "+01.50"
    document["created"] = "2025-04-30T02:00:00.250+02:00"
    assert _round_trip(document) == document


def test_typed_values_compare_as_numbers_and_instants() -> None:
    (footprint,) = load_footprints(DATA / "example-2.json")
    assert footprint.pcf.pcf_excluding_biogenic_uptake == Decimal("5.14")
    assert footprint.created == datetime(2025, 4, 30, tzinfo=UTC)


def test_unknown_properties_are_kept_in_extra() -> None:
    (footprint,) = load_footprints(DATA / "example-1.json")
    assert footprint.pcf.extra == {"otherOperatorName": "TfS"}


def test_export_then_import_then_export_is_identical() -> None:
    (footprint,) = load_footprints(DATA / "example-2.json")
    text = dumps(footprint)
    assert dumps(load_footprints(text)[0]) == text


def test_changed_value_is_written_in_canonical_form() -> None:
    (footprint,) = load_footprints(DATA / "example-1.json")
    changed = replace(
        footprint,
        pcf=replace(footprint.pcf, fossil_ghg_emissions=Decimal("0.350") * 2),
    )
    assert dump_footprint(changed)["pcf"]["fossilGhgEmissions"] == "0.7"


def test_missing_required_property_names_its_path() -> None:
    document = _raw("list-footprints-response.json")
    del document["data"][0]["pcf"]["fossilGhgEmissions"]
    with pytest.raises(PactDocumentError) as caught:
        load_footprints(document)
    assert caught.value.json_path == "$.data[0].pcf.fossilGhgEmissions"


def test_number_where_spec_wants_decimal_string_names_its_path() -> None:
    document = _raw("example-1.json")
    document["pcf"]["primaryDataShare"] = 12.9
    with pytest.raises(PactDocumentError, match="decimal string") as caught:
        load_footprints(document)
    assert caught.value.json_path == "$.pcf.primaryDataShare"


def test_null_property_is_refused_with_its_path() -> None:
    document = _raw("example-1.json")
    document["comment"] = None
    with pytest.raises(PactDocumentError) as caught:
        load_footprints(document)
    assert caught.value.json_path == "$.comment"


def test_unparseable_date_time_is_refused_with_its_path() -> None:
    document = _raw("example-1.json")
    document["pcf"]["referencePeriodEnd"] = "end of 2024"
    with pytest.raises(PactDocumentError) as caught:
        load_footprints(document)
    assert caught.value.json_path == "$.pcf.referencePeriodEnd"


def test_invalid_json_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"id": ', encoding="utf-8")
    with pytest.raises(PactDocumentError, match=r"broken\.json"):
        load_footprints(path)


def test_json_nested_beyond_the_parser_is_refused() -> None:
    with pytest.raises(PactDocumentError, match="nested too deeply"):
        load_footprints('{"a": ' * 100_000 + "1" + "}" * 100_000)


def test_copies_and_pickles_keep_spellings() -> None:
    document = _raw("example-2.json")
    document["pcf"]["declaredUnitAmount"] = "+012.0"
    document["created"] = "2025-04-30T00:00:00.000+00:00"
    (footprint,) = load_footprints(document)
    copies = [copy.deepcopy(footprint), pickle.loads(pickle.dumps(footprint))]
    assert [dump_footprint(c) for c in copies] == [document, document]


def test_array_at_top_level_is_not_a_pact_document() -> None:
    with pytest.raises(PactDocumentError, match="not a PACT document"):
        load_footprints("[1, 2]")


def test_unsupported_spec_version_is_refused() -> None:
    document = _raw("example-1.json")
    document["specVersion"] = "1.0.0"
    with pytest.raises(PactDocumentError, match="not supported"):
        load_footprints(document)


# -- v2 ---------------------------------------------------------------------------------------


def _v2_footprint() -> dict[str, Any]:
    """A v2.3 footprint written for these tests (12 l bottles, the ADR-36 example)."""
    return {
        "id": "3f1a9a5e-2b0c-4a55-9d4b-6a7f1c2e8d90",
        "specVersion": "2.3.0",
        "version": 2,
        "created": "2024-06-01T00:00:00Z",
        "updated": "2024-07-01T00:00:00Z",
        "status": "Active",
        "statusComment": "new electricity contract",
        "companyName": "Bottler Ltd",
        "companyIds": ["urn:pact:bottler.example:company"],
        "productDescription": "Bio-ethanol, 12 l bottle",
        "productIds": ["urn:pact:bottler.example:supplier-id:eth-12"],
        "productCategoryCpc": "3342",
        "productNameCompany": "Ethanol 12",
        "comment": "",
        "pcf": {
            "declaredUnit": "liter",
            "unitaryProductAmount": "12",
            "productMassPerDeclaredUnit": "0.789",
            "pCfExcludingBiogenic": "1.5",
            "pCfIncludingBiogenic": "-0.5",
            "fossilGhgEmissions": "1.2",
            "fossilCarbonContent": "0",
            "biogenicCarbonContent": "0.41",
            "dLucGhgEmissions": "0.1",
            "landManagementGhgEmissions": "0.05",
            "biogenicCarbonWithdrawal": "-2",
            "characterizationFactors": "AR5",
            "ipccCharacterizationFactorsSources": ["AR5"],
            "crossSectoralStandardsUsed": ["GHG Protocol Product standard", "ISO Standard 14067"],
            "productOrSectorSpecificRules": [{"operator": "PEF", "ruleNames": ["PEF 3.0"]}],
            "boundaryProcessesDescription": "cradle to gate",
            "referencePeriodStart": "2023-01-01T00:00:00Z",
            "referencePeriodEnd": "2024-01-01T00:00:00Z",
            "geographyCountry": "FR",
            "exemptedEmissionsPercent": 1.5,
            "exemptedEmissionsDescription": "",
            "packagingEmissionsIncluded": False,
            "primaryDataShare": 56.12,
            "dqi": {
                "coveragePercent": 80,
                "technologicalDQR": 2.0,
                "temporalDQR": 1.5,
                "geographicalDQR": 2.5,
                "completenessDQR": 2.0,
                "reliabilityDQR": 1.0,
            },
            "assurance": {
                "assurance": True,
                "coverage": "product level",
                "level": "limited",
                "providerName": "My Auditor",
            },
        },
    }


def test_v2_footprint_imports_as_v3() -> None:
    (footprint,) = load_footprints(_v2_footprint())
    assert footprint.pcf.declared_unit_of_measurement == "liter"
    assert footprint.pcf.declared_unit_amount == Decimal(12)


def test_v2_per_unit_values_are_scaled_to_the_v3_declared_unit() -> None:
    """ADR-36: 1.5 kgCO2e per litre in a 12 l product is 18 kgCO2e per declared unit."""
    pcf = load_footprints(_v2_footprint())[0].pcf
    assert (pcf.pcf_excluding_biogenic_uptake, pcf.product_mass_per_declared_unit) == (
        Decimal(18),
        Decimal("9.468"),
    )


def test_v2_renamed_properties_land_in_their_v3_places() -> None:
    footprint = load_footprints(_v2_footprint())[0]
    pcf = footprint.pcf
    assert (
        pcf.land_use_change_ghg_emissions,
        pcf.biogenic_co2_uptake,
        pcf.ipcc_characterization_factors,
        pcf.cross_sectoral_standards,
        footprint.product_classifications,
    ) == (
        Decimal("1.2"),
        Decimal(-24),
        ("AR5",),
        ("GHGP-Product", "ISO14067"),
        ("urn:pact:productclassification:un-cpc:3342",),
    )


def test_v2_properties_without_v3_home_are_noted_in_comment() -> None:
    comment = load_footprints(_v2_footprint())[0].comment or ""
    assert "statusComment: new electricity contract" in comment
    assert "landManagementGhgEmissions = 0.05" in comment


def test_upgraded_v2_footprint_is_valid_v3() -> None:
    footprint = load_footprints(_v2_footprint())[0]
    assert errors_only(validate(dump_footprint(footprint))) == []


def test_v2_without_mass_for_litres_leaves_it_to_validation() -> None:
    document = _v2_footprint()
    del document["pcf"]["productMassPerDeclaredUnit"]
    exported = dump_footprint(load_footprints(document)[0])
    paths = [v.json_path for v in errors_only(validate(exported))]
    assert paths == ["$.pcf.productMassPerDeclaredUnit"]


def test_v2_list_response_imports_every_footprint() -> None:
    first, second = _v2_footprint(), _v2_footprint()
    second["id"] = "3f1a9a5e-2b0c-4a55-9d4b-6a7f1c2e8d91"
    assert [fp.id for fp in load_footprints({"data": [first, second]})] == [
        first["id"],
        second["id"],
    ]


# -- fedcarbon's own PCFs ---------------------------------------------------------------------

ACME = Company(name="Acme Steel", ids=("urn:lei:5493001KJTIIGC8Y1R12",), domain="acme.example")


def _pcf(**changes: Any) -> ProductCarbonFootprint:
    base = ProductCarbonFootprint(
        product_id="coil-A",
        product_name="Hot-rolled coil A",
        declared_unit="kilogram",
        product_amount=2000.0,
        pcf_excluding_biogenic=1.8734,
        pcf_including_biogenic=None,
        fossil_ghg_kgco2e_per_unit=1.8734,
        biogenic_co2_kg_per_unit=0.0,
        primary_data_share=0.42,
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        geography="DE-BY",
        allocation_method="mass",
        gwp="AR6",
        allocated_kgco2e=3746.8,
        allocation_share=0.8,
        allocation_description="mass allocation",
        boundary_description="cradle-to-gate",
        secondary_sources=(("desnz-2023", "2023-v1.1"),),
    )
    return replace(base, **changes)


def test_exported_pcf_is_valid_v3() -> None:
    document = dump_footprint(footprint_from_pcf(_pcf(), ACME))
    assert errors_only(validate(document)) == []


def test_exported_pcf_imports_back_identical() -> None:
    document = dump_footprint(footprint_from_pcf(_pcf(), ACME))
    assert dump_footprint(load_footprints(copy.deepcopy(document))[0]) == document


def test_exported_pcf_carries_the_declared_unit_values() -> None:
    pcf = footprint_from_pcf(_pcf(), ACME).pcf
    assert (
        pcf.pcf_excluding_biogenic_uptake,
        pcf.geography_country_subdivision,
        pcf.primary_data_share,
        pcf.reference_period_end,
    ) == (Decimal("1.8734"), "DE-BY", Decimal(42), datetime(2025, 1, 1, tzinfo=UTC))


def test_assessed_biogenic_uptake_is_exported_and_included() -> None:
    pcf = footprint_from_pcf(_pcf(biogenic_co2_uptake_kg_per_unit=-0.5), ACME).pcf
    assert (pcf.biogenic_co2_uptake, pcf.pcf_including_biogenic_uptake) == (
        Decimal("-0.5"),
        Decimal("1.3734"),
    )


def test_positive_biogenic_uptake_is_refused() -> None:
    with pytest.raises(PactExportError, match="<= 0"):
        footprint_from_pcf(_pcf(biogenic_co2_uptake_kg_per_unit=0.5), ACME)


def test_exported_pieces_need_a_mass() -> None:
    with pytest.raises(PactExportError, match="mass per unit"):
        footprint_from_pcf(_pcf(declared_unit="piece"), ACME)


def test_exported_pieces_with_mass_are_valid() -> None:
    footprint = footprint_from_pcf(_pcf(declared_unit="piece", mass_kg_per_unit=0.25), ACME)
    assert errors_only(validate(dump_footprint(footprint))) == []


def test_export_refuses_company_ids_that_are_not_urns() -> None:
    with pytest.raises(PactExportError, match="not a URN"):
        footprint_from_pcf(_pcf(), Company(name="X", ids=("acme",)))


def test_product_urn_uses_the_pact_common_structure() -> None:
    assert product_urn("coil A/1", ACME) == "urn:pact:acme.example:supplier-id:coil%20A%2F1"


def test_product_urn_without_domain_is_a_stable_uuid_urn() -> None:
    company = Company(name="X", ids=("urn:lei:1",))
    assert product_urn("coil", company) == product_urn("coil", company)
    assert product_urn("coil", company).startswith("urn:uuid:")


# -- supplier PCFs -> Scope 3 category 1 --------------------------------------------------------


def test_pcf_activity_is_a_valid_activity_code() -> None:
    assert pcf_activity("urn:gtin:4712345060507") == "pcf.gtin.4712345060507"


def test_supplier_pcf_becomes_a_per_unit_factor() -> None:
    catalog = factors_from_pact(load_footprints(DATA / "example-2.json"))
    factor = catalog.lookup(pcf_activity("urn:gtin:4712345060507"), "US")
    assert (factor.unit, factor.gases["CO2e"], factor.category) == pytest.approx(
        (
            "liter",
            5.14 / 12,
            "scope3.cat1",
        )
    )


def test_supplier_pcf_applies_to_purchases_anywhere() -> None:
    catalog = factors_from_pact(load_footprints(DATA / "example-2.json"))
    assert catalog.lookup(pcf_activity("urn:gtin:4712345060507"), "GB").region == "GLOBAL"


def test_purchases_priced_by_a_supplier_pcf_land_in_scope3_category_1() -> None:
    """24 l of a product declared at 5.14 kg CO2e per 12 l is 10.28 kg CO2e."""
    supplier = factors_from_pact(load_footprints(DATA / "example-2.json"))
    purchase = ActivityRecord(
        record_id="p1",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        site="plant",
        activity=pcf_activity("urn:gtin:4712345060507"),
        quantity=0.024,
        unit="m**3",
        region="GB",
    )
    footprint = compute_footprint([purchase], FactorCatalog.default().overlay(supplier))
    assert dict(footprint.by_category) == {"scope3.cat1": pytest.approx(10.28)}


def test_deprecated_supplier_pcf_is_not_used() -> None:
    (footprint,) = load_footprints(DATA / "example-2.json")
    assert len(factors_from_pact([replace(footprint, status="Deprecated")])) == 0


def test_spec_version_written_is_the_shipped_schema_version() -> None:
    assert footprint_from_pcf(_pcf(), ACME).spec_version == SPEC_VERSION


_UNITS = ("kilogram", "liter", "cubic meter", "kilowatt hour", "megajoule", "piece", "hour")


@settings(max_examples=40, deadline=None)
@given(
    value=st.floats(min_value=0, max_value=1e9, allow_nan=False),
    share=st.floats(min_value=0, max_value=1),
    unit=st.sampled_from(_UNITS),
    geography=st.sampled_from(["GLOBAL", "DE", "US-TX", "GB-SCT"]),
    gwp=st.sampled_from(["AR5", "AR6"]),
    uptake=st.none() | st.floats(min_value=-1e3, max_value=0),
    product=st.text(min_size=1, max_size=20),
)
def test_any_exported_pcf_is_valid_and_round_trips(
    value: float,
    share: float,
    unit: str,
    geography: str,
    gwp: str,
    uptake: float | None,
    product: str,
) -> None:
    pcf = _pcf(
        product_id=product,
        product_name=product,
        declared_unit=unit,
        pcf_excluding_biogenic=value,
        primary_data_share=share,
        geography=geography,
        gwp=gwp,
        mass_kg_per_unit=0.5,
        biogenic_co2_uptake_kg_per_unit=uptake,
    )
    document = dump_footprint(footprint_from_pcf(pcf, ACME))
    assert errors_only(validate(document)) == []
    assert dump_footprint(load_footprints(json.dumps(document))[0]) == document
