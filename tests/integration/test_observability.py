"""What an operator watches: the action log (HOME/actions.log) and the Prometheus endpoint.

One campaign runs through a coordinator serving /metrics on a real loopback HTTP port; the
operator commands run through the real CLI. At each stage the endpoint is scraped and the
action log parsed. Three trustees send their value openings at the same moment, so that
calls which find the campaign already released race the one that released it: the finished
counter and the log must still count that release once (issue 13).
"""

import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from agent import store
from agent.config import load_config
from agent.demo_data import records_for
from agent.errors import CoordinatorUnavailable
from agent.identity import load_or_create_identity
from agent.trustee import KeyRing, answer
from coordinator.actions import ACTIONS_FILE
from coordinator.server import start
from coordinator.telemetry import database_health
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.decryption import DecryptionShare
from tests.integration.conftest import Federation, company, init_coordinator

pytestmark = pytest.mark.slow

MEMBERS = ("nordstahl", "castings", "alpine")
CAMPAIGN = "observed"
STATES = ("open", "aggregated", "released", "failed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the real /metrics endpoint, keyed by name and sorted labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _by_state(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {state: samples[("fedcarbon_campaigns", (("state", state),))] for state in STATES}


def _finished(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], state: str) -> float:
    return samples.get(("fedcarbon_campaigns_finished_total", (("state", state),)), 0.0)


def _lines(home: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (home / ACTIONS_FILE).read_text().splitlines()]


@dataclass
class Observed:
    fed: Federation
    metrics_port: int
    scrapes: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = field(
        default_factory=dict
    )
    tokens: list[str] = field(default_factory=list)
    share_answers: list[str] = field(default_factory=list)  # state or refusal, per racing share
    late_answer: str = ""

    @property
    def log(self) -> list[dict[str, Any]]:
        return _lines(self.fed.coordinator_home)


def _value_share(fed: Federation, index: int) -> tuple[DecryptionShare, Any]:
    """Trustee ``index``'s signed-off value openings, built as `trustee run` builds them."""
    home = fed.trustee_home(index)
    config = load_config(home)
    identity = load_or_create_identity(config.identity_key_path)
    manifest = store.pinned_manifest(store.open_store(config.database_url))
    with fed.client(home) as client:
        bundle = client.get_aggregate(CAMPAIGN)
    verdict = fed.verdict(index, bundle, manifest)
    share = answer(bundle, KeyRing(home), fed.trustees[index], verdict, "values")
    assert not share.refusal, share.refusal
    return share, identity


def _send(fed: Federation, index: int, share: DecryptionShare, identity: Any) -> str:
    """Trustee ``index`` sends its share over its own mutual-TLS connection."""
    try:
        with fed.client(fed.trustee_home(index)) as client:
            return client.submit_share(share, identity).value
    except CoordinatorUnavailable as error:
        return f"refused: {error}"


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    root = tmp_path_factory.mktemp("observed")
    home = root / "coordinator"
    port = _free_port()
    server = start(replace(init_coordinator(home), metrics_port=port), workers=8)
    fed = Federation(root, server)
    seen = Observed(fed, port)
    try:
        seen.scrapes["start"] = _scrape(port)
        for index in range(3):
            fed.add_trustee(f"trustee-{index + 1}")
        for key in MEMBERS:
            fed.add_agent(company(key))
        seen.tokens = fed.cli_json(
            "coordinator", "token", "issue", "--role", "supplier", "--count", "2",
            "--label", "spare", "--home", str(home),
        )["tokens"]  # fmt: skip
        fed.open_campaign(CAMPAIGN)
        seen.scrapes["open"] = _scrape(port)
        for key in MEMBERS:
            fed.submit(key, CAMPAIGN)
        fed.operator("campaign", "close", CAMPAIGN)
        seen.scrapes["aggregated"] = _scrape(port)
        for index in range(3):  # each trustee opens its share of the non-zero indicators
            fed.cli("trustee", "run", "--once", "--home", str(fed.trustee_home(index)))
        shares = [_value_share(fed, index) for index in range(3)]
        barrier = threading.Barrier(len(shares))

        def race(index: int) -> str:
            barrier.wait()
            return _send(fed, index, *shares[index])

        with ThreadPoolExecutor(len(shares)) as pool:
            seen.share_answers = list(pool.map(race, range(len(shares))))
        seen.late_answer = _send(fed, 0, *shares[0])  # the same share again, after the release
        seen.scrapes["released"] = _scrape(port)
        yield seen
    finally:
        server.stop(0)


def test_build_info_names_the_versions(observed: Observed) -> None:
    samples = observed.scrapes["start"]
    (labels,) = [dict(k[1]) for k in samples if k[0] == "fedcarbon_build_info"]
    assert labels["version"] not in ("", "unknown")
    assert labels["python"] == ".".join(map(str, sys.version_info[:3]))
    assert labels["grpc"] == grpc.__version__
    assert samples[("fedcarbon_build_info", tuple(sorted(labels.items())))] == 1


def test_campaigns_by_state_follow_the_campaign(observed: Observed) -> None:
    zero = dict.fromkeys(STATES, 0.0)
    assert _by_state(observed.scrapes["start"]) == zero
    assert _by_state(observed.scrapes["open"]) == zero | {"open": 1.0}
    assert _by_state(observed.scrapes["aggregated"]) == zero | {"aggregated": 1.0}
    assert _by_state(observed.scrapes["released"]) == zero | {"released": 1.0}


def test_racing_and_late_shares_count_the_release_once(observed: Observed) -> None:
    assert "released" in observed.share_answers  # the race did release
    assert observed.late_answer.startswith("refused:")
    before, after = observed.scrapes["aggregated"], observed.scrapes["released"]
    assert _finished(after, "released") - _finished(before, "released") == 1
    assert _finished(after, "failed") == _finished(before, "failed")


def test_every_state_change_is_logged_once_with_who_made_it(observed: Observed) -> None:
    changes = [line for line in observed.log if line["msg"] == "campaign state changed"]
    assert [(c["action"], c["from_state"], c["to_state"], c["source"]) for c in changes] == [
        ("campaign.opened", None, "open", "cli"),
        ("campaign.aggregated", "open", "aggregated", "cli"),
        ("campaign.released", "aggregated", "released", "server"),
    ]
    assert {c["campaign"] for c in changes} == {CAMPAIGN}
    assert changes[2]["participant"] in observed.fed.trustees  # the trustee whose share did it
    assert "participant" not in changes[0]


def test_operator_commands_are_logged_with_who_and_what(observed: Observed) -> None:
    actions = [line for line in observed.log if line["msg"] == "operator action"]
    assert [a["action"] for a in actions] == [
        *["token.issue"] * 3,  # the trustees' tokens
        "manifest.install",
        *["token.issue"] * 3,  # the suppliers'
        "token.issue",  # the two spare ones
        "campaign.create",
        "campaign.close",
    ]
    home = str(observed.fed.coordinator_home.resolve())
    for action in actions:
        assert action["outcome"] == "ok"
        assert (action["uid"], action["pid"], action["home"]) == (os.geteuid(), os.getpid(), home)
        assert action["user"]
    spare = actions[7]
    assert (spare["role"], spare["count"], spare["label"]) == ("supplier", 2, "spare")
    create, close = actions[8], actions[9]
    assert (create["campaign"], create["k"], create["threshold"], create["trustees"]) == (
        CAMPAIGN, 3, 2, 3,
    )  # fmt: skip
    assert create["metrics"] == ["participants", "scope1_kgco2e"]
    assert (close["campaign"], close["state"]) == (CAMPAIGN, "aggregated")


def test_the_action_log_holds_no_token_and_no_figure(observed: Observed) -> None:
    text = (observed.fed.coordinator_home / ACTIONS_FILE).read_text()
    for token in observed.tokens:
        assert token not in text
        assert token.removeprefix("fct_") not in text
    figures = [compute_footprint(records_for(company(key))).scope1_kgco2e for key in MEMBERS]
    fixed = [to_fixed(Decimal(repr(f)), 3) for f in figures]
    for needle in [*map(str, fixed), str(sum(fixed)), *(f"{f:.3f}" for f in figures)]:
        assert needle not in text, needle


def test_a_refused_operator_command_is_logged_as_failed(tmp_path: Path) -> None:
    home = tmp_path / "coordinator"
    init_coordinator(home)
    fed = Federation(tmp_path, server=None)  # type: ignore[arg-type]
    fed.operator("campaign", "close", "no-such-campaign", expect=1)
    (line,) = _lines(home)
    assert (line["action"], line["campaign"], line["outcome"]) == (
        "campaign.close", "no-such-campaign", "failed",
    )  # fmt: skip


def test_an_unwritable_action_log_refuses_the_command(tmp_path: Path) -> None:
    home = tmp_path / "coordinator"
    init_coordinator(home)
    (home / ACTIONS_FILE).mkdir()  # not a file: cannot be appended to
    fed = Federation(tmp_path, server=None)  # type: ignore[arg-type]
    output = fed.operator("token", "issue", "--role", "supplier", expect=1)
    assert "cannot append to the operator action log" in output
    assert "fct_" not in output  # no token was issued


def test_the_serve_log_line_names_the_metrics_port(tmp_path: Path) -> None:
    """A real `fedcarbon coordinator serve` process, metrics port from the environment."""
    home = tmp_path / "coordinator"
    init_coordinator(home)
    port = _free_port()
    env = {**os.environ, "FEDCARBON_COORDINATOR_METRICS_PORT": str(port)}
    env["FEDCARBON_COORDINATOR_HOME"] = str(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "fedcarbon", "coordinator", "serve"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        line = json.loads(process.stderr.readline())
        assert (line["msg"], line["metrics_port"]) == ("coordinator listening", port)
        assert ("fedcarbon_campaigns", (("state", "open"),)) in _scrape(port)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _healthz(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_healthz_answers_without_credentials(tmp_path: Path) -> None:
    """Health is the one thing an unauthenticated client learns (issue 13): on the metrics
    port, no certificate; 200 while serving, 503 when the database does not answer or the
    coordinator drains."""
    port = _free_port()
    server = start(replace(init_coordinator(tmp_path / "c"), metrics_port=port), workers=2)
    try:
        assert _healthz(port) == (200, "serving\n")
        assert (
            "fedcarbon_build_info"
            in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10)
            .read()
            .decode()
        )
        server.serving.clear()
        assert _healthz(port) == (503, "not serving (starting or shutting down)\n")
    finally:
        server.stop(0)


def test_healthz_says_when_the_database_is_down() -> None:
    """A database that does not answer makes the health check fail, naming why (no URL)."""
    serving = threading.Event()
    serving.set()
    gone = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    ok, why = database_health(gone, serving)()
    assert not ok and why.startswith("database unavailable (")
    assert "127.0.0.1" not in why
