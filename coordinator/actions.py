"""The operator action log: who did what to the federation, one JSON line per action.

Lines are appended to ``HOME/actions.log`` (``O_APPEND``, one ``write`` per line, so the CLI
and a running server can share the file) by every operator command that changes something
(``init``, ``token issue``, ``campaign create``, ``campaign close``, ``manifest install``,
``migrate``) and for every campaign state change (opened, aggregated, released, failed),
whether the operator's CLI or the server made it. The server also sends them to its stderr
JSON log (logger ``fedcarbon.coordinator.actions``).

Who: the OS user and uid, host, process id and coordinator home; for a state change a
trustee's share triggered, that trustee's participant id. What: the action, campaign id,
role, counts, states. Never a figure, a token or a key (privacy model point 6).
"""

import logging
import os
import pwd
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from coordinator import transitions
from coordinator.config import CONFIG_FILE
from coordinator.errors import CoordinatorError
from coordinator.telemetry import JsonFormatter
from fedcarbon.campaign import CampaignState

ACTIONS_FILE = "actions.log"
log = logging.getLogger("fedcarbon.coordinator.actions")

_FORMAT = JsonFormatter()
_participant: ContextVar[str] = ContextVar("fedcarbon_acting_participant", default="")

# The event a state change is logged as, by the state it reaches.
EVENTS = {
    CampaignState.OPEN: "campaign.opened",
    CampaignState.AGGREGATED: "campaign.aggregated",
    CampaignState.RELEASED: "campaign.released",
    CampaignState.FAILED: "campaign.failed",
}


def _os_user() -> str:
    """The effective user's name from the password database (not $USER, which anyone sets)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # e.g. a container running under an arbitrary uid
        return str(os.geteuid())


def who(home: Path) -> dict[str, Any]:
    """The fields that say who acted: OS user, uid, host, process and coordinator home.

    Under ``sudo -u fedcarbon`` (how operators reach a home only the service user can
    read), ``sudo_user`` names the person: sudo sets it, though any caller could fake it.
    """
    fields: dict[str, Any] = {
        "user": _os_user(),
        "uid": os.geteuid(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "home": str(home.resolve()),
    }
    if os.environ.get("SUDO_USER"):
        fields["sudo_user"] = os.environ["SUDO_USER"]
    return fields


def _open(home: Path) -> int:
    path = home / ACTIONS_FILE
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    except OSError as error:
        raise CoordinatorError(
            f"{path}: cannot append to the operator action log ({error.strerror}); nothing done"
        ) from None


def _write(fd: int, message: str, fields: dict[str, Any]) -> None:
    """One JSON line into the open log, and the same record to the logger (stderr when
    ``serve`` configured logging; silent in one-shot CLI commands)."""
    record = log.makeRecord(log.name, logging.INFO, __file__, 0, message, (), None, extra=fields)
    os.write(fd, (_FORMAT.format(record) + "\n").encode())
    if log.isEnabledFor(logging.INFO):
        log.handle(record)


@contextmanager
def operator_action(home: Path, action: str, **fields: Any) -> Iterator[dict[str, Any]]:
    """Log one operator command when it ends, with ``outcome`` ok or failed.

    Yields a dict the command fills with what it did (ids, counts, states). The log is opened
    first: a home whose log cannot be written refuses the command before it does anything.
    Outside a coordinator home (no ``coordinator.toml``) nothing is logged: the command
    fails on its own for that reason.
    """
    if not (home / CONFIG_FILE).exists():
        yield {}
        return
    fd = _open(home)
    done: dict[str, Any] = {}
    outcome = "ok"
    try:
        yield done
    except BaseException as error:
        # typer.Exit(0) is a normal end; anything else (fail(), an exception) did not succeed.
        if getattr(error, "exit_code", getattr(error, "code", 1)) not in (0, None):
            outcome = "failed"
        raise
    finally:
        try:
            _write(
                fd,
                "operator action",
                {"action": action, **fields, **done, "outcome": outcome, **who(home)},
            )
        finally:
            os.close(fd)


@contextmanager
def acting_for(participant_id: str) -> Iterator[None]:
    """State changes committed inside this block were triggered by ``participant_id``."""
    token = _participant.set(participant_id)
    try:
        yield
    finally:
        _participant.reset(token)


def follow(engine: Engine, home: Path, source: str) -> Callable[[], None]:
    """Log every campaign state change committed through ``engine``; returns `stop`.

    ``source`` says which program made it: ``server`` or ``cli``.
    """

    def on_commit(changes: list[transitions.Transition]) -> None:
        try:
            fd = _open(home)
        except CoordinatorError as error:  # committed already: say so loudly, do not undo
            log.error("state change not logged", extra={"why": str(error)})
            return
        try:
            for change in changes:
                fields: dict[str, Any] = {
                    "action": EVENTS[change.new],
                    "campaign": change.campaign_id,
                    "from_state": change.old.value if change.old else None,
                    "to_state": change.new.value,
                    "source": source,
                    **who(home),
                }
                if _participant.get():
                    fields["participant"] = _participant.get()
                _write(fd, "campaign state changed", fields)
        finally:
            os.close(fd)

    return transitions.watch(engine, on_commit)
