"""``fedcarbon factors match``: per line, ranked candidates as a table or the issue's JSON shape."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fedcarbon.accounting.factors_cli import app

runner = CliRunner()


def _lines(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lines.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_json_has_the_issue_shape_in_input_order(tmp_path: Path) -> None:
    path = _lines(tmp_path, "Text,qty\nM8 hex bolts zinc plated,3\nlaptop computer 14in,1\n")
    result = runner.invoke(app, ["match", str(path), "--column", "Text", "--top", "3", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["matches"]
    first, second = document["matches"]
    assert (first["row"], first["description"]) == (1, "M8 hex bolts zinc plated")
    assert second["row"] == 2
    assert set(first) == {"row", "description", "candidates"}
    assert len(first["candidates"]) == 3
    assert set(first["candidates"][0]) == {"naics6", "title", "score", "reason"}
    assert first["candidates"][0]["naics6"] == "332722"
    assert second["candidates"][0]["naics6"] == "334111"


def test_the_table_shows_the_decision(tmp_path: Path) -> None:
    path = _lines(tmp_path, "description\nM8 hex bolts zinc plated\n")
    result = runner.invoke(app, ["match", str(path)])
    assert result.exit_code == 0, result.output
    assert "332722" in result.stdout
    assert "review" in result.stdout or "auto-accept" in result.stdout


def test_a_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    path = _lines(tmp_path, "Text\nbolts\n")
    result = runner.invoke(app, ["match", str(path)])
    assert result.exit_code == 1
    assert "no column 'description'" in result.stderr


def test_an_empty_cell_names_the_row(tmp_path: Path) -> None:
    path = _lines(tmp_path, 'description\nbolts\n""\n')
    result = runner.invoke(app, ["match", str(path), "--json"])
    assert result.exit_code == 1
    assert "row 3" in result.stderr
    assert result.stdout == ""


def test_top_out_of_range_is_refused(tmp_path: Path) -> None:
    path = _lines(tmp_path, "description\nbolts\n")
    result = runner.invoke(app, ["match", str(path), "--top", "0"])
    assert result.exit_code == 2
