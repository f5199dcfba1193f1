"""Split views caught by gossip (issue 12), on a live federation over loopback.

The dishonest operator runs two coordinator processes that share the log key and the history
up to a point, then diverge: suppliers on one see a log the suppliers on the other never see.
Each log on its own passes every receipt and consistency check. Trustee 1 serves the gossip
endpoint over TLS with its own self-signed certificate, published in the federation manifest
every trustee signs; agents post the heads of their receipts to it, trustees 2 and 3 exchange
heads with it, all of them trusting exactly that certificate. ``agent check-log`` then prints
the two heads that prove the fork, and every trustee refuses to decrypt the campaign on the
forked log. An impostor on the endpoint (with the operator's CA-issued certificate or any
other) and a plaintext client get nothing through.
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
from agent.gossip import CERT_FILE, GossipPeer, GossipServer, exchange, load_certificate, serve
from coordinator.config import load_config as load_coordinator_config
from coordinator.server import RunningServer, start
from coordinator.store import IndicatorShareRow
from fedcarbon import tls
from fedcarbon.federation.manifest import load_manifest
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
    certificate: bytes  # trustee 1's gossip certificate, as the manifest publishes it
    log_key: bytes
    honest_check: str  # `agent check-log` output before the fork

    @property
    def peer(self) -> GossipPeer:
        return GossipPeer(self.endpoint, self.certificate)


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
        fed.cli(
            "trustee",
            "gossip-certificate",
            "--host",
            "127.0.0.1",
            "--home",
            str(root / "trustee-1"),
        )
        certificate = load_certificate(root / "trustee-1")
        assert certificate is not None
        gossip = serve(engine, enrolled.log_public_key, "127.0.0.1:0", certificate)
        endpoint = f"127.0.0.1:{gossip.port}"
        # Published in the manifest: trustees 2 and 3 and the agents find it there.
        fed.gossip[0] = endpoint
        for key in (*BEFORE, "baltic", "alpine"):
            fed.add_agent(company(key))
        # One agent also lists it in agent.toml, with the certificate file beside it.
        alpine = Path(fed.agent_home("alpine"))
        shutil.copy(root / "trustee-1" / CERT_FILE, alpine / "trustee-1-gossip.pem")
        _set_in_agent_section(
            alpine,
            f'gossip = ["{endpoint}"]\n'
            f'gossip_certificates = {{"{endpoint}" = "trustee-1-gossip.pem"}}',
        )
        fed.open_campaign("split")
        for key in BEFORE:
            fed.submit(key, "split")
        honest = fed.cli("agent", "check-log", "--home", fed.agent_home("nordstahl"))
        other = _fork_coordinator(fed, root)
        _point_at(Path(fed.agent_home("alpine")), fed.address, f"127.0.0.1:{other.port}")
        fed.submit("baltic", "split")  # on the first coordinator's log only
        fed.submit("alpine", "split")  # on the second's only
        yield Split(
            fed, other, gossip, endpoint, certificate.certificate, enrolled.log_public_key, honest
        )
    finally:
        if gossip is not None:
            gossip.stop(0)
        if other is not None:
            other.stop(0)
        server.stop(0)


def test_check_log_passes_while_there_is_one_log(split: Split) -> None:
    assert "from 1 of 1 trustee endpoint(s) compared" in split.honest_check
    assert "FORK" not in split.honest_check


def test_the_manifest_publishes_the_endpoint_and_its_certificate(split: Split) -> None:
    manifest = load_manifest(split.fed.manifest_path)
    assert manifest.gossip_certificates() == {split.endpoint: split.certificate}


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
    with pytest.raises(AgentError, match="not signed by this log's key"):
        exchange(split.peer, split.log_key, [forged])


def test_the_gossip_endpoint_refuses_another_logs_key(split: Split) -> None:
    with pytest.raises(AgentError, match="heads of another log"):
        exchange(split.peer, bytes(32), [])


@pytest.mark.parametrize("certificate", ["the operator's CA", "self-signed"])
def test_an_impostor_endpoint_is_refused(split: Split, certificate: str, tmp_path: Path) -> None:
    """The operator answers in a trustee's place, with a certificate its CA issued for the
    host (or any other): the client trusts only the manifest's certificate, posts nothing."""
    if certificate == "self-signed":
        identity = tls.self_signed_server(["127.0.0.1"])
    else:
        tls_dir = split.fed.coordinator_home / "tls"
        identity = tls.Issued(
            (tls_dir / "server.pem").read_bytes(), (tls_dir / "server-key.pem").read_bytes()
        )
    assert tls.covers(identity.certificate, "127.0.0.1")
    engine = store.open_store(f"sqlite:///{tmp_path / 'impostor.sqlite'}")
    impostor = serve(engine, split.log_key, "127.0.0.1:0", identity)
    try:
        with split.fed.client() as client:
            head = client.tree_head()
        with pytest.raises(AgentError, match="did not present the certificate pinned for it"):
            exchange(
                GossipPeer(f"127.0.0.1:{impostor.port}", split.certificate), split.log_key, [head]
            )
        assert store.seen_heads(engine, split.log_key, sizes={head.tree_size}, latest=64) == []
    finally:
        impostor.stop(0)


def test_a_plaintext_client_cannot_talk_to_the_tls_endpoint(split: Split) -> None:
    """Over TLS the same call returns the heads; in plaintext it never reaches the service."""
    with split.fed.client() as client:
        head = client.tree_head()
    assert exchange(split.peer, split.log_key, [head])
    with pytest.raises(AgentError, match=f"gossip endpoint {split.endpoint}"):
        exchange(GossipPeer(split.endpoint), split.log_key, [head])


def _gossip_process(home: Path, *args: str) -> subprocess.Popen[str]:
    command = ["trustee", "gossip", "--listen", "127.0.0.1:0", "--home", str(home), *args]
    return subprocess.Popen(
        [sys.executable, "-m", "fedcarbon", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_trustee_gossip_command_needs_a_certificate(split: Split) -> None:
    home = split.fed.root / "trustee-2"
    refused = _gossip_process(home)
    _, error = refused.communicate(timeout=60)
    assert refused.returncode == 1 and "no gossip certificate" in error
    public = subprocess.run(
        [sys.executable, "-m", "fedcarbon", "trustee", "gossip", "--insecure",
         "--listen", "0.0.0.0:0", "--home", str(home)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert public.returncode == 1 and "only a loopback address" in public.stderr


def test_the_trustee_gossip_command_serves_the_heads_it_keeps(split: Split) -> None:
    """`fedcarbon trustee gossip` as its own process, as a trustee runs it, over TLS."""
    home = split.fed.root / "trustee-3"
    split.fed.cli("trustee", "gossip-certificate", "--host", "127.0.0.1", "--home", str(home))
    certificate = load_certificate(home)
    assert certificate is not None
    process = _gossip_process(home)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        port = int(line.split("listening on port ")[1].split()[0])
        assert tls.fingerprint(certificate.certificate) in line
        with split.fed.client() as client:
            head = client.tree_head()
        returned = exchange(
            GossipPeer(f"127.0.0.1:{port}", certificate.certificate), split.log_key, [head]
        )
        assert (head.tree_size, head.root_hash) in {(h.tree_size, h.root_hash) for h in returned}
    finally:
        process.terminate()
        _, error = process.communicate(timeout=10)
    # Trustee 3's entry in the pinned manifest has no certificate: it is told so.
    assert "publishes no gossip certificate for this trustee" in error
