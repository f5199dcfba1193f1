"""fedcarbon/storage.py: driver errors become StoreErrors naming the database, except the
ones stores rely on (constraint violations) and bugs (unknown tables), which pass unchanged."""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from fedcarbon.errors import StoreDamagedError, StoreUnavailableError
from fedcarbon.storage import createdb_command, watch


def _engine(path: Path):  # type: ignore[no-untyped-def]
    return watch(create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1}))


def test_a_constraint_violation_passes_unchanged(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "s.sqlite")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))


def test_an_unknown_table_is_a_bug_not_an_outage(tmp_path: Path) -> None:
    with pytest.raises(OperationalError), _engine(tmp_path / "s.sqlite").connect() as connection:
        connection.execute(text("SELECT * FROM nowhere"))


def test_a_file_that_is_not_a_database_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    damaged = pytest.raises(StoreDamagedError, match=f"{path} is not a database file")
    with damaged, _engine(path).connect() as connection:
        connection.execute(text("SELECT 1 FROM sqlite_master"))


def test_a_lock_held_past_the_timeout_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    engine = _engine(path)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER)"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        locked = pytest.raises(StoreUnavailableError, match="locked by another process")
        with locked, engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_createdb_command_names_host_port_user_and_database() -> None:
    url = make_url("postgresql+psycopg://ops@db.example:6543/carbon")
    assert createdb_command(url) == "createdb -h db.example -p 6543 -U ops carbon"
