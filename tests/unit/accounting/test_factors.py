"""The factor catalog: file format, lookup fallback, year choice, overlays (factors.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fedcarbon.accounting.errors import DatasetError, FactorNotFoundError, UnknownActivityError
from fedcarbon.accounting.factors import (
    FACTOR_COLUMNS,
    EmissionFactor,
    FactorCatalog,
    format_gases,
    parse_gases,
    region_fallbacks,
    units_compatible,
)

HEADER = ",".join(FACTOR_COLUMNS)


def _row(
    activity: str = "fuel.test",
    region: str = "GLOBAL",
    unit: str = "kWh",
    gases: str = "CO2=1.0",
    co2e: str = "",
    basis: str = "",
    year: int = 2023,
    source: str = "Test publisher",
) -> str:
    return (
        f"{activity},{region},{unit},1,stationary,{gases},{co2e},{basis},,{year},"
        f"{source},row 1,CC0-1.0,test row"
    )


def _catalog(tmp_path: Path, *rows: str, name: str = "own.csv") -> FactorCatalog:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return FactorCatalog.from_files(path)


def test_region_fallback_chain_is_exact_then_country_then_global() -> None:
    assert region_fallbacks("GB-SCT") == ("GB-SCT", "GB", "GLOBAL")


def test_lookup_prefers_exact_region(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(region="DE", gases="CO2=2.0"), _row(gases="CO2=1.0"))
    assert cat.lookup("fuel.test", "DE").region == "DE"


def test_lookup_falls_back_from_subdivision_to_country(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(region="GB"), _row(region="GLOBAL"))
    assert cat.lookup("fuel.test", "GB-SCT").region == "GB"


def test_lookup_falls_back_to_global(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(region="GB"), _row(region="GLOBAL"))
    assert cat.lookup("fuel.test", "FR").region == "GLOBAL"


def test_lookup_without_matching_region_names_activity_and_region(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(region="GB"))
    with pytest.raises(FactorNotFoundError, match=r"fuel\.test.*'FR'"):
        cat.lookup("fuel.test", "FR")


def test_lookup_of_unknown_activity_raises_unknown_activity(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row())
    with pytest.raises(UnknownActivityError, match=r"fuel\.nope"):
        cat.lookup("fuel.nope", "GLOBAL")


def test_lookup_picks_newest_year_not_after_reporting_year(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(year=2020), _row(year=2022), _row(year=2024))
    assert cat.lookup("fuel.test", "GLOBAL", 2023).year == 2022


def test_lookup_without_year_picks_newest(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(year=2020), _row(year=2024))
    assert cat.lookup("fuel.test", "GLOBAL").year == 2024


def test_lookup_before_every_factor_year_picks_oldest(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(year=2022), _row(year=2024))
    assert cat.lookup("fuel.test", "GLOBAL", 2010).year == 2022


def test_lookup_with_unit_skips_factors_of_another_dimension(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(unit="kWh"), _row(unit="L", gases="CO2=2.5"))
    assert cat.lookup("fuel.test", "GLOBAL", unit="gal").unit == "L"


def test_lookup_with_incompatible_unit_raises(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(unit="kWh"))
    with pytest.raises(FactorNotFoundError, match="unit kg"):
        cat.lookup("fuel.test", "GLOBAL", unit="kg")


def test_overlay_factor_wins_over_base(tmp_path: Path) -> None:
    base = _catalog(tmp_path, _row(gases="CO2=1.0"), name="base.csv")
    own = _catalog(tmp_path, _row(gases="CO2=9.0"), name="own.csv")
    assert base.overlay(own).lookup("fuel.test", "GLOBAL").gases["CO2"] == 9.0


def test_overlay_global_factor_wins_over_base_country_factor(tmp_path: Path) -> None:
    base = _catalog(tmp_path, _row(region="DE", gases="CO2=1.0"), name="base.csv")
    own = _catalog(tmp_path, _row(region="GLOBAL", gases="CO2=9.0"), name="own.csv")
    assert base.overlay(own).lookup("fuel.test", "DE").dataset == "own"


def test_overlay_keeps_base_activities_the_overlay_lacks(tmp_path: Path) -> None:
    base = _catalog(tmp_path, _row(activity="fuel.a"), name="base.csv")
    own = _catalog(tmp_path, _row(activity="fuel.b"), name="own.csv")
    assert base.overlay(own).lookup("fuel.a", "GLOBAL").dataset == "base"


def test_from_files_first_path_takes_precedence(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(f"{HEADER}\n{_row(gases='CO2=1.0')}\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text(f"{HEADER}\n{_row(gases='CO2=2.0')}\n", encoding="utf-8")
    cat = FactorCatalog.from_files(tmp_path / "a.csv", tmp_path / "b.csv")
    assert cat.lookup("fuel.test", "GLOBAL").dataset == "a"


def test_overlay_on_default_catalog_serves_supplier_specific_factor(tmp_path: Path) -> None:
    own = _catalog(tmp_path, _row(activity="electricity.grid", region="DE", gases="CO2=0.1"))
    factor = FactorCatalog.default().overlay(own).lookup("electricity.grid", "DE")
    assert factor.gases == {"CO2": 0.1}


def test_co2e_only_row_becomes_co2e_gas_with_basis(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(gases="", co2e="0.5", basis="AR5"))
    factor = cat.lookup("fuel.test", "GLOBAL")
    assert (dict(factor.gases), factor.co2e_gwp_basis) == ({"CO2e": 0.5}, "AR5")


def test_gas_split_row_keeps_published_co2e_as_cross_check(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(gases="CO2=1.0;CH4=0.1", co2e="3.8", basis="AR5"))
    factor = cat.lookup("fuel.test", "GLOBAL")
    assert (factor.co2e_gwp_basis, factor.published_co2e) == (None, 3.8)


def test_co2e_only_row_without_basis_is_refused_naming_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"own\.csv:3 column 'co2e_gwp_basis'"):
        _catalog(tmp_path, _row(), _row(gases="", co2e="0.5"))


def test_row_without_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="'source'"):
        _catalog(tmp_path, _row(source=""))


def test_file_missing_required_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("activity,region\nfuel.x,GLOBAL\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="missing columns"):
        FactorCatalog.from_files(path)


def test_bad_gas_cell_is_refused_naming_the_column(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="'gases'"):
        _catalog(tmp_path, _row(gases="CO2:1"))


def test_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nowhere\.csv"):
        FactorCatalog.from_files(tmp_path / "nowhere.csv")


def test_gases_text_round_trips_exactly() -> None:
    gases = {"CO2": 0.1 + 0.2, "CH4": 1.1e-05, "HFC-134a": 1.0}
    assert parse_gases(format_gases(gases)) == gases


def test_units_compatible_across_scales() -> None:
    assert units_compatible("MWh", "kWh") and units_compatible("tonne*km", "t*km")


def test_units_of_different_dimension_are_not_compatible() -> None:
    assert not units_compatible("L", "kWh")


def test_search_matches_every_word_case_insensitively(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, _row(activity="fuel.natural_gas"), _row(activity="fuel.diesel"))
    assert [f.activity for f in cat.search("NATURAL fuel")] == ["fuel.natural_gas"]


def test_len_counts_every_factor(tmp_path: Path) -> None:
    assert len(_catalog(tmp_path, _row(), _row(region="DE"))) == 2


def test_factor_ref_names_dataset_version_activity_and_region(tmp_path: Path) -> None:
    factor = _catalog(tmp_path, _row()).lookup("fuel.test", "GLOBAL")
    assert factor.ref == "own@local:fuel.test/GLOBAL"


def test_from_factors_builds_a_catalog_from_objects() -> None:
    factor = EmissionFactor(
        dataset="pcf",
        dataset_version="1",
        activity="pcf.widget",
        region="GLOBAL",
        unit="kg",
        gases={"CO2e": 2.0},
        co2e_gwp_basis="AR6",
        biogenic_co2=0.0,
        scope="3",
        category="scope3.cat1",
        source="supplier",
        source_ref="pf-1",
        year=2024,
        licence="proprietary",
    )
    assert FactorCatalog.from_factors([factor]).lookup("pcf.widget", "DE") is factor


# -- the default catalog's precedence (documented in factors.py and docs/activity-codes.md) --


def test_default_catalog_prefers_desnz_for_gb_fuel() -> None:
    factor = FactorCatalog.default().lookup("fuel.natural_gas", "GB", unit="kWh")
    assert factor.dataset == "desnz-2023"


def test_default_catalog_uses_ipcc_for_fuel_outside_gb() -> None:
    factor = FactorCatalog.default().lookup("fuel.natural_gas", "DE", unit="kWh")
    assert factor.dataset == "ipcc-2006"


def test_default_catalog_has_country_grid_factor_from_ember() -> None:
    factor = FactorCatalog.default().lookup("electricity.grid", "FR")
    assert (factor.dataset, factor.region) == ("ember-grid", "FR")


def test_default_catalog_prefers_desnz_grid_factor_for_gb() -> None:
    assert FactorCatalog.default().lookup("electricity.grid", "GB").dataset == "desnz-2023"


def test_default_catalog_grid_factor_falls_back_to_world_average() -> None:
    assert FactorCatalog.default().lookup("electricity.grid", "AQ").region == "GLOBAL"


def test_default_catalog_spend_factor_is_per_2021_usd() -> None:
    factor = FactorCatalog.default().lookup("spend.naics.331110", "DE")
    assert (factor.unit, factor.category) == ("USD_2021", "scope3.cat1")


def test_default_catalog_lists_datasets_in_precedence_order() -> None:
    assert list(FactorCatalog.default().datasets) == [
        "desnz-2023",
        "ember-grid",
        "ipcc-2006",
        "epa-supply-chain-v1.2",
    ]


# -- properties of lookup over random catalogs ------------------------------------------------

_REGIONS = ("GLOBAL", "DE", "GB", "GB-SCT")


def _factor(dataset: str, region: str, year: int) -> EmissionFactor:
    return EmissionFactor(
        dataset=dataset,
        dataset_version="1",
        activity="fuel.x",
        region=region,
        unit="kWh",
        gases={"CO2": float(year)},
        co2e_gwp_basis=None,
        biogenic_co2=0.0,
        scope="1",
        category="stationary",
        source="generated",
        source_ref="-",
        year=year,
        licence="CC0-1.0",
    )


_layer_rows = st.lists(
    st.tuples(st.sampled_from(_REGIONS), st.integers(2015, 2025)), min_size=0, max_size=6
)


@given(base=_layer_rows, top=_layer_rows, region=st.sampled_from((*_REGIONS, "FR", "GB-WLS")))
def test_overlay_wins_whenever_it_covers_the_region_chain(
    base: list[tuple[str, int]], top: list[tuple[str, int]], region: str
) -> None:
    catalog = FactorCatalog.from_factors([_factor("base", r, y) for r, y in base]).overlay(
        FactorCatalog.from_factors([_factor("top", r, y) for r, y in top])
    )
    top_covers = any(r in region_fallbacks(region) for r, _ in top)
    base_covers = any(r in region_fallbacks(region) for r, _ in base)
    assume(top_covers or base_covers)
    assert catalog.lookup("fuel.x", region).dataset == ("top" if top_covers else "base")


@given(
    rows=_layer_rows, region=st.sampled_from(("DE", "GB-SCT", "FR")), year=st.integers(2010, 2030)
)
def test_lookup_returns_most_specific_region_and_newest_year_not_after(
    rows: list[tuple[str, int]], region: str, year: int
) -> None:
    chain = region_fallbacks(region)
    assume(any(r in chain for r, _ in rows))
    found = FactorCatalog.from_factors([_factor("d", r, y) for r, y in rows]).lookup(
        "fuel.x", region, year
    )
    best_region = next(c for c in chain if any(r == c for r, _ in rows))
    years = [y for r, y in rows if r == best_region]
    expected_year = max((y for y in years if y <= year), default=min(years))
    assert (found.region, found.year) == (best_region, expected_year)


def test_from_files_reads_a_manifest_with_its_dataset_info(tmp_path: Path) -> None:
    (tmp_path / "mix.csv").write_text(f"{HEADER}\n{_row()}\n", encoding="utf-8")
    (tmp_path / "datasets.json").write_text(
        '[{"id": "acme-2024", "version": "3", "title": "Acme supplier factors",'
        ' "publisher": "Acme", "year": 2024, "licence": "proprietary",'
        ' "attribution": "Acme Ltd", "url": "https://example.org", "file": "mix.csv"}]',
        encoding="utf-8",
    )
    catalog = FactorCatalog.from_files(tmp_path / "datasets.json")
    assert (catalog.lookup("fuel.test", "DE").ref, catalog.datasets["acme-2024"].publisher) == (
        "acme-2024@3:fuel.test/GLOBAL",
        "Acme",
    )


def test_dataset_columns_in_a_file_name_its_dataset(tmp_path: Path) -> None:
    path = tmp_path / "own.csv"
    path.write_text(f"{HEADER},dataset,dataset_version\n{_row()},acme,7\n", encoding="utf-8")
    assert FactorCatalog.from_files(path).lookup("fuel.test", "DE").ref == (
        "acme@7:fuel.test/GLOBAL"
    )


def test_bad_manifest_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "datasets.json").write_text('[{"id": "x"}]', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"datasets\.json"):
        FactorCatalog.from_files(tmp_path / "datasets.json")
