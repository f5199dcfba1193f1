"""Defects found by the audit of the engine (issue 15): each test failed before its fix."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from fedcarbon.accounting.engine import RecordResult, compute_footprint
from fedcarbon.accounting.errors import (
    FuelConversionError,
    InstrumentError,
    MixedGwpError,
    MoneyConversionError,
    NonFiniteTotalError,
    UnknownRegionError,
)
from fedcarbon.accounting.factors import FactorCatalog
from fedcarbon.accounting.fuels import fuel_density
from fedcarbon.accounting.gwp import gwp100
from fedcarbon.accounting.money import exchange_rates, price_index

from .engine_samples import rec, sample_catalog


@pytest.fixture
def catalog(tmp_path: Path) -> FactorCatalog:
    return sample_catalog(tmp_path)


# -- fuel volumes outside the UK ----------------------------------------------------------


def test_natural_gas_in_m3_outside_the_uk_uses_ipcc_factor_through_density() -> None:
    fp = compute_footprint([rec("g", "fuel.natural_gas", 1000.0, "m**3", region="DE")])
    result = fp.records[0]
    density = fuel_density("fuel.natural_gas")
    assert density is not None
    # IPCC 2006 Vol 2 Table 1.4: 56,100 kg CO2 per TJ; Table 1.2: NCV 48.0 TJ/Gg.
    expected_co2 = 1000.0 * density.kg_per_m3 / 1000.0 * 48.0e-3 * 56100.0
    assert result.gases_kg["CO2"] == pytest.approx(expected_co2, rel=1e-9)


def test_fuel_density_is_flagged_with_its_source() -> None:
    fp = compute_footprint([rec("d", "fuel.diesel", 500.0, "L", region="FR")])
    assert "fuel-density:desnz-2023@2023-v1.1:fuel.diesel" in fp.records[0].flags


def test_natural_gas_density_from_desnz_is_plausible() -> None:
    density = fuel_density("fuel.natural_gas")
    assert density is not None and 0.7 < density.kg_per_m3 < 0.9


def test_fuel_volume_without_density_names_the_fallback_factor() -> None:
    with pytest.raises(FuelConversionError, match=r"ipcc-2006@2006:fuel\.peat/GLOBAL"):
        compute_footprint([rec("p", "fuel.peat", 10.0, "m**3", region="IE")])


def test_gb_natural_gas_in_m3_still_uses_desnz() -> None:
    fp = compute_footprint([rec("g", "fuel.natural_gas", 1000.0, "m**3", region="GB")])
    assert fp.records[0].factor_ref.startswith("desnz-2023")


# -- region codes ------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "hint"), [("UK", "GB"), ("EU", "country"), ("ZZ", "")])
def test_unknown_region_is_refused_with_a_hint(region: str, hint: str) -> None:
    with pytest.raises(UnknownRegionError, match=rf"record 'e'.*{region!r}.*{hint}"):
        compute_footprint([rec("e", "electricity.grid", 100.0, "kWh", region=region)])


def test_subdivision_of_a_known_country_is_accepted() -> None:
    fp = compute_footprint([rec("e", "electricity.grid", 100.0, "kWh", region="GB-SCT")])
    assert fp.scope2_location_kgco2e > 0


# -- totals, releases, duplicates, GWP sets -------------------------------------------------


def test_total_overflowing_to_infinity_is_refused(catalog: FactorCatalog) -> None:
    records = [rec("big", "fuel.gas", 1e308, "MWh"), rec("ok", "fuel.gas", 1.0, "kWh")]
    with pytest.raises(NonFiniteTotalError, match="record 'big'"):
        compute_footprint(records, catalog)


def test_sum_overflowing_to_infinity_is_refused(catalog: FactorCatalog) -> None:
    records = [rec(str(i), "process.clinker", 1e305, "t") for i in range(10)]
    with pytest.raises(NonFiniteTotalError, match="total"):
        compute_footprint(records, catalog)


def test_negative_refrigerant_release_is_flagged(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("r", "release.R-410A", -3.0, "kg")], catalog)
    assert "negative-release" in fp.records[0].flags


def test_methane_release_uses_fossil_gwp(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("leak", "release.CH4", 10.0, "kg")], catalog, gwp="AR6")
    assert fp.scope1_kgco2e == pytest.approx(298.0)


def test_biogenic_methane_release_can_still_be_declared(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("bio", "release.CH4_non_fossil", 10.0, "kg")], catalog)
    assert fp.scope1_kgco2e == pytest.approx(270.0)


def test_identical_rows_with_different_ids_are_flagged(catalog: FactorCatalog) -> None:
    records = [rec("a", "fuel.gas", 5.0, "kWh"), rec("b", "fuel.gas", 5.0, "kWh")]
    fp = compute_footprint(records, catalog)
    assert [r.flags for r in fp.records] == [(), ("possible-duplicate-of:a",)]


def test_rows_differing_in_quantity_are_not_flagged(catalog: FactorCatalog) -> None:
    records = [rec("a", "fuel.gas", 5.0, "kWh"), rec("b", "fuel.gas", 6.0, "kWh")]
    assert all(not r.flags for r in compute_footprint(records, catalog).records)


def test_total_mixing_gwp_sets_names_every_set(catalog: FactorCatalog) -> None:
    records = [rec("g", "fuel.gas", 5.0, "kWh"), rec("e", "electricity.grid", 5.0, "kWh", "DE")]
    fp = compute_footprint(records, catalog, gwp="AR6")
    assert (fp.gwp_sets, set(fp.kgco2e_by_gwp_set)) == (("AR6", "AR5"), {"AR6", "AR5"})


def test_total_mixing_gwp_sets_is_refused_when_strict(catalog: FactorCatalog) -> None:
    records = [rec("g", "fuel.gas", 5.0, "kWh"), rec("e", "electricity.grid", 5.0, "kWh", "DE")]
    with pytest.raises(MixedGwpError, match="AR5"):
        compute_footprint(records, catalog, gwp="AR6", strict_gwp=True)


def test_single_gwp_set_passes_strict(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("g", "fuel.gas", 5.0, "kWh")], catalog, strict_gwp=True)
    assert fp.gwp_sets == ("AR6",)


@pytest.mark.parametrize(("gas", "value"), [("CH4", 25.0), ("N2O", 298.0), ("HFC-134a", 1430.0)])
def test_ar4_gwp100_from_table_2_14(gas: str, value: float) -> None:
    assert gwp100(gas, "AR4") == value


def test_ar4_blend_is_mass_weighted() -> None:
    assert gwp100("R-410A", "AR4") == pytest.approx(0.5 * 675 + 0.5 * 3500)


def test_ar4_reproduces_an_ar4_total(catalog: FactorCatalog) -> None:
    fp = compute_footprint([rec("s", "spend.mixed", 10.0, "USD", "US")], catalog, gwp="AR4")
    assert (fp.scope3_kgco2e, fp.gwp_sets) == (pytest.approx(6.0), ("AR4",))


# -- Scope 2 instruments: market boundary of I-REC and EAC, vintage -----------------------


def _market(instrument: str, region: str = "BR") -> float | None:
    records = [rec("e", "electricity.grid", 1000.0, "kWh", region=region, instrument=instrument)]
    return compute_footprint(records).records[0].co2e_market_kg


def test_irec_issued_in_the_records_country_zeroes_market_based() -> None:
    assert _market("I-REC/BR@2023") == 0.0


def test_irec_from_another_country_is_refused() -> None:
    with pytest.raises(InstrumentError, match="issued in CL cannot cover consumption in BR"):
        _market("I-REC/CL@2023")


@pytest.mark.parametrize("scheme", ["I-REC", "EAC"])
def test_per_country_certificate_without_its_country_is_refused(scheme: str) -> None:
    with pytest.raises(InstrumentError, match=rf"{scheme}/BR"):
        _market(scheme)


def test_certificate_from_2015_does_not_zero_2023_electricity() -> None:
    with pytest.raises(InstrumentError, match="vintage 2015"):
        _market("REGO@2015:R1", region="GB")


@pytest.mark.parametrize("vintage", ["2022-07", "2023-01", "2024-03"])
def test_vintage_month_inside_the_21_month_window_is_accepted(vintage: str) -> None:
    assert _market(f"REGO@{vintage}", region="GB") == 0.0


@pytest.mark.parametrize("vintage", ["2022-06", "2024-04"])
def test_vintage_month_outside_the_window_is_refused(vintage: str) -> None:
    with pytest.raises(InstrumentError, match="outside 2022-07 to 2024-03"):
        _market(f"REGO@{vintage}", region="GB")


def test_vintage_year_other_than_the_consumption_year_is_refused() -> None:
    with pytest.raises(InstrumentError, match="give the vintage month"):
        _market("GO@2022", region="DE")


def test_certificate_without_vintage_is_flagged() -> None:
    records = [rec("e", "electricity.grid", 10.0, "kWh", region="DE", instrument="GO")]
    assert "instrument:no-vintage" in compute_footprint(records).records[0].flags


def test_scope2_outside_the_uk_is_the_combustion_part_and_upstream_goes_to_category_3() -> None:
    """Scope 2 Guidance: Scope 2 is generation's combustion; the fuels' upstream is Scope 3
    category 3 (Scope 3 Technical Guidance Table 3.1). Ember's lifecycle intensity for DE
    (342.06 g/kWh) is split by a combustion share modelled from the 2023 mix, and the two
    parts add up to the published lifecycle figure."""
    fp = compute_footprint(
        [
            rec("e", "electricity.grid", 1000.0, "kWh", region="DE"),
            rec("u", "wtt.electricity.grid", 1000.0, "kWh", region="DE", scope3_category=3),
        ]
    )
    combustion, upstream = fp.records[0].co2e_kg, fp.records[1].co2e_kg
    assert "location:combustion-share-modelled" in fp.records[0].flags
    assert combustion + upstream == pytest.approx(342.06, rel=1e-9)
    # Germany's 2023 mix is mostly coal and gas: combustion is 70-90 % of the lifecycle figure.
    assert 0.7 < combustion / (combustion + upstream) < 0.9
    assert fp.scope2_location_kgco2e == pytest.approx(combustion)
    assert fp.by_category["scope3.cat3"] == pytest.approx(upstream)


def test_low_carbon_grid_has_a_small_combustion_share() -> None:
    """Norway is almost all hydro: most of its small lifecycle intensity is upstream."""
    fp = compute_footprint([rec("e", "electricity.grid", 1000.0, "kWh", region="NO")])
    assert fp.scope2_location_kgco2e < 0.5 * 30.75


def test_uk_grid_factor_is_combustion_only_and_not_flagged() -> None:
    fp = compute_footprint([rec("e", "electricity.grid", 10.0, "kWh", region="GB")])
    assert "location:combustion-share-modelled" not in fp.records[0].flags


# -- spend: currency, price year, geography ---------------------------------------------------

STEEL = "spend.naics.331110"  # US EPA v1.2: kg per 2021 USD


def _spend(quantity: float, unit: str, region: str = "US", year: int = 2024) -> RecordResult:
    record = replace(
        rec("s", STEEL, quantity, unit, region=region, scope3_category=1),
        period_start=date(year, 1, 1),
        period_end=date(year, 12, 31),
    )
    return compute_footprint([record]).records[0]


def _per_2021_usd() -> float:
    return _spend(1.0, "USD_2021").co2e_kg


def test_plain_usd_on_a_2024_record_is_deflated_to_2021_and_flagged() -> None:
    result = _spend(1000.0, "USD")
    cpi = price_index()
    assert result.co2e_kg == pytest.approx(1000 * cpi[2021] / cpi[2024] * _per_2021_usd())
    assert "spend:price-year-assumed:2024" in result.flags


def test_stated_price_year_is_not_flagged_as_assumed() -> None:
    result = _spend(1000.0, "USD_2024")
    assert result.co2e_kg == pytest.approx(_spend(1000.0, "USD").co2e_kg)
    assert not any(f.startswith("spend:price-year-assumed") for f in result.flags)


def test_euro_spend_is_converted_at_the_annual_rate_then_deflated() -> None:
    result = _spend(1000.0, "EUR", year=2023)
    usd_2021 = 1000 / exchange_rates()[("EUR", 2023)] * price_index()[2021] / price_index()[2023]
    assert result.co2e_kg == pytest.approx(usd_2021 * _per_2021_usd())


def test_usd_2021_spend_in_the_us_needs_no_conversion() -> None:
    assert not any(f.startswith("spend:") for f in _spend(10.0, "USD_2021").flags)


def test_non_us_spend_on_us_factors_names_the_geography() -> None:
    assert "spend:us-economy-factor-for:DE" in _spend(10.0, "USD_2021", region="DE").flags


def test_currency_without_a_shipped_rate_is_refused_by_name() -> None:
    with pytest.raises(MoneyConversionError, match="PLN"):
        _spend(10.0, "PLN", region="PL")


def test_year_outside_the_price_index_is_refused_with_the_range() -> None:
    with pytest.raises(MoneyConversionError, match="2030"):
        _spend(10.0, "USD", year=2030)


def test_shipped_cpi_matches_bls_annual_averages() -> None:
    assert (price_index()[2021], price_index()[2023]) == (270.970, 304.702)


def test_cli_refuses_an_overflowing_total_instead_of_printing_infinity(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fedcarbon.accounting.cli import app

    csv = tmp_path / "huge.csv"
    csv.write_text(
        "record_id,period_start,period_end,site,activity,quantity,unit,region\n"
        "a,2023-01-01,2023-12-31,Leeds,fuel.natural_gas,1e308,MWh,GB\n"
        "b,2023-01-01,2023-12-31,Leeds,fuel.natural_gas,1e308,MWh,GB\n"
    )
    result = CliRunner().invoke(app, ["compute", str(csv), "--json"])
    assert (result.exit_code, result.stdout, "record 'a'" in result.stderr) == (1, "", True)
