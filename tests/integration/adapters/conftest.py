"""Real peers for the adapter integration tests: PostgreSQL and Mosquitto on 127.0.0.1.

A test that needs a service skips with the reason when it is not running, unless
``FEDCARBON_REQUIRE_SERVICES=1`` (then it fails, so CI cannot pass by skipping).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_URL = os.environ.get(
    "FEDCARBON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MQTT_HOST = "127.0.0.1"
MQTT_PORT = 1883


def need_service(name: str, host: str, port: int) -> None:
    """Skip (or fail under FEDCARBON_REQUIRE_SERVICES=1) when nothing listens on host:port."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = f"{name} is not reachable on {host}:{port} ({exc.strerror or exc})"
    if os.environ.get("FEDCARBON_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " and FEDCARBON_REQUIRE_SERVICES=1")
    pytest.skip(message)


def closed_port() -> int:
    """A local TCP port with nothing listening (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def postgres_table() -> Iterator[str]:
    """A uniquely named table in the test database, dropped afterwards."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    import sqlalchemy as sa

    name = f"fc_adapter_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES_URL, poolclass=sa.NullPool)
    try:
        yield name
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
        engine.dispose()


@pytest.fixture
def mqtt_prefix() -> str:
    """A unique topic prefix, so parallel or repeated runs never see each other's messages."""
    need_service("Mosquitto", MQTT_HOST, MQTT_PORT)
    return f"fedcarbon-test/{uuid.uuid4().hex[:12]}"
