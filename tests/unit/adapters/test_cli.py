"""``fedcarbon adapter list|show|check`` through typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fedcarbon.adapters.cli import app

runner = CliRunner()

AGENT_TOML = """
[[adapters]]
name = "csv"
path = "movements.csv"
delimiter = ";"
mapping_file = "sap-mapping.toml"
"""

MAPPING_TOML = """
[mapping]
columns = { record_id = "{Werk}-{Beleg}", site = "Werk", activity = "Material", quantity = "Menge", unit = "ME", period_start = "Datum", period_end = "Datum" }
defaults = { region = "DE" }
units = { KWH = "kWh", MWH = "MWh", L = "L" }
activities = { STROM = "electricity.grid", GAS = "fuel.natural_gas", DIESEL = "fuel.diesel" }
date_format = "%d.%m.%Y"
decimal_comma = true
"""  # noqa: E501


def _agent_dir(erp_csv: Path) -> Path:
    (erp_csv.parent / "agent.toml").write_text(AGENT_TOML)
    (erp_csv.parent / "sap-mapping.toml").write_text(MAPPING_TOML)
    return erp_csv.parent / "agent.toml"


def test_list_shows_builtins_as_json() -> None:
    result = runner.invoke(app, ["list", "--json"])
    assert {"csv", "xlsx"} <= {row["name"] for row in json.loads(result.output)}


def test_show_lists_option_keys() -> None:
    result = runner.invoke(app, ["show", "csv", "--json"])
    assert next(o["key"] for o in json.loads(result.output)["options"]) == "path"


def test_show_unknown_adapter_fails_with_message() -> None:
    result = runner.invoke(app, ["show", "nope"])
    assert (result.exit_code, "no adapter named 'nope'" in result.output) == (1, True)


def test_check_reports_records_and_rejections(erp_csv: Path) -> None:
    config = _agent_dir(erp_csv)
    result = runner.invoke(app, ["check", "csv", "-c", str(config), "-p", "2024", "--json"])
    report = json.loads(result.output)
    assert (report["records"], len(report["rejected"]), report["ignored"]) == (3, 3, 1)


def test_check_runs_conformance_rules(erp_csv: Path) -> None:
    config = _agent_dir(erp_csv)
    result = runner.invoke(app, ["check", "csv", "-c", str(config), "-p", "2024", "--json"])
    statuses = {f["id"]: f["status"] for f in json.loads(result.output)["conformance"]}
    assert statuses == {i: "pass" for i in ("AC01", "AC02", "AC03", "AC04", "AC07", "AC09")}


def test_check_human_output_names_rejected_rows(erp_csv: Path) -> None:
    config = _agent_dir(erp_csv)
    result = runner.invoke(app, ["check", "csv", "-c", str(config), "-p", "2024"])
    assert "movements.csv:5" in result.output


def test_check_missing_source_exits_1(tmp_path: Path) -> None:
    (tmp_path / "agent.toml").write_text('[[adapters]]\nname = "csv"\npath = "absent.csv"\n')
    result = runner.invoke(app, ["check", "csv", "-c", str(tmp_path / "agent.toml"), "-p", "2024"])
    assert (result.exit_code, "absent.csv" in result.output) == (1, True)


def test_check_bad_option_names_key(tmp_path: Path) -> None:
    (tmp_path / "agent.toml").write_text('[[adapters]]\nname = "csv"\npaht = "a.csv"\n')
    result = runner.invoke(app, ["check", "csv", "-c", str(tmp_path / "agent.toml"), "-p", "2024"])
    assert "'paht' is not a known option" in result.output


def test_check_bad_period_fails(erp_csv: Path) -> None:
    config = _agent_dir(erp_csv)
    result = runner.invoke(app, ["check", "csv", "-c", str(config), "-p", "last year"])
    assert (result.exit_code, "is not YYYY" in result.output) == (1, True)


def test_check_picks_the_table_by_index(erp_csv: Path) -> None:
    config = erp_csv.parent / "agent.toml"
    config.write_text(
        '[[adapters]]\nname = "csv"\nlabel = "empty"\npath = "none.csv"\n'
        + AGENT_TOML.replace('name = "csv"', 'name = "csv"\nlabel = "erp"')
    )
    (erp_csv.parent / "sap-mapping.toml").write_text(MAPPING_TOML)
    args = ["check", "csv", "-c", str(config), "-p", "2024", "--index", "1", "--json"]
    assert json.loads(runner.invoke(app, args).output)["records"] == 3


def test_check_with_two_tables_and_no_index_fails(erp_csv: Path) -> None:
    config = erp_csv.parent / "agent.toml"
    config.write_text(AGENT_TOML * 2)
    result = runner.invoke(app, ["check", "csv", "-c", str(config), "-p", "2024"])
    assert "pick one with --index" in result.output


def test_check_prices_every_record_with_the_agents_factors(erp_csv: Path) -> None:
    config = _agent_dir(erp_csv)
    result = runner.invoke(app, ["check", "csv", "-c", str(config), "-p", "2024", "--json"])
    accounting = json.loads(result.output)["accounting"]
    assert (result.exit_code, accounting["ok"], accounting["total_kgco2e"] > 0) == (0, True, True)


def test_check_fails_on_records_no_factor_prices(erp_csv: Path) -> None:
    config = _agent_dir(erp_csv)
    mapping = erp_csv.parent / "sap-mapping.toml"
    mapping.write_text(mapping.read_text().replace('region = "DE"', 'region = "UK"'))
    result = runner.invoke(app, ["check", "csv", "-c", str(config), "-p", "2024", "--json"])
    errors = json.loads(result.output)["accounting"]["errors"]
    assert (result.exit_code, len(errors), "GB" in errors[0]["error"]) == (1, 3, True)


def test_check_names_the_fallback_factor_a_unit_cannot_reach(erp_csv: Path) -> None:
    config = _agent_dir(erp_csv)
    mapping = erp_csv.parent / "sap-mapping.toml"
    text = mapping.read_text().replace('DIESEL = "fuel.diesel"', 'DIESEL = "fuel.peat"')
    mapping.write_text(text)
    result = runner.invoke(app, ["check", "csv", "-c", str(config), "-p", "2024"])
    assert (result.exit_code, "ipcc-2006@2006:fuel.peat" in result.output) == (1, True)


def test_check_accounting_can_be_skipped(erp_csv: Path) -> None:
    config = _agent_dir(erp_csv)
    mapping = erp_csv.parent / "sap-mapping.toml"
    mapping.write_text(mapping.read_text().replace('region = "DE"', 'region = "UK"'))
    args = ["check", "csv", "-c", str(config), "-p", "2024", "--no-accounting"]
    assert runner.invoke(app, args).exit_code == 0
