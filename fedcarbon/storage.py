"""What a failing database means to a person: which database, what went wrong, what to do.

SQLAlchemy reports a locked SQLite file, a full disk, a corrupt file or an unreachable
PostgreSQL as driver exceptions with a long traceback. :func:`watch` hooks an engine's
``handle_error`` event (which also sees connection attempts) and raises a
:class:`~fedcarbon.errors.StoreError` instead, naming the database. Constraint violations
(``IntegrityError``) and programming errors pass through unchanged: the stores rely on them.
"""

import sqlite3

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, ExceptionContext
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, ProgrammingError

from fedcarbon.errors import StoreDamagedError, StoreError, StoreUnavailableError

# SQLite result texts (https://www.sqlite.org/rescode.html) and what a person should do.
_SQLITE_TRANSIENT = {
    "database is locked": "locked by another process past its timeout; retry later",
    "database table is locked": "locked by another process past its timeout; retry later",
    "database or disk is full": "the disk is full; free some space and run the command again",
    "disk i/o error": "could not be written (disk I/O error); check that the disk is not "
    "full and is healthy, then run the command again",
    "unable to open database file": "cannot be opened; check that its directory exists and "
    "is writable",
    "attempt to write a readonly database": "is read-only; check the file's permissions",
}
_SQLITE_DAMAGED = {
    "file is not a database": "is not a database file",
    "database disk image is malformed": "is corrupt (database disk image is malformed)",
}
_DAMAGED_ADVICE = "restore it from a backup, or move it away to start afresh"


def describe(url: URL) -> str:
    """The database as a person knows it: the SQLite file, or PostgreSQL's db on host:port."""
    if url.get_backend_name() == "sqlite":
        return str(url.database or ":memory:")
    return f'database "{url.database}" on {url.host or "localhost"}:{url.port or 5432}'


def createdb_command(url: URL) -> str:
    """The command that creates a missing PostgreSQL database (PostgreSQL's createdb)."""
    user = f" -U {url.username}" if url.username else ""
    return f"createdb -h {url.host or 'localhost'} -p {url.port or 5432}{user} {url.database}"


def translate(error: BaseException, url: URL) -> StoreError | None:
    """The StoreError a driver exception stands for, or None to let it pass unchanged."""
    if isinstance(error, (IntegrityError, ProgrammingError)):
        return None
    original = getattr(error, "orig", error)
    if isinstance(original, (sqlite3.IntegrityError, sqlite3.ProgrammingError)):
        return None
    text = str(original).strip()
    lowered = text.lower()
    where = describe(url)
    if url.get_backend_name() == "sqlite":
        for needle, advice in _SQLITE_DAMAGED.items():
            if needle in lowered:
                return StoreDamagedError(f"{where} {advice}; {_DAMAGED_ADVICE}")
        for needle, advice in _SQLITE_TRANSIENT.items():
            if needle in lowered:
                return StoreUnavailableError(f"{where}: {advice}")
        return None  # e.g. "no such table": a bug to see in full, not an outage
    if not isinstance(error, (OperationalError, InterfaceError)):
        return None
    first = text.splitlines()[0] if text else type(original).__name__
    if "does not exist" in lowered and f'"{url.database}"' in text:
        return StoreUnavailableError(
            f"{where} does not exist; create it first: {createdb_command(url)}"
        )
    if "connection refused" in lowered or "could not connect" in lowered:
        return StoreUnavailableError(
            f"cannot reach PostgreSQL for {where} (connection refused); is it running?"
        )
    return StoreUnavailableError(f"{where} is unavailable: {first}")


def watch(engine: Engine) -> Engine:
    """Make ``engine`` raise StoreError (naming its database) instead of driver errors."""

    def _on_error(context: ExceptionContext) -> None:
        # A failed pre-ping is how the pool finds a stale connection and opens a new one:
        # leave it to the pool (only the reconnect's own failure is an outage).
        if context.is_pre_ping or isinstance(context.original_exception, StoreError):
            return
        replacement = translate(
            context.sqlalchemy_exception or context.original_exception, engine.url
        )
        if replacement is not None:
            raise replacement from context.original_exception

    event.listen(engine, "handle_error", _on_error)
    return engine
