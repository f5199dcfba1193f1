"""Campaign state transitions, reported once each and only once they are committed.

Every state change goes through ``campaigns.set_state`` (a compare-and-set) or
``campaigns.create_campaign``; both note the change on their session here. When that session
commits, the watchers registered for its engine hear of it, once. A change that is rolled
back (a lost compare-and-set, an IntegrityError retry) is never reported. So counters and the
operator action log count state changes, not the calls that happen to observe a state
(issue 13: a late trustee share used to count a release twice).
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, SessionTransaction

from fedcarbon.campaign import CampaignState

log = logging.getLogger("fedcarbon.coordinator")

_PENDING = "fedcarbon.transitions"  # key in Session.info


@dataclass(frozen=True)
class Transition:
    """One campaign's state change within one committed transaction."""

    campaign_id: str
    old: CampaignState | None  # None: the campaign was created in this transaction
    new: CampaignState


Watcher = Callable[[list[Transition]], None]

_watchers: "WeakKeyDictionary[Engine, list[Watcher]]" = WeakKeyDictionary()
_lock = threading.Lock()


def record(
    session: Session, campaign_id: str, old: CampaignState | None, new: CampaignState
) -> None:
    """Note a state change made in ``session``; reported when (and if) the session commits."""
    session.info.setdefault(_PENDING, []).append(Transition(campaign_id, old, new))


def watch(engine: Engine, watcher: Watcher) -> Callable[[], None]:
    """Call ``watcher`` with the transitions of every commit on ``engine``; returns `unwatch`."""
    with _lock:
        _watchers.setdefault(engine, []).append(watcher)

    def unwatch() -> None:
        with _lock:
            listed = _watchers.get(engine, [])
            if watcher in listed:
                listed.remove(watcher)

    return unwatch


def net(changes: list[Transition]) -> list[Transition]:
    """One transition per campaign: its first old state to its last new state.

    A close that finds too few contributors goes open -> aggregated -> failed in one
    transaction; what happened, seen from outside, is open -> failed.
    """
    first: dict[str, Transition] = {}
    last: dict[str, Transition] = {}
    for change in changes:
        first.setdefault(change.campaign_id, change)
        last[change.campaign_id] = change
    return [Transition(cid, first[cid].old, last[cid].new) for cid in first]


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending or not isinstance(session.bind, Engine):
        return
    with _lock:
        watchers = list(_watchers.get(session.bind, []))
    changes = net(pending)
    for watcher in watchers:
        try:
            watcher(changes)
        except Exception:  # the change is committed; a watcher's fault must not undo the call
            log.exception("state change watcher failed")


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without a commit (rolled back, closed) changed nothing."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
