"""Broken homes end in one clear line, exit 1, no traceback, and nothing stored changes.

An ``agent.toml`` or ``coordinator.toml`` of random bytes, a store that is random bytes or
cut short, a full disk (a 1 MiB tmpfs, when this runs as root), and a PostgreSQL database
that does not exist or cannot be reached at ``coordinator init``.
"""

import hashlib
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from agent import store
from agent.config import write_config
from fedcarbon.cli import app
from tests.conftest import POSTGRES_URL, require_service

RUNNER = CliRunner()


def _one_line_error(*args: str) -> str:
    """Run the CLI; it must fail with exit 1 and exactly one line saying why."""
    result = RUNNER.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _agent_home(home: Path, *, role: str = "supplier", rows: int = 50) -> Path:
    """An enrolled-looking agent (or trustee) home whose store holds ``rows`` receipts."""
    write_config(home, organisation="Faulty GmbH", coordinator="127.0.0.1:1", role=role)
    engine = store.open_store(f"sqlite:///{home / 'agent.sqlite'}")
    with Session(engine) as session:
        session.add(
            store.Enrolment(
                participant_id="faulty-1",
                coordinator="127.0.0.1:1",
                role=role,
                log_id="log",
                log_public_key=bytes(32),
                enrolled_unix_ms=1,
            )
        )
        for index in range(rows):
            session.add(
                store.SubmissionRecord(
                    campaign_id=f"campaign-{index}",
                    submission_id=secrets.token_hex(32),
                    leaf_index=index,
                    receipt_json=json.dumps({"padding": "x" * 400}),
                    values_json="{}",
                    submitted_unix_ms=index,
                )
            )
        session.commit()
    engine.dispose()
    return home


def test_agent_toml_of_random_bytes_is_one_line(tmp_path: Path) -> None:
    home = _agent_home(tmp_path / "agent")
    (home / "agent.toml").write_bytes(secrets.token_bytes(300) + b"\xff")
    line = _one_line_error("agent", "receipts", "--home", str(home))
    assert f"{home / 'agent.toml'}: not a text file" in line


@pytest.mark.parametrize("damage", ["random bytes", "truncated"])
def test_corrupt_agent_store_is_one_line_and_left_untouched(tmp_path: Path, damage: str) -> None:
    home = _agent_home(tmp_path / "agent")
    db = home / "agent.sqlite"
    if damage == "random bytes":
        db.write_bytes(secrets.token_bytes(8192))
    else:
        os.truncate(db, db.stat().st_size // 3)
    before = _digest(db)
    line = _one_line_error("agent", "receipts", "--home", str(home))
    assert str(db) in line and "restore it from a backup" in line
    assert _digest(db) == before


def test_corrupt_trustee_home_is_one_line(tmp_path: Path) -> None:
    home = _agent_home(tmp_path / "trustee", role="trustee")
    db = home / "agent.sqlite"
    db.write_bytes(secrets.token_bytes(4096))
    before = _digest(db)
    assert str(db) in _one_line_error("trustee", "run", "--once", "--home", str(home))
    assert _digest(db) == before
    (home / "agent.toml").write_bytes(b"\x80\x81" + secrets.token_bytes(64))
    assert "not a text file" in _one_line_error("trustee", "run", "--once", "--home", str(home))


def test_corrupt_coordinator_home_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "coordinator"
    RUNNER.invoke(app, ["coordinator", "init", "--home", str(home)], catch_exceptions=False)
    db = home / "coordinator.sqlite"
    db.write_bytes(secrets.token_bytes(4096))
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    before = _digest(db)
    for command in (("status",), ("token", "issue", "--role", "supplier"), ("serve",)):
        line = _one_line_error("coordinator", *command, "--home", str(home))
        assert f"{db} is not a database file" in line
    assert _digest(db) == before
    (home / "coordinator.toml").write_bytes(b"\xfe" + secrets.token_bytes(100))
    line = _one_line_error("coordinator", "status", "--home", str(home))
    assert f"{home / 'coordinator.toml'}: not a text file" in line


def test_coordinator_init_with_unreachable_database_leaves_no_home(tmp_path: Path) -> None:
    home = tmp_path / "coordinator"
    url = "postgresql+psycopg://postgres@127.0.0.1:1/fedcarbon"
    line = _one_line_error("coordinator", "init", "--home", str(home), "--database-url", url)
    assert 'cannot reach PostgreSQL for database "fedcarbon" on 127.0.0.1:1' in line
    assert not home.exists()


@pytest.mark.services
def test_coordinator_init_with_missing_database_says_what_to_create(tmp_path: Path) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"fedcarbon_missing_{secrets.token_hex(4)}"
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    home = tmp_path / "new-home"
    line = _one_line_error("coordinator", "init", "--home", str(home), "--database-url", url)
    assert f"createdb -h 127.0.0.1 -p 5432 -U postgres {name}" in line
    assert not home.exists()
    existing = tmp_path / "existing-home"
    existing.mkdir()
    (existing / "coordinator.toml").write_text("# the operator's own\n")
    _one_line_error("coordinator", "init", "--home", str(existing), "--database-url", url)
    assert sorted(p.name for p in existing.iterdir()) == ["coordinator.toml"]
    assert (existing / "coordinator.toml").read_text() == "# the operator's own\n"


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (needs root and mount(8)); filled up by the test when it is ready."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a 1 MiB tmpfs to fill up needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> None:
    with (disk / "filler").open("wb", buffering=0) as filler:
        for chunk in (65536, 4096, 512, 1):
            try:
                while True:
                    filler.write(bytes(chunk))
            except OSError:
                pass


def test_full_disk_is_one_line_and_the_store_is_unchanged(full_disk: Path) -> None:
    home = _agent_home(full_disk / "agent", rows=20)
    _fill(full_disk)
    db = home / "agent.sqlite"
    before = _digest(db)
    line = _one_line_error(
        "agent", "mappings", "confirm", "steel plate", "331110", "--home", str(home)
    )
    assert str(db) in line and "full" in line
    assert _digest(db) == before
    fresh = full_disk / "fresh"
    line = _one_line_error(
        "agent", "init", "--home", str(fresh), "--organisation", "X", "--coordinator", "h:1"
    )
    assert "no space left on device" in line
    assert not fresh.exists()
