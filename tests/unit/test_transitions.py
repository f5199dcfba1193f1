"""coordinator/transitions.py: a state change is reported once, after its commit, or never."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

from coordinator import transitions
from coordinator.transitions import Transition
from fedcarbon.campaign import CampaignState

OPEN, AGGREGATED, FAILED = CampaignState.OPEN, CampaignState.AGGREGATED, CampaignState.FAILED


@pytest.fixture
def engine() -> Iterator[Engine]:
    made = create_engine("sqlite://")
    yield made
    made.dispose()


def _watched(engine: Engine) -> list[list[Transition]]:
    heard: list[list[Transition]] = []
    transitions.watch(engine, heard.append)
    return heard


def _change(session: Session, campaign_id: str, old: CampaignState, new: CampaignState) -> None:
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]  # begin a transaction
    transitions.record(session, campaign_id, old, new)


def test_a_committed_change_is_reported_once(engine: Engine) -> None:
    heard = _watched(engine)
    with Session(engine) as session:
        _change(session, "c", OPEN, AGGREGATED)
        session.commit()
        session.commit()  # nothing new: nothing reported
    assert heard == [[Transition("c", OPEN, AGGREGATED)]]


def test_a_rolled_back_or_abandoned_change_is_never_reported(engine: Engine) -> None:
    heard = _watched(engine)
    with Session(engine) as session:
        _change(session, "rolled-back", OPEN, AGGREGATED)
        session.rollback()
        session.commit()
    with Session(engine) as session:
        _change(session, "abandoned", OPEN, AGGREGATED)
    assert heard == []


def test_changes_in_one_transaction_are_reported_from_first_to_last_state(engine: Engine) -> None:
    heard = _watched(engine)
    with Session(engine) as session:
        _change(session, "c", OPEN, AGGREGATED)
        _change(session, "c", AGGREGATED, FAILED)
        _change(session, "d", OPEN, AGGREGATED)
        session.commit()
    assert heard == [[Transition("c", OPEN, FAILED), Transition("d", OPEN, AGGREGATED)]]


def test_only_the_engines_own_watchers_hear_it(engine: Engine) -> None:
    other = create_engine("sqlite://")
    heard, elsewhere = _watched(engine), _watched(other)
    unwatch = transitions.watch(engine, lambda _: (_ for _ in ()).throw(RuntimeError("boom")))
    with Session(engine) as session:
        _change(session, "c", OPEN, AGGREGATED)
        session.commit()  # a failing watcher neither raises here nor silences the others
    unwatch()
    assert (len(heard), elsewhere) == (1, [])
    other.dispose()
