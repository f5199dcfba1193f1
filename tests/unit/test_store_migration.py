"""Stores created before issue 12 keep working: new columns are added at open (and on demand).

The SQL fixtures are sqlite3 dumps of stores created by fedcarbon at commit 027d02f.
"""

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlmodel import Session

from agent import store as agent_store
from coordinator import store as coordinator_store

DATA = Path(__file__).parent / "data"


def _restore(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript((DATA / f"{name}-027d02f.sql").read_text())
    return path


def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_the_fixture_is_an_old_coordinator_store(tmp_path: Path) -> None:
    url = f"sqlite:///{_restore(tmp_path, 'coordinator')}"
    assert "legal_id" not in _columns(url, "participant")
    assert "weak_allowed" not in _columns(url, "campaignrow")


def test_an_old_coordinator_store_is_migrated_when_opened(tmp_path: Path) -> None:
    url = f"sqlite:///{_restore(tmp_path, 'coordinator')}"
    engine = coordinator_store.open_engine(url)
    with Session(engine) as session:
        participant = session.get(coordinator_store.Participant, "acme-12345678")
        campaign = session.get(coordinator_store.CampaignRow, "c1")
    assert participant is not None and participant.legal_id == ""
    assert participant.organisation == "Acme"
    assert campaign is not None and campaign.weak_allowed is False
    assert "attestationrow" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_explicit_coordinator_migration_reports_then_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{_restore(tmp_path, 'coordinator')}"
    engine = create_engine(url)
    assert coordinator_store.migrate(engine) == ["participant.legal_id", "campaignrow.weak_allowed"]
    assert coordinator_store.migrate(engine) == []
    engine.dispose()


def test_an_old_agent_store_is_migrated_when_opened(tmp_path: Path) -> None:
    url = f"sqlite:///{_restore(tmp_path, 'agent')}"
    assert "legal_id" not in _columns(url, "enrolment")
    engine = agent_store.open_store(url)
    enrolled = agent_store.enrolment(engine)
    assert enrolled is not None and enrolled.participant_id == "acme-12345678"
    assert enrolled.legal_id == ""
    assert agent_store.pinned_manifest(engine) is None
    assert agent_store.migrate(engine) == []
    engine.dispose()


def test_migration_retires_open_campaigns_with_dealt_keys(tmp_path: Path) -> None:
    """Upgrade path (issue 12): a 0.1 campaign whose key a dealer made is failed, not served."""
    from coordinator.campaigns import list_campaigns, retire_dealt_campaigns
    from fedcarbon.campaign import CampaignState
    from fedcarbon.v1 import campaign_pb2

    engine = coordinator_store.open_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    dealt = campaign_pb2.Campaign(
        campaign_id="dealt-2024",
        key=campaign_pb2.CampaignKey(scheme=campaign_pb2.KEY_SCHEME_THRESHOLD, threshold=2),
    )
    with Session(engine) as session:
        session.add(
            coordinator_store.CampaignRow(
                campaign_id="dealt-2024",
                definition=dealt.SerializeToString(),
                state="open",
                created_unix_ms=1,
            )
        )
        session.commit()
    assert list_campaigns(engine) == []  # not served, and the listing does not break
    assert retire_dealt_campaigns(engine) == ["dealt-2024"]
    assert retire_dealt_campaigns(engine) == []
    with Session(engine) as session:
        row = session.get(coordinator_store.CampaignRow, "dealt-2024")
        assert row is not None and row.state == CampaignState.FAILED.value
    engine.dispose()
