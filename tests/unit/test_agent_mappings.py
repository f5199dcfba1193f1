"""Confirmed mappings and their audit trail in the agent store; spend lines resolved in collect."""

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from agent import mappings, store
from agent.cli import app
from agent.collect import collect
from agent.config import load_config
from fedcarbon.accounting.records import ActivityRecord
from fedcarbon.matching.matcher import MATCHER_VERSION
from fedcarbon.matching.reference import load_reference

runner = CliRunner()

AGENT_TOML = """
[agent]
organisation = "Test GmbH"
coordinator = "127.0.0.1:1"

[[adapters]]
name = "csv"
path = "purchases.csv"
[adapters.mapping]
columns = { record_id = "PO", site = "Plant", quantity = "Amount", unit = "Currency", \
period_start = "Date", period_end = "Date", description = "Text" }
defaults = { activity = "spend.unmatched", region = "US" }
"""
PURCHASES = """PO,Plant,Amount,Currency,Date,Text
4500001,P1,1200,USD,2024-03-01,M8 hex bolts zinc plated 1000 pcs
4500002,P1,300,USD,2024-03-02,PAPER COPY LTR 8.5X11 WHITE 10RM/CS
4500003,P1,950,USD,2024-03-05,Laptop computers manufacturing
4500004,P1,80,USD,2024-03-06,XYZ-123 misc
"""


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return store.open_store(f"sqlite:///{tmp_path / 'agent.sqlite'}")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "agent.toml").write_text(AGENT_TOML)
    (tmp_path / "purchases.csv").write_text(PURCHASES)
    return tmp_path


def _line(record_id: str, text: str | None) -> ActivityRecord:
    return ActivityRecord(
        record_id=record_id,
        period_start=date(2024, 1, 1),
        period_end=date(2024, 1, 31),
        site="P1",
        activity="spend.unmatched",
        quantity=100.0,
        unit="USD",
        region="US",
        description=text,
    )


def test_a_confirmation_is_stored_with_who_and_when(engine: Engine) -> None:
    row = mappings.confirm(engine, " Widget  A ", "332722", by="alice", when_ms=1000)
    (stored,) = mappings.confirmed(engine)
    assert (stored.description, stored.naics6, stored.confirmed_by) == (
        "Widget A",
        "332722",
        "alice",
    )
    assert stored.confirmed_unix_ms == 1000
    assert not row.is_override


def test_a_code_without_an_epa_factor_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="'221112' is not a NAICS-6 code with an EPA"):
        mappings.confirm(engine, "electricity", "221112", by="alice")


def test_an_empty_description_or_confirmer_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="description is empty"):
        mappings.confirm(engine, "   ", "332722", by="alice")
    with pytest.raises(ValueError, match="who confirmed"):
        mappings.confirm(engine, "bolts", "332722", by=" ")
    with pytest.raises(ValueError, match=r"at most 1000\)"):
        mappings.confirm(engine, "x" * 1001, "332722", by="alice")


def test_a_second_confirmation_of_the_same_text_replaces_the_first(engine: Engine) -> None:
    mappings.confirm(engine, "gizmo", "332722", by="alice")
    mappings.confirm(engine, "GIZMO", "326199", by="bob", suggested="332722")
    (stored,) = mappings.confirmed(engine)
    assert (stored.naics6, stored.confirmed_by, stored.is_override) == ("326199", "bob", True)


def test_forget_deletes_a_mapping(engine: Engine) -> None:
    mappings.confirm(engine, "gizmo", "332722", by="alice")
    assert mappings.forget(engine, "Gizmo")
    assert not mappings.forget(engine, "Gizmo")
    assert mappings.confirmed(engine) == []


def test_resolve_uses_a_confirmed_code_and_audits_it(engine: Engine) -> None:
    mappings.confirm(engine, "gizmo deluxe", "326199", by="alice", suggested="332722", when_ms=5)
    result = mappings.resolve(engine, [_line("r1", "Gizmo Deluxe")], now_ms=99)
    assert [r.activity for r in result.records] == ["spend.naics.326199"]
    (use,) = mappings.uses(engine)
    reference = load_reference()
    assert (use.record_id, use.description, use.naics6) == ("r1", "Gizmo Deluxe", "326199")
    assert (use.decision, use.confirmed_by, use.confirmed_unix_ms) == ("override", "alice", 5)
    assert use.used_unix_ms == 99
    assert use.matcher_version == MATCHER_VERSION
    assert use.reference_sha256 == reference.reference_sha256
    assert use.factors_sha256 == reference.factors_sha256
    assert json.loads(use.candidates_json)[0]["naics6"] == "326199"


def test_resolve_auto_accepts_a_confident_match(engine: Engine) -> None:
    result = mappings.resolve(engine, [_line("r1", "Laptop computers manufacturing")])
    assert [r.activity for r in result.records] == ["spend.naics.334111"]
    assert [u.decision for u in result.auto_mapped()] == ["auto-accept"]
    assert result.used[0].confirmed_by == mappings.AUTO_MAPPED


def test_resolve_holds_back_unsure_and_textless_lines_as_rejected(engine: Engine) -> None:
    result = mappings.resolve(engine, [_line("r1", "XYZ-123 misc"), _line("r2", None)])
    assert result.records == []
    reasons = {r.record_id: r.reason for r in result.rejected}
    assert "no confirmed code" in reasons["r1"]
    assert "mappings review" in reasons["r1"]
    assert "no candidate" in reasons["r2"]
    assert mappings.uses(engine) == []


def test_a_near_duplicate_of_a_confirmed_line_is_mapped_as_such(engine: Engine) -> None:
    mappings.confirm(engine, "Frobnicator housing grey 120 pcs", "326199", by="alice")
    result = mappings.resolve(engine, [_line("r1", "FROBNICATOR HOUSING GREY 40 PCS")])
    assert [r.activity for r in result.records] == ["spend.naics.326199"]
    assert (result.used[0].decision, result.used[0].confirmed_by) == ("near-duplicate", "alice")


def test_records_with_codes_pass_through_untouched(engine: Engine) -> None:
    coded = replace(_line("r1", "whatever"), activity="fuel.diesel")
    assert mappings.resolve(engine, [coded]).records == [coded]


def test_collect_maps_csv_spend_lines_before_the_footprint(home: Path) -> None:
    config = load_config(home)
    engine = store.open_store(config.database_url)
    mappings.confirm(engine, "PAPER COPY LTR 8.5X11 WHITE 10RM/CS", "322121", by="alice")
    collection = collect(config, date(2024, 1, 1), date(2024, 12, 31))
    activities = {r.record_id: r.activity for r in collection.records}
    assert activities == {"4500002": "spend.naics.322121", "4500003": "spend.naics.334111"}
    assert {r.record_id for r in collection.rejected} == {"4500001", "4500004"}
    assert {u.record_id: u.decision for u in collection.mapped} == {
        "4500002": "confirmed",
        "4500003": "auto-accept",
    }


def test_review_json_lists_lines_without_a_confirmed_code(home: Path) -> None:
    result = runner.invoke(
        app,
        [
            "mappings",
            "review",
            "--from",
            "2024-01-01",
            "--to",
            "2024-12-31",
            "--home",
            str(home),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    pending = json.loads(result.stdout)["pending"]
    assert [p["record_id"] for p in pending] == ["4500001", "4500002", "4500004"]
    assert pending[0]["candidates"][0]["naics6"] == "332722"


def test_review_confirms_a_chosen_candidate_and_an_override(home: Path) -> None:
    result = runner.invoke(
        app,
        [
            "mappings",
            "review",
            "--from",
            "2024-01-01",
            "--to",
            "2024-12-31",
            "--home",
            str(home),
            "--by",
            "carol",
        ],
        input="1\n322230\ns\n",
    )
    assert result.exit_code == 0, result.output
    engine = store.open_store(load_config(home).database_url)
    stored = {
        m.description: (m.naics6, m.confirmed_by, m.is_override) for m in mappings.confirmed(engine)
    }
    assert stored["M8 hex bolts zinc plated 1000 pcs"] == ("332722", "carol", False)
    assert stored["PAPER COPY LTR 8.5X11 WHITE 10RM/CS"] == ("322230", "carol", True)
    assert len(stored) == 2


def test_review_refuses_a_period_ending_before_it_starts(home: Path) -> None:
    result = runner.invoke(
        app,
        ["mappings", "review", "--from", "2024-12-31", "--to", "2024-01-01", "--home", str(home)],
    )
    assert result.exit_code == 1
    assert "before --from" in result.stderr


def test_confirm_list_and_audit_commands(home: Path) -> None:
    result = runner.invoke(
        app, ["mappings", "confirm", "XYZ-123 misc", "339999", "--by", "dave", "--home", str(home)]
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(
        runner.invoke(app, ["mappings", "list", "--json", "--home", str(home)]).stdout
    )
    assert [(m["description"], m["naics6"], m["confirmed_by"]) for m in listed] == [
        ("XYZ-123 misc", "339999", "dave")
    ]
    collect(load_config(home), date(2024, 1, 1), date(2024, 12, 31))
    audit = runner.invoke(
        app, ["mappings", "audit", "--json", "--record", "4500004", "--home", str(home)]
    )
    (entry,) = json.loads(audit.stdout)
    assert entry["naics6"] == "339999"
    assert entry["auto_mapped"] is False
    assert entry["confirmed_by"] == "dave"
    assert len(entry["reference_sha256"]) == 64


def test_confirm_command_names_a_bad_code(home: Path) -> None:
    result = runner.invoke(
        app, ["mappings", "confirm", "bolts", "12345", "--by", "dave", "--home", str(home)]
    )
    assert result.exit_code == 1
    assert "'12345' is not a NAICS-6 code" in result.stderr


def test_agent_footprint_shows_which_spend_lines_were_auto_mapped(home: Path) -> None:
    """Issue 17: footprints show which lines were mapped, how, and from what evidence."""
    config = load_config(home)
    engine = store.open_store(config.database_url)
    mappings.confirm(engine, "PAPER COPY LTR 8.5X11 WHITE 10RM/CS", "322121", by="alice")
    result = runner.invoke(
        app,
        ["footprint", "-p", "2024", "--allow-partial", "--json", "--home", str(home)],
    )
    assert result.exit_code == 0, result.output
    mapped = {m["record_id"]: m for m in json.loads(result.stdout)["mapped_lines"]}
    assert mapped["4500003"]["auto_mapped"] is True and mapped["4500003"]["naics6"] == "334111"
    assert mapped["4500002"]["auto_mapped"] is False
    assert mapped["4500002"]["confirmed_by"] == "alice"
