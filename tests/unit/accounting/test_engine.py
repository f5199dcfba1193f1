"""Behaviour of the footprint engine: scopes, gases, Scope 2 methods, errors, audit trail."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.errors import (
    CategoryError,
    FactorNotFoundError,
    InstrumentError,
    UnitConversionError,
    UnknownActivityError,
    UnknownGasError,
    UnknownGwpSetError,
)
from fedcarbon.accounting.factors import FactorCatalog
from fedcarbon.accounting.gwp import gwp100

from .engine_samples import rec, sample_catalog


@pytest.fixture
def catalog(tmp_path: Path) -> FactorCatalog:
    return sample_catalog(tmp_path)


def test_stationary_fuel_is_scope1_gas_by_gas(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("g", "fuel.gas", 1000.0, "kWh")], catalog, gwp="AR6")
    expected = 1000 * (0.2 + 1e-05 * 27.0 + 1e-06 * 273.0)
    assert fp.scope1_kgco2e == pytest.approx(expected, rel=1e-12)


def test_gwp_set_changes_non_co2_weighting(catalog: FactorCatalog) -> None:
    records = [rec("g", "fuel.gas", 1000.0, "kWh")]
    ar5 = compute_footprint(records, catalog, gwp="AR5").scope1_kgco2e
    assert ar5 == pytest.approx(1000 * (0.2 + 1e-05 * 28.0 + 1e-06 * 265.0), rel=1e-12)


def test_gases_are_reported_apart(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("g", "fuel.gas", 1000.0, "kWh")], catalog)
    assert dict(fp.by_gas) == pytest.approx({"CO2": 200.0, "CH4": 0.01, "N2O": 0.001})


def test_biogenic_co2_is_outside_the_scopes(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("d", "fuel.diesel", 100.0, "L")], catalog)
    assert (fp.biogenic_co2_kg, fp.by_gas["CO2"]) == pytest.approx((20.0, 250.0))


def test_mobile_and_process_categories_come_from_the_factor(catalog: FactorCatalog) -> None:
    fp = compute_footprint(
        [rec("d", "fuel.diesel", 1.0, "L"), rec("c", "process.clinker", 2.0, "t")], catalog
    )
    assert set(fp.by_category) == {"scope1.mobile", "scope1.process"}


def test_release_of_blend_is_fugitive_mass_times_gwp(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("r", "release.R-410A", 10.0, "kg")], catalog, gwp="AR6")
    assert fp.by_category["scope1.fugitive"] == pytest.approx(10 * gwp100("R-410A", "AR6"))


def test_release_of_blend_counts_component_gases(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("r", "release.R-410A", 10.0, "kg")], catalog)
    assert dict(fp.by_gas) == pytest.approx({"HFC-32": 5.0, "HFC-125": 5.0})


def test_release_in_leased_asset_is_scope3_when_the_record_says_so(
    catalog: FactorCatalog,
) -> None:
    fp = compute_footprint(
        [rec("r", "release.HFC-134a", 1.0, "kg", scope3_category=8)], catalog, gwp="AR6"
    )
    assert (fp.scope1_kgco2e, fp.scope3_kgco2e) == (0.0, 1530.0)


def test_release_needs_no_factor() -> None:
    empty = FactorCatalog()
    fp = compute_footprint([rec("r", "release.HFC-134a", 2.0, "kg")], empty, gwp="AR5")
    assert fp.scope1_kgco2e == 2600.0


def test_release_of_unknown_gas_names_the_record(catalog: FactorCatalog) -> None:
    with pytest.raises(UnknownGasError, match="record 'r9'"):
        compute_footprint([rec("r9", "release.R-999X", 1.0, "kg")], catalog)


def test_release_in_litres_is_a_unit_error(catalog: FactorCatalog) -> None:
    with pytest.raises(UnitConversionError, match="record 'r1'"):
        compute_footprint([rec("r1", "release.R-410A", 1.0, "L")], catalog)


def test_scope2_location_uses_grid_average(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("e", "electricity.grid", 1000.0, "kWh")], catalog, gwp="AR6")
    assert fp.scope2_location_kgco2e == pytest.approx(1000 * (0.2 + 3e-05 * 27 + 4e-06 * 273))


def test_certificate_makes_market_based_zero(catalog: FactorCatalog) -> None:
    fp = compute_footprint(
        [rec("e", "electricity.grid", 1000.0, "kWh", instrument="REGO:G01234")], catalog
    )
    assert (fp.scope2_market_kgco2e, fp.records[0].market_basis) == (0.0, "certificate:REGO")


def test_certificate_keeps_location_based_figure(catalog: FactorCatalog) -> None:
    fp = compute_footprint(
        [rec("e", "electricity.grid", 1000.0, "kWh", instrument="REGO")], catalog
    )
    assert fp.scope2_location_kgco2e > 200.0


def test_supplier_rate_is_per_kwh_whatever_the_unit(catalog: FactorCatalog) -> None:
    fp = compute_footprint(
        [rec("e", "electricity.grid", 2.0, "MWh", instrument="supplier:0.123")], catalog
    )
    assert fp.scope2_market_kgco2e == pytest.approx(246.0)


def test_ppa_rate_is_used_for_market_based(catalog: FactorCatalog) -> None:
    fp = compute_footprint(
        [rec("e", "electricity.grid", 100.0, "kWh", instrument="ppa:0.01")], catalog
    )
    assert fp.records[0].market_basis == "ppa"


def test_residual_mix_is_used_without_instrument(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("e", "electricity.grid", 1000.0, "kWh", region="DE")], catalog)
    assert (fp.scope2_market_kgco2e, fp.records[0].market_basis) == (600.0, "residual-mix")


def test_grid_average_fallback_is_flagged_without_residual_mix(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("e", "electricity.grid", 1000.0, "kWh")], catalog)
    assert "market:location-fallback" in fp.records[0].flags


def test_heat_has_location_based_market_fallback(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("h", "heat.district", 100.0, "kWh")], catalog)
    assert fp.scope2_market_kgco2e == pytest.approx(fp.scope2_location_kgco2e)


def test_certificate_outside_its_market_is_refused(catalog: FactorCatalog) -> None:
    with pytest.raises(InstrumentError, match="record 'e'"):
        compute_footprint(
            [rec("e", "electricity.grid", 1.0, "kWh", region="DE", instrument="REGO")], catalog
        )


def test_instrument_on_scope1_record_is_refused(catalog: FactorCatalog) -> None:
    with pytest.raises(InstrumentError, match="only to Scope 2"):
        compute_footprint([rec("g", "fuel.gas", 1.0, "kWh", instrument="GO")], catalog)


def test_malformed_instrument_names_the_record(catalog: FactorCatalog) -> None:
    with pytest.raises(InstrumentError, match="record 'e7'"):
        compute_footprint(
            [rec("e7", "electricity.grid", 1.0, "kWh", instrument="supplier:cheap")], catalog
        )


def test_co2e_only_factor_is_used_as_published(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("e", "electricity.grid", 100.0, "kWh", region="DE")], catalog)
    assert (fp.scope2_location_kgco2e, fp.records[0].gwp) == (38.0, "AR5")


def test_co2e_only_factor_is_reported_under_its_gwp_basis(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("e", "electricity.grid", 100.0, "kWh", region="DE")], catalog)
    assert dict(fp.by_gas) == {"CO2e[AR5]": 38.0}


def test_unsplit_co2e_part_of_a_factor_keeps_its_basis(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("m", "spend.mixed", 100.0, "USD", region="US")], catalog)
    assert dict(fp.by_gas) == pytest.approx({"CO2": 50.0, "CO2e[AR4]": 10.0})


def test_scope3_category_comes_from_the_factor(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("t", "travel.rail", 100.0, "passenger*km")], catalog)
    assert fp.by_category == {"scope3.cat6": pytest.approx(3.5)}


def test_record_category_moves_a_fuel_into_scope3(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("d", "fuel.diesel", 10.0, "L", scope3_category=6)], catalog)
    assert (fp.scope1_kgco2e, list(fp.by_category)) == (0.0, ["scope3.cat6"])


def test_scope3_factor_without_category_number_needs_one_on_record(
    catalog: FactorCatalog,
) -> None:
    with pytest.raises(CategoryError, match="record 'w'"):
        compute_footprint([rec("w", "waste.landfill", 1.0, "t")], catalog)


def test_scope3_record_category_completes_factor_category(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("w", "waste.landfill", 1.0, "t", scope3_category=5)], catalog)
    assert "scope3.cat5" in fp.by_category


def test_spend_based_method_is_recognised(catalog: FactorCatalog) -> None:
    fp = compute_footprint(
        [rec("s", "spend.naics.331110", 1000.0, "USD", region="US", scope3_category=1)], catalog
    )
    assert (fp.scope3_kgco2e, fp.records[0].method) == (900.0, "spend")


def test_spend_in_another_currency_is_not_converted(catalog: FactorCatalog) -> None:
    with pytest.raises(UnitConversionError, match="record 's'"):
        compute_footprint([rec("s", "spend.naics.331110", 1000.0, "GBP", region="US")], catalog)


def test_unit_that_does_not_convert_names_record_and_units(catalog: FactorCatalog) -> None:
    with pytest.raises(UnitConversionError, match=r"record 'g2', row 7: unit 'L'.*'kWh'"):
        compute_footprint([rec("g2", "fuel.gas", 1.0, "L", row=7)], catalog)


def test_error_counts_other_records_of_the_same_kind(catalog: FactorCatalog) -> None:
    records = [rec(str(i), "fuel.gas", 1.0, "L") for i in range(4)]
    with pytest.raises(UnitConversionError, match="and 3 more record"):
        compute_footprint(records, catalog)


def test_factor_unit_is_chosen_by_dimension(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("t", "freight.hgv", 2.0, "tkm")], catalog)
    assert fp.scope3_kgco2e == pytest.approx(2 * (0.1 + 1e-06 * 27))


def test_unknown_activity_names_the_record(catalog: FactorCatalog) -> None:
    with pytest.raises(UnknownActivityError, match="record 'x1'"):
        compute_footprint([rec("x1", "fuel.unobtainium", 1.0, "kg")], catalog)


def test_factor_with_unknown_gas_names_the_record(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(
        "activity,region,unit,scope,category,gases,year,source,licence\n"
        "process.odd,GB,kg,1,process,CFC-999=1.0,2023,test,CC0-1.0\n",
        encoding="utf-8",
    )
    with pytest.raises(UnknownGasError, match=r"record 'p1'.*CFC-999"):
        compute_footprint([rec("p1", "process.odd", 1.0, "kg")], FactorCatalog.from_files(path))


def test_missing_region_names_the_record(catalog: FactorCatalog) -> None:
    with pytest.raises(FactorNotFoundError, match=r"record 'f'.*'FR'"):
        compute_footprint([rec("f", "fuel.gas", 1.0, "kWh", region="FR")], catalog)


def test_global_factor_fallback_is_flagged(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("c", "process.clinker", 1.0, "t", region="FR")], catalog)
    assert fp.records[0].flags == ("factor-region:GLOBAL",)


def test_unknown_gwp_set_is_refused(catalog: FactorCatalog) -> None:
    with pytest.raises(UnknownGwpSetError):
        compute_footprint([], catalog, gwp="SAR")


def test_outputs_are_collected_without_emissions(catalog: FactorCatalog) -> None:
    fp = compute_footprint(
        [
            rec("o", "output.widget", 500.0, "piece", customer="ACME"),
            rec("g", "fuel.gas", 1.0, "kWh"),
        ],
        catalog,
    )
    assert [(o.product, o.quantity, o.customer) for o in fp.outputs] == [("widget", 500.0, "ACME")]


def test_outputs_are_not_emission_results(catalog: FactorCatalog) -> None:
    fp = compute_footprint(
        [rec("o", "output.widget", 500.0, "piece"), rec("g", "fuel.gas", 1.0, "kWh")], catalog
    )
    assert [r.record_id for r in fp.records] == ["g"]


def test_categories_add_up_to_the_total(catalog: FactorCatalog) -> None:
    records = [
        rec("g", "fuel.gas", 1000.0, "kWh"),
        rec("e", "electricity.grid", 5.0, "MWh", region="DE"),
        rec("t", "freight.hgv", 40.0, "t*km"),
        rec("r", "release.R-404A", 1.5, "kg"),
    ]
    fp = compute_footprint(records, catalog)
    assert sum(fp.by_category.values()) == pytest.approx(fp.total_kgco2e, rel=1e-12)


def test_primary_data_share_weights_by_co2e(catalog: FactorCatalog) -> None:
    records = [
        rec("a", "fuel.gas", 1000.0, "kWh", data_quality="primary"),
        rec("b", "fuel.gas", 3000.0, "kWh", data_quality="secondary"),
    ]
    assert compute_footprint(records, catalog).primary_data_share == pytest.approx(0.25)


def test_primary_co2e_is_reported_per_category(catalog: FactorCatalog) -> None:
    records = [
        rec("a", "fuel.gas", 1000.0, "kWh", data_quality="primary"),
        rec("b", "travel.rail", 100.0, "pkm"),
    ]
    fp = compute_footprint(records, catalog)
    assert dict(fp.primary_by_category) == {
        "scope1.stationary": fp.by_category["scope1.stationary"],
        "scope3.cat6": 0.0,
    }


def test_supplier_specific_instrument_counts_as_primary(catalog: FactorCatalog) -> None:
    records = [rec("e", "electricity.grid", 1000.0, "kWh", instrument="supplier:0.1")]
    assert compute_footprint(records, catalog).primary_data_share == 1.0


def test_result_traces_to_dataset_version_and_source_row(catalog: FactorCatalog) -> None:
    result = compute_footprint([rec("g", "fuel.gas", 1.0, "kWh")], catalog).records[0]
    assert (result.factor_ref, result.factor.source_ref if result.factor else None) == (
        "test-factors@local:fuel.gas/GB",
        "r1",
    )


def test_per_record_gases_scale_with_quantity(catalog: FactorCatalog) -> None:
    result = compute_footprint([rec("g", "fuel.gas", 10.0, "kWh")], catalog).records[0]
    assert dict(result.gases_kg) == pytest.approx({"CO2": 2.0, "CH4": 1e-4, "N2O": 1e-5})


def test_records_sequence_supports_negative_index_and_slices(catalog: FactorCatalog) -> None:
    records = [rec(str(i), "fuel.gas", float(i), "kWh") for i in range(5)]
    results = compute_footprint(records, catalog).records
    assert (results[-1].record_id, [r.record_id for r in results[1:3]]) == ("4", ["1", "2"])


def test_same_activity_many_records_sum_exactly(catalog: FactorCatalog) -> None:
    records = [rec(str(i), "fuel.gas", 1.0, "kWh") for i in range(1000)]
    one = compute_footprint(records[:1], catalog).scope1_kgco2e
    assert compute_footprint(records, catalog).scope1_kgco2e == pytest.approx(1000 * one)


def test_empty_input_gives_zero_footprint(catalog: FactorCatalog) -> None:
    fp = compute_footprint([], catalog)
    assert (fp.total_kgco2e, len(fp.records), fp.primary_data_share) == (0.0, 0, 0.0)


def test_json_form_has_contract_keys(catalog: FactorCatalog) -> None:
    data = compute_footprint([rec("g", "fuel.gas", 1.0, "kWh")], catalog).to_dict()
    required = {
        "scope1_kgco2e",
        "scope2_location_kgco2e",
        "scope2_market_kgco2e",
        "scope3_kgco2e",
        "by_category",
        "by_gas",
        "biogenic_co2_kg",
        "primary_data_share",
        "records",
    }
    assert required <= set(data)


def test_total_is_nan_free_with_mixed_scopes(catalog: FactorCatalog) -> None:
    records = [rec("g", "fuel.gas", 1.0, "kWh"), rec("o", "output.x", 1.0, "kg")]
    assert not math.isnan(compute_footprint(records, catalog).total_kgco2e)
