"""``fedcarbon agent footprint`` / ``agent pact export`` compute from the configured adapters."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.pact_schema import errors_only, validate
from fedcarbon.accounting.records import ActivityRecord
from tests.unit.adapters.samples import ERP_ROWS, write_erp_csv

runner = CliRunner()

AGENT_TOML = """
[agent]
organisation = "Acme Castings"
coordinator = "127.0.0.1:1"
gwp = "AR6"

[[adapters]]
name = "csv"
label = "sap-export"
path = "movements.csv"
delimiter = ";"
mapping_file = "sap-mapping.toml"

[[adapters]]
name = "csv"
label = "production"
path = "production.csv"
"""

MAPPING_TOML = """
[mapping]
columns = { record_id = "{Werk}-{Beleg}", site = "Werk", activity = "Material", quantity = "Menge", unit = "ME", period_start = "Datum", period_end = "Datum" }
defaults = { region = "DE" }
units = { KWH = "kWh", MWH = "MWh", L = "L" }
activities = { STROM = "electricity.grid", GAS = "fuel.natural_gas", DIESEL = "fuel.diesel" }
convert = { "fuel.natural_gas" = "kWh" }
date_format = "%d.%m.%Y"
decimal_comma = true
"""  # noqa: E501

PRODUCTION_CSV = """record_id,period_start,period_end,site,activity,quantity,unit,region
out-1,2024-01-01,2024-12-31,P1,output.casting,2000,kg,DE
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    write_erp_csv(tmp_path / "movements.csv", ERP_ROWS[:3])  # the three good rows
    (tmp_path / "agent.toml").write_text(AGENT_TOML)
    (tmp_path / "sap-mapping.toml").write_text(MAPPING_TOML)
    (tmp_path / "production.csv").write_text(PRODUCTION_CSV)
    return tmp_path


def _expected_total() -> float:
    def rec(rid: str, day: date, activity: str, quantity: float, unit: str) -> ActivityRecord:
        return ActivityRecord(
            rid, day, day, "P1" if rid != "P2" else "P2", activity, quantity, unit, "DE"
        )

    records = [
        rec("a", date(2024, 1, 15), "electricity.grid", 1234.5, "kWh"),
        rec("b", date(2024, 1, 16), "fuel.natural_gas", 1500.0, "kWh"),
        rec("c", date(2024, 2, 3), "fuel.diesel", 200.0, "L"),
    ]
    return compute_footprint(records).total_kgco2e


def test_footprint_is_computed_from_the_configured_adapters(home: Path) -> None:
    result = runner.invoke(app, ["footprint", "--home", str(home), "-p", "2024", "--json"])
    document = json.loads(result.stdout)
    assert (result.exit_code, document["records_read"]) == (0, 4)
    assert document["total_kgco2e"] == pytest.approx(_expected_total(), rel=1e-12)


def test_footprint_tables_name_the_organisation(home: Path) -> None:
    result = runner.invoke(app, ["footprint", "--home", str(home), "-p", "2024"])
    assert (result.exit_code, "Acme Castings" in result.stdout) == (0, True)


def test_rejected_rows_stop_the_footprint_unless_partial_is_allowed(home: Path) -> None:
    write_erp_csv(home / "movements.csv")  # with its three bad rows
    refused = runner.invoke(app, ["footprint", "--home", str(home), "-p", "2024"])
    args = ["footprint", "--home", str(home), "-p", "2024", "--allow-partial", "--json"]
    allowed = runner.invoke(app, args)
    assert (refused.exit_code, "--allow-partial" in refused.stderr) == (1, True)
    assert allowed.exit_code == 0 and json.loads(allowed.stdout)["rows_rejected"] == 3


def test_footprint_names_a_record_no_factor_prices(home: Path) -> None:
    (home / "production.csv").write_text(PRODUCTION_CSV.replace(",DE\n", ",UK\n"))
    result = runner.invoke(app, ["footprint", "--home", str(home), "-p", "2024"])
    assert (result.exit_code, "out-1" in result.stderr, "GB" in result.stderr) == (1, True, True)


def test_pact_export_writes_valid_files_from_the_adapters(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "pcfs"
    args = ["pact", "export", "--home", str(home), "-p", "2024", "--out", str(out)]
    result = runner.invoke(app, [*args, "--company-id", "urn:pact:acme.example:acme"])
    document = json.loads((out / "casting.json").read_text())
    assert (result.exit_code, errors_only(validate(document))) == (0, [])
    per_kg = float(document["pcf"]["pcfExcludingBiogenicUptake"])
    assert per_kg == pytest.approx(_expected_total() / 2000, rel=1e-6)
    assert document["companyName"] == "Acme Castings"


def test_pact_export_refuses_a_company_id_that_is_not_a_urn(home: Path) -> None:
    args = ["pact", "export", "--home", str(home), "-p", "2024", "--company-id", "acme"]
    result = runner.invoke(app, args)
    assert (result.exit_code, "not a URN" in result.stderr) == (1, True)


def test_footprint_carries_the_homes_inventory_description(home: Path) -> None:
    (home / "inventory.toml").write_text(
        '[organisation]\nname = "Acme"\nconsolidation = "financial-control"\n'
        'boundary = "The Werk P1 and P2 sites"\n'
    )
    result = runner.invoke(app, ["footprint", "--home", str(home), "-p", "2024", "--json"])
    document = json.loads(result.stdout)
    assert document["inventory"]["consolidation"] == "financial-control"
    assert document["inventory_check"]["warnings"]  # no Scope 3 register: 15 unscreened


def test_a_malformed_inventory_is_refused_by_key(home: Path) -> None:
    (home / "inventory.toml").write_text('[organisation]\nname = "Acme"\n')
    result = runner.invoke(app, ["footprint", "--home", str(home), "-p", "2024"])
    assert (result.exit_code, "organisation.consolidation" in result.stderr) == (1, True)
