"""``fedcarbon cbam``: compute --json shape, exports, default, declaration, clear errors."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedcarbon.cbam.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).parents[3] / "examples" / "cbam" / "installation.toml"


def test_compute_json_gives_see_per_good() -> None:
    result = runner.invoke(app, ["compute", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    goods = json.loads(result.stdout)["goods"]
    assert [g["cn_code"] for g in goods] == ["2523100090", "25232900"]
    assert goods[1]["see_total"] == pytest.approx(goods[1]["see_direct"] + goods[1]["see_indirect"])
    assert {"name", "cn_code", "see_direct", "see_indirect", "see_total"} <= set(goods[0])


def test_compute_writes_template_and_communication(tmp_path: Path) -> None:
    args = ["compute", str(EXAMPLE), "--xlsx", str(tmp_path / "t.xlsx")]
    args += [
        "--template-json",
        str(tmp_path / "t.json"),
        "--communication",
        str(tmp_path / "c.json"),
    ]
    assert runner.invoke(app, args).exit_code == 0
    assert json.loads((tmp_path / "c.json").read_text())["installation"]["id"] == "TR-CEM-0001"
    assert (tmp_path / "t.xlsx").stat().st_size > 0
    assert "B_EmInst" in json.loads((tmp_path / "t.json").read_text())


def test_compute_error_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace("activity_level = 100000.0", "activity_level = 0.0"))
    result = runner.invoke(app, ["compute", str(bad)])
    assert result.exit_code == 1
    assert "processes[kiln].activity_level: must be greater than zero" in result.output


def test_default_command_shows_markup() -> None:
    result = runner.invoke(
        app, ["default", "25231000", "DZA", "--route", "B", "--json", "--year", "2028"]
    )
    doc = json.loads(result.stdout)
    assert (doc["markup_pct"], doc["direct_marked_up"]) == (30, pytest.approx(1.29 * 1.3))


def test_declaration_uses_received_communication(tmp_path: Path) -> None:
    runner.invoke(app, ["compute", str(EXAMPLE), "--communication", str(tmp_path / "c.json")])
    customs = tmp_path / "customs.csv"
    customs.write_text(
        "year,cn_code,country,installation,net_mass_t\n2026,25232900,TR,TR-CEM-0001,1000\n"
    )
    args = ["declaration", str(customs), "--received", str(tmp_path / "c.json"), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (year,) = json.loads(result.stdout)["years"]
    see = (981.75 + 82976.4 + 4250) / 120000 + 0.06
    assert year["embedded_t_co2e"] == pytest.approx(1000 * see)
    assert year["certificates_due"] == 796


def test_declaration_human_output_states_assumptions(tmp_path: Path) -> None:
    customs = tmp_path / "customs.csv"
    customs.write_text("year,cn_code,country,installation,net_mass_t\n2026,7601,SGP,,80\n")
    result = runner.invoke(app, ["declaration", str(customs)])
    assert result.exit_code == 0, result.output
    assert "assumption: no free-allocation adjustment assumed" in result.output


def test_declaration_reads_a_directory_of_communications(tmp_path: Path) -> None:
    received = tmp_path / "received"
    received.mkdir()
    runner.invoke(app, ["compute", str(EXAMPLE), "--communication", str(received / "c.json")])
    customs = tmp_path / "customs.csv"
    customs.write_text(
        "year,cn_code,country,installation,net_mass_t\n2026,25232900,TR,TR-CEM-0001,100\n"
    )
    result = runner.invoke(
        app, ["declaration", str(customs), "--received", str(received), "--json"]
    )
    (line,) = json.loads(result.stdout)["years"][0]["lines"]
    assert line["source"] == "communicated by TR-CEM-0001"
