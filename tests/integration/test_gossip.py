"""Split views caught by gossip (issue 12), on a live federation over loopback.

The dishonest operator runs two coordinator processes that share the log key and the history
up to a point, then diverge: suppliers on one see a log the suppliers on the other never see.
Each log on its own passes every receipt and consistency check. Trustee 1 serves the gossip
endpoint; agents post the heads of their receipts to it, trustees 2 and 3 exchange heads with
it. ``agent check-log`` then prints the two heads that prove the fork, and every trustee
refuses to decrypt the campaign on the forked log.
"""

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlmodel import Session, select

from agent import store
from agent.client import CoordinatorClient
from agent.config import load_config
from agent.errors import AgentError
from agent.gossip import GossipServer, exchange, serve
from coordinator.config import load_config as load_coordinator_config
from coordinator.server import RunningServer, start
from coordinator.store import IndicatorShareRow
from fedcarbon.transport import ClientCredentials, home_credentials
from tests.integration.conftest import Federation, company, init_coordinator

pytestmark = pytest.mark.slow
BEFORE = ("nordstahl", "castings")  # submitted while both views were one log


@dataclass
class Split:
    fed: Federation
    other: RunningServer  # the second coordinator: same log key, another history
    gossip: GossipServer
    endpoint: str
    honest_check: str  # `agent check-log` output before the fork


def _credentials(split: Split) -> ClientCredentials:
    return home_credentials(split.fed.trustee_home(0))


def _set_in_agent_section(home: Path, line: str) -> None:
    path = home / "agent.toml"
    path.write_text(path.read_text().replace("[agent]\n", f"[agent]\n{line}\n", 1))


def _point_at(home: Path, old: str, new: str) -> None:
    path = home / "agent.toml"
    path.write_text(path.read_text().replace(f'coordinator = "{old}"', f'coordinator = "{new}"'))


def _fork_coordinator(fed: Federation, root: Path) -> RunningServer:
    """A second coordinator process with the first one's log key and a copy of its database."""
    home = root / "coordinator-2"
    home.mkdir()
    shutil.copy(fed.coordinator_home / "log-key.pem", home / "log-key.pem")
    source = sqlite3.connect(fed.coordinator_home / "coordinator.sqlite")
    target = sqlite3.connect(home / "coordinator.sqlite")
    source.backup(target)
    source.close()
    target.close()
    # The same operator: the same TLS files (CA, server certificate) and configuration.
    shutil.copytree(fed.coordinator_home / "tls", home / "tls")
    shutil.copy(fed.coordinator_home / "coordinator.toml", home / "coordinator.toml")
    return start(load_coordinator_config(home), workers=4)


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Split]:
    root = tmp_path_factory.mktemp("split-view")
    server = start(init_coordinator(root / "coordinator"), workers=8)
    fed = Federation(root, server)
    other = gossip = None
    try:
        for index in range(3):
            fed.add_trustee(f"trustee-{index + 1}")
        trustee_1 = load_config(root / "trustee-1")
        engine = store.open_store(trustee_1.database_url)
        enrolled = store.enrolment(engine)
        assert enrolled is not None
        gossip = serve(engine, enrolled.log_public_key, "127.0.0.1:0")
        endpoint = f"127.0.0.1:{gossip.port}"
        for name in ("trustee-2", "trustee-3"):
            _set_in_agent_section(root / name, f'gossip = ["{endpoint}"]')
        for key in (*BEFORE, "baltic", "alpine"):
            fed.add_agent(company(key))
            _set_in_agent_section(Path(fed.agent_home(key)), f'gossip = ["{endpoint}"]')
        fed.open_campaign("split")
        for key in BEFORE:
            fed.submit(key, "split")
        honest = fed.cli("agent", "check-log", "--home", fed.agent_home("nordstahl"))
        other = _fork_coordinator(fed, root)
        _point_at(Path(fed.agent_home("alpine")), fed.address, f"127.0.0.1:{other.port}")
        fed.submit("baltic", "split")  # on the first coordinator's log only
        fed.submit("alpine", "split")  # on the second's only
        yield Split(fed, other, gossip, endpoint, honest)
    finally:
        if gossip is not None:
            gossip.stop(0)
        if other is not None:
            other.stop(0)
        server.stop(0)


def test_check_log_passes_while_there_is_one_log(split: Split) -> None:
    assert "gossip: " in split.honest_check and "FORK" not in split.honest_check


def test_the_two_views_each_verify_on_their_own(split: Split) -> None:
    with (
        split.fed.client() as first,
        CoordinatorClient(f"127.0.0.1:{split.other.port}", _credentials(split)) as second,
    ):
        a, b = first.tree_head(), second.tree_head()
    assert a.tree_size == b.tree_size == 3 and a.root_hash != b.root_hash


def test_check_log_on_the_first_view_prints_the_fork(split: Split) -> None:
    output = split.fed.cli(
        "agent", "check-log", "--home", split.fed.agent_home("nordstahl"), expect=1
    )
    assert "FORK: two signed heads of size 3 with different roots" in output
    with CoordinatorClient(f"127.0.0.1:{split.other.port}", _credentials(split)) as second:
        assert second.tree_head().root_hash.hex() in output  # the other view's head, as evidence


def test_check_log_on_the_second_view_prints_the_fork(split: Split) -> None:
    output = split.fed.cli("agent", "check-log", "--home", split.fed.agent_home("alpine"), expect=1)
    assert "FORK" in output and '"format": "fedcarbon.fork.v1"' in output


def test_trustees_refuse_to_decrypt_on_a_forked_log(split: Split) -> None:
    fed = split.fed
    fed.operator("campaign", "close", "split")
    fed.run_trustees()
    with Session(fed.server.engine) as session:
        rows = session.exec(
            select(IndicatorShareRow).where(IndicatorShareRow.campaign_id == "split")
        ).all()
    assert len(rows) >= 2 and all("split view of the log" in row.refusal for row in rows)
    result = fed.cli_json(
        "coordinator", "campaign", "result", "split", "--home", str(fed.coordinator_home)
    )
    assert result["state"] == "failed" and result["metrics"] == {}


def test_the_gossip_endpoint_refuses_heads_the_log_did_not_sign(split: Split) -> None:
    with split.fed.client() as client:
        head = client.tree_head()
    forged = replace(head, root_hash=bytes(32))
    enrolled = store.enrolment(
        store.open_store(load_config(split.fed.root / "trustee-1").database_url)
    )
    assert enrolled is not None
    with pytest.raises(AgentError, match="not signed by this log's key"):
        exchange(split.endpoint, enrolled.log_public_key, [forged])


def test_the_gossip_endpoint_refuses_another_logs_key(split: Split) -> None:
    with pytest.raises(AgentError, match="heads of another log"):
        exchange(split.endpoint, bytes(32), [])


def test_the_trustee_gossip_command_serves_the_heads_it_keeps(split: Split) -> None:
    """`fedcarbon trustee gossip` as its own process, as a trustee runs it."""
    home = split.fed.root / "trustee-3"
    command = ["trustee", "gossip", "--listen", "127.0.0.1:0", "--home", str(home)]
    process = subprocess.Popen(
        [sys.executable, "-m", "fedcarbon", *command],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        port = int(line.split("listening on port ")[1].split()[0])
        enrolled = store.enrolment(store.open_store(load_config(home).database_url))
        assert enrolled is not None
        with split.fed.client() as client:
            head = client.tree_head()
        returned = exchange(f"127.0.0.1:{port}", enrolled.log_public_key, [head])
        assert (head.tree_size, head.root_hash) in {(h.tree_size, h.root_hash) for h in returned}
    finally:
        process.terminate()
        process.wait(timeout=10)
