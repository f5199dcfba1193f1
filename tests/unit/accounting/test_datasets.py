"""The shipped factor datasets: provenance on every row, cross-checks against the publishers'
own totals, and derivation scripts that reproduce the committed files byte for byte."""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from fedcarbon.accounting.factors import (
    FACTOR_COLUMNS,
    EmissionFactor,
    FactorCatalog,
    builtin_dataset_path,
    parse_gases,
)
from fedcarbon.accounting.gwp import co2e_kg, gwp100

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared" / "data"
DATA = builtin_dataset_path("datasets.json").parent
ACTIVITY_RE = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_\-+]+)+$")  # records.py's rule
REGION_RE = re.compile(r"^(GLOBAL|[A-Z]{2}(-[A-Z0-9]{1,3})?)$")

# IPCC AR4 WGI Table 2.14 GWP100, the set the US EPA v1.2 CO2e file uses.
AR4 = {
    "CO2": 1,
    "CH4": 25,
    "N2O": 298,
    "SF6": 22800,
    "NF3": 17200,
    "PFC-14": 7390,
    "PFC-116": 12200,
    "PFC-218": 8830,
    "PFC-318": 10300,
    "HFC-23": 14800,
    "HFC-32": 675,
    "HFC-125": 3500,
    "HFC-134a": 1430,
    "HFC-143a": 4470,
    "HFC-236fa": 9810,
}


def _factors(dataset: str) -> list[EmissionFactor]:
    return [f for f in FactorCatalog.default() if f.dataset == dataset]


def _all() -> Iterator[EmissionFactor]:
    return iter(FactorCatalog.default())


def test_every_shipped_factor_has_source_year_and_licence() -> None:
    missing = [f.ref for f in _all() if not (f.source and f.licence and 1990 < f.year < 2100)]
    assert missing == []


def test_every_shipped_factor_has_a_source_reference() -> None:
    assert [f.ref for f in _all() if not f.source_ref] == []


def test_every_shipped_factor_belongs_to_a_manifest_dataset() -> None:
    catalog = FactorCatalog.default()
    assert {f.dataset for f in catalog} == set(catalog.datasets)


def test_every_shipped_activity_code_is_valid_for_activity_records() -> None:
    assert [f.activity for f in _all() if not ACTIVITY_RE.match(f.activity)] == []


def test_every_shipped_region_is_iso_alpha2_or_global() -> None:
    assert [f.ref for f in _all() if not REGION_RE.match(f.region)] == []


def test_every_shipped_gas_has_a_gwp_in_both_sets() -> None:
    for f in _all():
        for basis in ("AR5", "AR6"):
            co2e_kg(f.gases, basis)  # raises UnknownGasError on an unknown gas


def test_co2e_parts_always_name_their_gwp_basis() -> None:
    assert [f.ref for f in _all() if "CO2e" in f.gases and f.co2e_gwp_basis is None] == []


def test_no_two_factors_of_a_dataset_share_activity_region_unit_and_year() -> None:
    keys = [(f.dataset, f.activity, f.region, f.unit, f.year) for f in _all()]
    assert len(keys) == len(set(keys))


def test_every_dataset_is_attributed_in_licences_md() -> None:
    text = (DATA / "LICENCES.md").read_text(encoding="utf-8")
    catalog = FactorCatalog.default()
    assert [i.id for i in catalog.datasets.values() if f"`{i.id}`" not in text] == []


def test_data_files_stay_small() -> None:
    assert sum(p.stat().st_size for p in DATA.glob("*.csv")) < 4_000_000


def test_files_have_the_documented_columns() -> None:
    for path in DATA.glob("*.csv"):
        with path.open(encoding="utf-8") as handle:
            assert tuple(next(csv.reader(handle))) == FACTOR_COLUMNS, path.name


# -- DESNZ 2023 --------------------------------------------------------------------------------


def test_desnz_gases_recombined_with_ar5_reproduce_published_co2e() -> None:
    off = [
        f.ref
        for f in _factors("desnz-2023")
        if f.activity.split(".")[0] != "refrigerant"
        and "CO2e" not in f.gases
        and co2e_kg(f.gases, "AR5") != pytest.approx(f.published_co2e, rel=1e-9, abs=1e-12)
    ]
    assert off == []


def test_desnz_refrigerants_reproduce_published_co2e_to_desnz_rounding() -> None:
    off = [
        f.ref
        for f in _factors("desnz-2023")
        if f.activity.startswith("refrigerant.")
        and co2e_kg(f.gases, "AR5") != pytest.approx(f.published_co2e, abs=0.5)
    ]
    assert off == []


@pytest.mark.parametrize(("gas", "ar5"), [("CH4", 28.0), ("N2O", 265.0)])
def test_desnz_workbook_uses_the_ar5_gwps_the_derivation_divides_by(gas: str, ar5: float) -> None:
    # The flat file's own "Kyoto protocol products" row for the gas, kg CO2e per kg.
    factor = FactorCatalog.default().lookup(f"refrigerant.{gas}", "GB")
    assert factor.published_co2e == ar5 == gwp100(gas, "AR5")


def test_desnz_ch4_is_kg_of_methane_not_co2e() -> None:
    # Flat file ID 1_100_1004_7_3: natural gas, kWh (Net CV), 0.0003136 kg CO2e of CH4 (AR5 28).
    factor = FactorCatalog.default().lookup("fuel.natural_gas", "GB", unit="kWh")
    assert factor.gases["CH4"] == pytest.approx(0.0003136 / 28)


def test_desnz_bioenergy_carries_biogenic_co2_from_outside_of_scopes_rows() -> None:
    factor = FactorCatalog.default().lookup("fuel.bio.wood_pellets", "GB", unit="t")
    assert factor.biogenic_co2 > 1000


def test_desnz_uk_grid_factor_is_2023_value() -> None:
    factor = FactorCatalog.default().lookup("electricity.grid", "GB")
    assert factor.published_co2e == pytest.approx(0.20707, abs=1e-5)


# -- Ember grid --------------------------------------------------------------------------------


def test_grid_factors_cover_at_least_twenty_countries() -> None:
    regions = {f.region for f in _factors("ember-grid")}
    assert len(regions - {"GLOBAL"}) >= 20


def test_grid_factors_are_co2e_per_kwh_under_cc_by_sa() -> None:
    assert {(f.unit, f.licence, f.co2e_gwp_basis) for f in _factors("ember-grid")} == {
        ("kWh", "CC-BY-SA-4.0", "AR5")
    }


# -- IPCC 2006 ---------------------------------------------------------------------------------


def test_ipcc_per_tonne_factors_are_per_tj_times_default_ncv() -> None:
    catalog = FactorCatalog.default()
    per_tj = catalog.lookup("fuel.diesel", "FR", unit="TJ")
    per_t = catalog.lookup("fuel.diesel", "FR", unit="t")
    assert per_t.gases["CO2"] == pytest.approx(per_tj.gases["CO2"] * 43.0 / 1000)


def test_ipcc_natural_gas_values_equal_table_1_4_and_2_3() -> None:
    factor = FactorCatalog.default().lookup("fuel.natural_gas", "FR", unit="TJ")
    assert dict(factor.gases) == {"CO2": 56100, "CH4": 1, "N2O": 0.1}


def test_ipcc_wood_co2_is_biogenic_only() -> None:
    factor = FactorCatalog.default().lookup("fuel.bio.wood", "FR", unit="TJ")
    assert ("CO2" not in factor.gases, factor.biogenic_co2) == (True, 112000)


# -- US EPA supply chain factors --------------------------------------------------------------


def test_eeio_has_one_factor_per_naics_code() -> None:
    assert len(_factors("epa-supply-chain-v1.2")) == 1016


def test_eeio_gases_recombined_with_ar4_reproduce_published_co2e() -> None:
    # EPA rounds each value to three significant figures, hence 4 %.
    off = []
    for f in _factors("epa-supply-chain-v1.2"):
        total = sum(kg * (1.0 if gas == "CO2e" else AR4[gas]) for gas, kg in f.gases.items())
        if total != pytest.approx(f.published_co2e, rel=0.04):
            off.append(f.ref)
    assert off == []


def test_eeio_unspecified_hfc_pfc_part_is_already_co2e() -> None:
    # NAICS 515210 has the largest 'HFCs and PFCs, unspecified' share (6.61e-06 per USD against
    # a 0.146 kg CO2e total). Weighting it as CO2e reproduces the total; weighting it with even
    # the smallest HFC GWP in the file (HFC-32, 675) would overshoot by 3 %.
    factor = FactorCatalog.default().lookup("spend.naics.515210", "US")
    rest = sum(kg * AR4[g] for g, kg in factor.gases.items() if g != "CO2e")
    assert abs(rest + factor.gases["CO2e"] - 0.146) < abs(rest + factor.gases["CO2e"] * 675 - 0.146)


def test_eeio_ar6_co2e_uses_ar6_methane() -> None:
    factor = FactorCatalog.default().lookup("spend.naics.331110", "US")
    gases = dict(factor.gases)
    delta = co2e_kg(gases, "AR6") - co2e_kg(gases, "AR5")
    assert delta == pytest.approx(
        sum(kg * (gwp100(g, "AR6") - gwp100(g, "AR5")) for g, kg in gases.items() if g != "CO2e")
    )


# -- derivation scripts are deterministic ----------------------------------------------------


def _script(name: str) -> ModuleType:
    path = REPO / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_fedcarbon_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def _needs(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"reference file {path} is absent (../shared/data not mounted)")


@pytest.mark.parametrize(
    ("script", "sources", "output"),
    [
        (
            "derive_desnz",
            ["desnz/ghg-conversion-factors-2023-flat-file-update.xlsx"],
            "desnz_2023.csv",
        ),
        ("derive_grid", ["grid/ember-average-intensities.json"], "ember_grid.csv"),
        (
            "derive_eeio",
            [
                "eeio/SupplyChainGHGEmissionFactors_v1.2_NAICS_byGHG_USD2021.csv",
                "eeio/SupplyChainGHGEmissionFactors_v1.2_NAICS_CO2e_USD2021.csv",
            ],
            "epa_supply_chain_v1_2.csv",
        ),
    ],
)
def test_derivation_script_reproduces_committed_file(
    script: str, sources: list[str], output: str, tmp_path: Path
) -> None:
    paths = [SHARED / s for s in sources]
    for p in paths:
        _needs(p)
    out = tmp_path / output
    _script(script).main(["script", *map(str, paths), str(out)])
    assert out.read_bytes() == (DATA / output).read_bytes()


def test_ipcc_derivation_reproduces_committed_file(tmp_path: Path) -> None:
    out = tmp_path / "ipcc_2006.csv"
    _script("derive_ipcc").main(
        ["script", str(REPO / "scripts/sources/ipcc2006_combustion.csv"), str(out)]
    )
    assert out.read_bytes() == (DATA / "ipcc_2006.csv").read_bytes()


def test_ipcc_transcription_lists_a_table_for_every_number() -> None:
    with (REPO / "scripts/sources/ipcc2006_combustion.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert all(r["factor_tables"].startswith("T1.2;") for r in rows)


def test_parse_gases_reads_committed_gas_cells() -> None:
    with (DATA / "desnz_2023.csv").open(encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    assert set(parse_gases(first["gases"])) == {"CO2", "CH4", "N2O"}


def test_desnz_factors_recombine_to_the_flat_files_own_totals() -> None:
    source = SHARED / "desnz/ghg-conversion-factors-2023-flat-file-update.xlsx"
    _needs(source)
    import openpyxl

    workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    totals = {
        row[0]: row[9]
        for row in workbook["Factors by Category"].iter_rows(values_only=True)
        if isinstance(row[0], str) and row[0].endswith("_1")
    }
    workbook.close()
    off = []
    for f in _factors("desnz-2023"):
        ref = f.source_ref.split("ID ", 1)[1]  # "<base>_1..4" or "<base>_1"
        published = totals[ref.removesuffix("..4")]
        tolerance = 0.5 if f.activity.startswith("refrigerant.") else 1e-9 * abs(published)
        if "CO2e" not in f.gases and abs(co2e_kg(f.gases, "AR5") - published) > tolerance:
            off.append(f.ref)
        if "CO2e" in f.gases and f.gases["CO2e"] != published:
            off.append(f.ref)
    assert off == []
