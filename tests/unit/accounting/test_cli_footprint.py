"""`fedcarbon footprint compute`: tables, JSON, and bad rows reported with row numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedcarbon.accounting.cli import app

from .engine_samples import FACTORS_CSV

runner = CliRunner()

HEADER = (
    "record_id,period_start,period_end,site,activity,quantity,unit,region,instrument,data_quality"
)
GOOD = [
    "g1,2023-01-01,2023-12-31,Leeds,fuel.gas,1000,kWh,GB,,primary",
    "e1,2023-01-01,2023-12-31,Leeds,electricity.grid,2,MWh,GB,REGO,",
    "r1,2023-01-01,2023-12-31,Leeds,release.R-410A,1.5,kg,GB,,",
    "o1,2023-01-01,2023-12-31,Leeds,output.widget,100,piece,GB,,",
]


@pytest.fixture
def factors(tmp_path: Path) -> Path:
    path = tmp_path / "own-factors.csv"
    path.write_text(FACTORS_CSV, encoding="utf-8")
    return path


def _csv(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "activities.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_json_has_scope_totals_and_records(tmp_path: Path, factors: Path) -> None:
    result = runner.invoke(
        app, ["compute", str(_csv(tmp_path, GOOD)), "--factors", str(factors), "--json"]
    )
    data = json.loads(result.stdout)
    assert (data["scope2_market_kgco2e"], len(data["records"]), len(data["outputs"])) == (0.0, 3, 1)


def test_json_record_names_factor_and_source(tmp_path: Path, factors: Path) -> None:
    result = runner.invoke(
        app, ["compute", str(_csv(tmp_path, GOOD)), "--factors", str(factors), "--json"]
    )
    first = json.loads(result.stdout)["records"][0]
    assert (first["factor_ref"], first["factor"]["source_ref"], first["row"]) == (
        "own-factors@local:fuel.gas/GB",
        "r1",
        2,
    )


def test_gwp_option_selects_ar5(tmp_path: Path, factors: Path) -> None:
    args = ["compute", str(_csv(tmp_path, GOOD[:1])), "--factors", str(factors), "--json"]
    ar5 = json.loads(runner.invoke(app, [*args, "--gwp", "AR5"]).stdout)
    assert ar5["scope1_kgco2e"] == pytest.approx(1000 * (0.2 + 1e-05 * 28 + 1e-06 * 265))


def test_table_output_shows_scopes(tmp_path: Path, factors: Path) -> None:
    result = runner.invoke(app, ["compute", str(_csv(tmp_path, GOOD)), "--factors", str(factors)])
    assert result.exit_code == 0 and "Scope 2 (location-based)" in result.stdout


def test_bad_rows_are_all_reported_with_row_numbers(tmp_path: Path, factors: Path) -> None:
    lines = [
        GOOD[0],
        "b1,2023-01-01,2023-12-31,Leeds,fuel.gas,lots,kWh,GB,,",
        "b2,2023-13-01,2023-12-31,Leeds,fuel.gas,1,kWh,GB,,",
    ]
    result = runner.invoke(app, ["compute", str(_csv(tmp_path, lines)), "--factors", str(factors)])
    assert (result.exit_code, "row 3 (record 'b1')" in result.stderr, "row 4" in result.stderr) == (
        1,
        True,
        True,
    )


def test_bad_rows_produce_no_footprint(tmp_path: Path, factors: Path) -> None:
    lines = [GOOD[0], "b1,2023-01-01,2023-12-31,Leeds,fuel.gas,lots,kWh,GB,,"]
    result = runner.invoke(
        app, ["compute", str(_csv(tmp_path, lines)), "--factors", str(factors), "--json"]
    )
    assert result.stdout == ""


def test_unconvertible_unit_names_record_and_row(tmp_path: Path, factors: Path) -> None:
    lines = ["x9,2023-01-01,2023-12-31,Leeds,fuel.gas,5,L,GB,,"]
    result = runner.invoke(app, ["compute", str(_csv(tmp_path, lines)), "--factors", str(factors)])
    assert (result.exit_code, "record 'x9', row 2" in result.stderr) == (1, True)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compute", str(tmp_path / "nope.csv")])
    assert (result.exit_code, "does not exist" in result.stderr) == (1, True)


def test_unknown_gwp_set_is_a_clear_error(tmp_path: Path, factors: Path) -> None:
    result = runner.invoke(app, ["compute", str(_csv(tmp_path, GOOD)), "--gwp", "SAR"])
    assert (result.exit_code, "AR6" in result.stderr) == (1, True)


def test_user_errors_print_no_traceback(tmp_path: Path, factors: Path) -> None:
    lines = ["x9,2023-01-01,2023-12-31,Leeds,fuel.unknown_thing,5,kg,GB,,"]
    result = runner.invoke(app, ["compute", str(_csv(tmp_path, lines)), "--factors", str(factors)])
    assert "Traceback" not in result.stderr + result.stdout


def test_builtin_factors_are_used_without_factors_option(tmp_path: Path) -> None:
    lines = ["g1,2023-01-01,2023-12-31,Leeds,fuel.natural_gas,1000,kWh,GB,,"]
    result = runner.invoke(app, ["compute", str(_csv(tmp_path, lines)), "--json"])
    assert json.loads(result.stdout)["scope1_kgco2e"] > 0


def test_help_explains_the_command() -> None:
    result = runner.invoke(app, ["compute", "--help"])
    assert "market-based" in result.stdout
