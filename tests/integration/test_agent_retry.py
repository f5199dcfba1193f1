"""The agent waits for a coordinator that starts late, retries UNAVAILABLE with backoff, and
gives up after --timeout with one clear line."""

import random
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.client import MAX_BACKOFF_S, CoordinatorClient, backoff
from agent.identity import load_or_create_identity
from coordinator import enrolment, store
from coordinator.config import CoordinatorConfig, write_config
from coordinator.server import RunningServer, start
from coordinator.telemetry import REQUESTS
from fedcarbon.cli import app
from fedcarbon.transport import ClientCredentials

RUNNER = CliRunner()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(*args: str) -> tuple[int, str]:
    result = RUNNER.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_backoff_grows_exponentially_with_full_jitter() -> None:
    rng = random.Random(7)
    for attempt in range(12):
        ceiling = min(MAX_BACKOFF_S, 0.25 * 2**attempt)
        pauses = [backoff(attempt, rng) for _ in range(50)]
        assert all(0 <= p <= ceiling for p in pauses)
        assert max(pauses) > ceiling / 2  # jitter spreads over the whole range


def test_enrol_waits_for_a_coordinator_that_starts_late(tmp_path: Path) -> None:
    port = _free_port()
    config = CoordinatorConfig(
        home=tmp_path / "coordinator", listen=f"127.0.0.1:{port}", insecure=True
    )
    config.home.mkdir()
    write_config(config)
    code, out = _cli(
        "coordinator", "token", "issue", "--role", "supplier", "--home", str(config.home), "--json"
    )
    assert code == 0, out
    token = out.split('"tokens": [')[1].split('"')[1]
    agent_home = tmp_path / "agent"
    code, out = _cli(
        "agent", "init", "--home", str(agent_home), "--organisation", "Late GmbH",
        "--coordinator", f"127.0.0.1:{port}", "--insecure",
    )  # fmt: skip
    assert code == 0, out
    started: list[RunningServer] = []
    later = threading.Timer(1.5, lambda: started.append(start(config, workers=4)))
    later.start()
    try:
        code, out = _cli(
            "agent", "--timeout", "30", "enrol", "--token", token, "--home", str(agent_home)
        )
    finally:
        later.join()
        for server in started:
            server.stop(0)
    assert code == 0, out
    assert out.startswith("enrolled as p-"), out


def test_unavailable_is_retried_until_the_database_is_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    config = CoordinatorConfig(home=tmp_path / "coordinator", listen="127.0.0.1:0", insecure=True)
    config.home.mkdir()
    write_config(config)
    server = start(config, workers=4)
    refused = REQUESTS.labels("Enrol", "UNAVAILABLE")
    try:
        token = enrolment.issue_tokens(server.engine, "supplier")[0]
        holder = sqlite3.connect(
            config.home / "coordinator.sqlite", isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN EXCLUSIVE")
        threading.Timer(1.5, lambda: holder.execute("ROLLBACK")).start()
        before = refused._value.get()
        with CoordinatorClient(
            f"127.0.0.1:{server.port}", ClientCredentials.anonymous_insecure(), timeout=20
        ) as client:
            result = client.enrol(
                token=token,
                organisation="Patient AG",
                identity=load_or_create_identity(tmp_path / "id.pem"),
            )
        assert result.participant_id.startswith("p-")
        assert refused._value.get() > before  # it was refused at least once, then retried
    finally:
        server.stop(0)


def test_a_coordinator_that_never_comes_is_one_line_after_the_timeout(tmp_path: Path) -> None:
    port = _free_port()
    home = tmp_path / "agent"
    code, out = _cli(
        "agent", "init", "--home", str(home), "--organisation", "Alone",
        "--coordinator", f"127.0.0.1:{port}", "--insecure",
    )  # fmt: skip
    assert code == 0, out
    began = time.monotonic()
    code, out = _cli("agent", "--timeout", "1.5", "enrol", "--token", "t", "--home", str(home))
    elapsed = time.monotonic() - began
    assert code == 1
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and "is unreachable: no answer within 1.5 s" in lines[0], out
    assert 1.4 < elapsed < 10
