"""Boundary, base year and Scope 3 screening register, carried into outputs (issue 15)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fedcarbon.accounting.cli import app as footprint_app
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.errors import InventoryError
from fedcarbon.accounting.factors import FactorCatalog
from fedcarbon.accounting.inventory import check_inventory, parse_inventory, read_inventory
from fedcarbon.accounting.pact import Company, dump_footprint, export_products
from fedcarbon.accounting.records import ActivityRecord

runner = CliRunner()

INVENTORY_TOML = """
[organisation]
name = "Acme Castings Ltd"
consolidation = "operational-control"
boundary = "Both UK foundries; the 30 % joint venture in Poland is outside."

[base_year]
year = 2019
kgco2e = 1000000.0
threshold_percent = 5.0
policy = "Recalculate for acquisitions, divestments and method changes"

[[base_year.changes]]
date = 2023-04-01
description = "Acquired the Sheffield machining site"
kgco2e = 60000.0

[[scope3]]
category = 1
status = "included"

[[scope3]]
category = 4
status = "excluded"
reason = "inbound haulage not yet tracked"
estimated_kgco2e = 500.0

[[scope3]]
category = 11
status = "not-relevant"
reason = "castings use no energy"
"""


def _document(**changes: Any) -> dict[str, Any]:
    import tomllib

    document = tomllib.loads(INVENTORY_TOML)
    document.update(changes)
    return document


def _rec(record_id: str, activity: str, quantity: float, unit: str, **extra: Any) -> ActivityRecord:
    day = date(2024, 1, 1), date(2024, 12, 31)
    return ActivityRecord(record_id, *day, "plant", activity, quantity, unit, "GB", **extra)


RECORDS = [
    _rec("gas", "fuel.natural_gas", 100000.0, "kWh"),
    _rec("wtt", "wtt.fuel.natural_gas", 100000.0, "kWh"),
    _rec("made", "output.casting", 1000.0, "kg"),
]


def test_base_year_recalculation_is_due_past_the_threshold() -> None:
    base = parse_inventory(_document()).base_year
    assert base is not None
    assert (base.recalculation_due, base.recalculated_kgco2e) == (True, 1060000.0)


def test_small_changes_do_not_trigger_recalculation() -> None:
    document = _document()
    document["base_year"]["changes"][0]["kgco2e"] = 10000.0
    base = parse_inventory(document).base_year
    assert base is not None and not base.recalculation_due


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("organisation.consolidation", "ownership", "organisation.consolidation"),
        ("base_year.threshold_percent", -1, "base_year.threshold_percent"),
        ("base_year.year", "2019", "base_year.year"),
    ],
)
def test_bad_inventory_names_the_key(path: str, value: Any, where: str) -> None:
    document = _document()
    table, key = path.split(".")
    document[table][key] = value
    with pytest.raises(InventoryError, match=where):
        parse_inventory(document)


def test_exclusion_needs_a_reason() -> None:
    document = _document()
    del document["scope3"][1]["reason"]
    with pytest.raises(InventoryError, match=r"scope3\[1\]\.reason"):
        parse_inventory(document)


def test_register_contradicting_the_footprint_is_an_error() -> None:
    inventory = parse_inventory(_document())
    footprint = compute_footprint([_rec("h", "freight.hgv.all.average", 10.0, "tkm")])
    assert any(
        "category 4 is marked excluded" in e for e in check_inventory(inventory, footprint).errors
    )


def test_unscreened_categories_are_listed() -> None:
    check = check_inventory(parse_inventory(_document()), compute_footprint(RECORDS))
    assert check.unscreened == (2, 3, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15)


def test_footprint_json_carries_the_inventory(tmp_path: Path) -> None:
    (tmp_path / "inventory.toml").write_text(INVENTORY_TOML)
    csv = tmp_path / "a.csv"
    csv.write_text(
        "record_id,period_start,period_end,site,activity,quantity,unit,region\n"
        "g,2024-01-01,2024-12-31,plant,fuel.natural_gas,1000,kWh,GB\n"
    )
    args = ["compute", str(csv), "--json", "--inventory", str(tmp_path / "inventory.toml")]
    document = json.loads(runner.invoke(footprint_app, args).stdout)
    assert document["inventory"]["consolidation"] == "operational-control"
    assert document["inventory"]["base_year"]["recalculation_due"] is True


def test_pact_export_carries_boundary_and_register_exclusions(tmp_path: Path) -> None:
    (tmp_path / "inventory.toml").write_text(INVENTORY_TOML)
    inventory = read_inventory(tmp_path / "inventory.toml")
    catalog = FactorCatalog.default()
    footprint = compute_footprint(RECORDS, catalog)
    owner = Company("Acme", ("urn:pact:acme.example:acme",), "acme.example")
    ((_, fp),) = export_products(footprint, RECORDS, catalog, owner, inventory=inventory)
    document = dump_footprint(fp)
    pool = footprint.total_kgco2e
    assert "operational control approach" in str(document["comment"])
    assert float(str(document["pcf"]["exemptedEmissionsPercent"])) == pytest.approx(
        round(100 * 500 / (pool + 500), 2)
    )
    assert "category 4 excluded" in str(document["pcf"]["exemptedEmissionsDescription"])
