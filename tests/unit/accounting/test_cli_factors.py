"""``fedcarbon factors``: list, show, search, datasets (factors_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fedcarbon.accounting.factors import FACTOR_COLUMNS
from fedcarbon.accounting.factors_cli import app

runner = CliRunner()


def _own_file(tmp_path: Path) -> Path:
    path = tmp_path / "supplier.csv"
    path.write_text(
        ",".join(FACTOR_COLUMNS) + "\nelectricity.grid,DE,kWh,2,electricity,CO2=0.05,,,,2024,"
        "Stadtwerke Beispiel supplier mix,contract 42,proprietary,green tariff\n",
        encoding="utf-8",
    )
    return path


def test_show_json_gives_every_gas_source_row_year_and_licence() -> None:
    result = runner.invoke(app, ["show", "fuel.natural_gas", "--region", "GB", "--json"])
    (factor,) = json.loads(result.stdout)
    assert (
        set(factor["gases_kg_per_unit"]),
        factor["source_ref"],
        factor["year"],
        factor["licence"],
    ) == ({"CO2", "CH4", "N2O"}, "Factors by Category!ID 1_100_1004_15_1..4", 2023, "OGL-3.0")


def test_show_with_region_reports_the_fallback_factor() -> None:
    result = runner.invoke(app, ["show", "electricity.grid", "--region", "AQ", "--json"])
    assert json.loads(result.stdout)[0]["region"] == "GLOBAL"


def test_show_with_unit_picks_a_factor_of_that_dimension() -> None:
    result = runner.invoke(
        app, ["show", "fuel.natural_gas", "--region", "GB", "--unit", "m3", "--json"]
    )
    assert json.loads(result.stdout)[0]["unit"] == "m**3"


def test_show_without_region_lists_every_region() -> None:
    result = runner.invoke(app, ["show", "electricity.grid", "--json"])
    assert len({f["region"] for f in json.loads(result.stdout)}) > 20


def test_show_table_names_source_and_licence() -> None:
    result = runner.invoke(app, ["show", "refrigerant.R-410A", "--region", "FR"])
    assert "OGL-3.0" in result.stdout and "HFC-32" in result.stdout


def test_show_unknown_activity_fails_with_message_and_exit_1() -> None:
    result = runner.invoke(app, ["show", "fuel.unobtainium", "--region", "DE"])
    assert (result.exit_code, "fuel.unobtainium" in result.stderr) == (1, True)


def test_show_unknown_activity_prints_no_traceback() -> None:
    result = runner.invoke(app, ["show", "fuel.unobtainium"])
    assert "Traceback" not in result.output and result.exception is not None


def test_list_filters_by_dataset() -> None:
    result = runner.invoke(app, ["list", "--dataset", "ember-grid", "--json"])
    assert {f["dataset"] for f in json.loads(result.stdout)} == {"ember-grid"}


def test_list_filters_by_prefix() -> None:
    result = runner.invoke(app, ["list", "--prefix", "travel.air.", "--json"])
    rows = json.loads(result.stdout)
    assert rows and all(r["activity"].startswith("travel.air.") for r in rows)


def test_list_unknown_dataset_fails_naming_it() -> None:
    result = runner.invoke(app, ["list", "--dataset", "nope"])
    assert (result.exit_code, "'nope'" in result.stderr) == (1, True)


def test_list_table_shows_count() -> None:
    result = runner.invoke(app, ["list", "--prefix", "water."])
    assert "2 emission factors" in result.stdout


def test_search_takes_several_words() -> None:
    result = runner.invoke(app, ["search", "iron", "steel", "--json"])
    activities = {f["activity"] for f in json.loads(result.stdout)}
    assert "spend.naics.331110" in activities


def test_search_without_match_says_so() -> None:
    result = runner.invoke(app, ["search", "zzzzqqq"])
    assert (result.exit_code, "no factor matches" in result.stdout) == (0, True)


def test_datasets_json_lists_licence_and_attribution() -> None:
    result = runner.invoke(app, ["datasets", "--json"])
    by_id = {d["id"]: d for d in json.loads(result.stdout)}
    assert (
        by_id["ember-grid"]["licence"] == "CC-BY-SA-4.0"
        and "Ember" in (by_id["ember-grid"]["attribution"])
    )


def test_datasets_table_prints_attributions() -> None:
    result = runner.invoke(app, ["datasets"])
    assert "Open Government Licence" in result.stdout


def test_own_factor_file_wins_in_show(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "show",
            "electricity.grid",
            "--region",
            "DE",
            "--json",
            "--factors",
            str(_own_file(tmp_path)),
        ],
    )
    assert json.loads(result.stdout)[0]["source"] == "Stadtwerke Beispiel supplier mix"


def test_own_factor_file_appears_in_datasets(tmp_path: Path) -> None:
    result = runner.invoke(app, ["datasets", "--json", "--factors", str(_own_file(tmp_path))])
    assert "supplier" in {d["id"] for d in json.loads(result.stdout)}


def test_bad_own_factor_file_fails_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("activity\nfuel.x\n", encoding="utf-8")
    result = runner.invoke(app, ["list", "--factors", str(bad)])
    assert (result.exit_code, "bad.csv" in result.stderr) == (1, True)


def test_help_explains_activity_codes() -> None:
    result = runner.invoke(app, ["--help"])
    assert "fuel.natural_gas" in result.stdout


def test_gwp_json_lists_every_set_for_every_gas() -> None:
    result = runner.invoke(app, ["gwp", "--json"])
    by_gas = {r["gas"]: r for r in json.loads(result.stdout)}
    assert by_gas["N2O"]["gwp100"] == {"AR6": 273, "AR5": 265, "AR4": 298}


def test_gwp_json_gives_blend_components() -> None:
    result = runner.invoke(app, ["gwp", "--json"])
    by_gas = {r["gas"]: r for r in json.loads(result.stdout)}
    assert by_gas["R-410A"]["components"] == {"HFC-32": 0.5, "HFC-125": 0.5}


def test_gwp_table_names_its_sources() -> None:
    result = runner.invoke(app, ["gwp"])
    assert "Table 8.A.1" in result.stdout and "HFC-134a" in result.stdout
