"""A database that cannot answer makes the coordinator answer UNAVAILABLE, never INTERNAL.

UNAVAILABLE tells a client (agent/client.py) to retry; the request's transaction rolled back,
so nothing is stored and the same request succeeds once the database is back.
"""

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import psycopg
import pytest
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from agent.identity import load_or_create_identity
from coordinator import enrolment, store
from coordinator.auth import DATABASE_UNAVAILABLE
from coordinator.config import CoordinatorConfig, write_config
from coordinator.server import RunningServer, start
from fedcarbon.audit import signing
from fedcarbon.submission import ENROL_CONTEXT, enrolment_message
from fedcarbon.v1 import coordinator_pb2, coordinator_pb2_grpc
from tests.conftest import POSTGRES_URL, require_service


@contextmanager
def _coordinator(root: Path, database_url: str = "") -> Iterator[RunningServer]:
    home = root / "coordinator"
    home.mkdir(exist_ok=True)
    config = CoordinatorConfig(
        home=home, listen="127.0.0.1:0", database_url=database_url, insecure=True
    )
    write_config(config)
    server = start(config, workers=4)
    try:
        yield server
    finally:
        server.stop(0)


def _enrol_request(root: Path, token: str) -> coordinator_pb2.EnrolRequest:
    identity = load_or_create_identity(root / f"id-{secrets.token_hex(4)}.pem")
    message = enrolment_message(token, "Outage Test GmbH", b"", "", "", "", "")
    return coordinator_pb2.EnrolRequest(
        token=token,
        organisation="Outage Test GmbH",
        identity_public_key=signing.public_key_bytes(identity),
        signature=signing.sign(identity, message, context=ENROL_CONTEXT),
    )


_TERMINATE = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"


def _unknown_token(stub: coordinator_pb2_grpc.ParticipantsStub, root: Path) -> None:
    """An Enrol that reads the database and is refused: proof the database answers."""
    with pytest.raises(grpc.RpcError) as refused:
        stub.Enrol(_enrol_request(root, "fct_unknown"), timeout=10)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED, refused.value.details()


def _participants(server: RunningServer) -> int:
    with Session(server.engine) as session:
        return int(session.exec(select(func.count()).select_from(store.Participant)).one())


def test_sqlite_lock_held_past_timeout_answers_unavailable_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "SQLITE_BUSY_TIMEOUT_S", 0.3)
    with _coordinator(tmp_path) as server:
        token = enrolment.issue_tokens(server.engine, "supplier")[0]
        request = _enrol_request(tmp_path, token)
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            enrol = coordinator_pb2_grpc.ParticipantsStub(channel).Enrol
            holder = sqlite3.connect(tmp_path / "coordinator" / "coordinator.sqlite")
            holder.isolation_level = None
            holder.execute("BEGIN EXCLUSIVE")
            try:
                with pytest.raises(grpc.RpcError) as refused:
                    enrol(request, timeout=10)
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
            assert refused.value.details() == DATABASE_UNAVAILABLE
            assert _participants(server) == 0
            # The token was not used up: the same request succeeds once the lock is gone.
            assert enrol(request, timeout=10).participant_id


@pytest.mark.services
def test_postgres_made_unreachable_answers_unavailable_then_recovers(tmp_path: Path) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"fedcarbon_outage_{secrets.token_hex(4)}"
    admin = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        with _coordinator(tmp_path, url) as server:
            token = enrolment.issue_tokens(server.engine, "supplier")[0]
            request = _enrol_request(tmp_path, token)
            with (
                grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel,
                psycopg.connect(admin, autocommit=True) as conn,
            ):
                stub = coordinator_pb2_grpc.ParticipantsStub(channel)
                _unknown_token(stub, tmp_path)
                # Pooled connections cut while the database stays up (a restart, a proxy):
                # the pre-ping reconnects and the caller notices nothing.
                conn.execute(_TERMINATE, (name,))
                _unknown_token(stub, tmp_path)
                conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                conn.execute(_TERMINATE, (name,))
                for call in (
                    lambda: stub.Enrol(request, timeout=10),
                    lambda: stub.Enrol(_enrol_request(tmp_path, "fct_unknown"), timeout=10),
                ):
                    with pytest.raises(grpc.RpcError) as refused:
                        call()
                    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
                    assert refused.value.details() == DATABASE_UNAVAILABLE
                conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
                assert stub.Enrol(request, timeout=10).participant_id
                assert _participants(server) == 1
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
