"""A real federation for integration tests: a coordinator serving gRPC over mutual TLS on a
loopback port (its CA and certificates made by `coordinator init`), trustees and agents
enrolled with invites and driven through the public CLI (in process, via typer's CliRunner)."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from typer.testing import CliRunner

from agent import store
from agent.client import AggregateBundle, CoordinatorClient
from agent.config import load_config as load_agent_config
from agent.demo_data import COMPANIES, Company, demo_legal_id, write_company_data
from agent.trustee import KeyRing, Verdict, check_release
from coordinator.config import CoordinatorConfig, load_config
from coordinator.server import RunningServer, start
from fedcarbon.cli import app
from fedcarbon.federation.manifest import Manifest
from fedcarbon.invite import load_invite
from fedcarbon.transport import ClientCredentials, home_credentials, open_channel

KEY_BITS = 2048  # integration tests use production-size keys (STYLE.md)
MIN_ATTESTATIONS = 2  # of the three trustees, per member (issue 12: attested members)


@dataclass
class Federation:
    root: Path
    server: RunningServer
    runner: CliRunner = field(default_factory=CliRunner)
    trustees: list[str] = field(default_factory=list)
    agents: dict[str, str] = field(default_factory=dict)  # name -> participant id
    # Trustee index -> its gossip endpoint, published (with its certificate) in the manifest.
    gossip: dict[int, str] = field(default_factory=dict)
    _invites: int = 0
    # Plaintext (`coordinator serve --insecure`): only for tests that read the wire bytes.
    insecure: bool = False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    @property
    def coordinator_home(self) -> Path:
        return self.root / "coordinator"

    @property
    def manifest_path(self) -> Path:
        return self.root / "federation-manifest.json"

    def trustee_home(self, index: int) -> Path:
        return self.root / f"trustee-{index + 1}"

    def client(self, home: Path | str | None = None) -> CoordinatorClient:
        """A client with a member's credentials (default: the first trustee, who may call
        every RPC and sees every campaign)."""
        home = Path(home) if home is not None else self.trustee_home(0)
        return CoordinatorClient(self.address, home_credentials(home))

    def verdict(
        self, index: int, bundle: AggregateBundle, manifest: Manifest | None = None
    ) -> Verdict:
        """The release check trustee ``index`` makes of ``bundle`` against the log
        (agent/trustee.py: check_release), with ``manifest`` or none."""
        home = self.trustee_home(index)
        enrolled = store.enrolment(store.open_store(load_agent_config(home).database_url))
        assert enrolled is not None
        with self.client() as client:
            return check_release(
                bundle, KeyRing(home), client.entries, enrolled.log_public_key, manifest
            )

    def ensure_manifest(self) -> Path:
        """Once all trustees enrolled: they write, sign and pin the federation manifest, and
        the operator installs it (what agents pin and attestations are checked against)."""
        if self.manifest_path.exists():
            return self.manifest_path
        entries = []
        for index, _ in enumerate(self.trustees):
            entry = self.root / f"trustee-{index + 1}.entry.json"
            gossip = ["--gossip", self.gossip[index]] if index in self.gossip else []
            self.cli(
                "trustee", "manifest", "entry", "--home", str(self.trustee_home(index)),
                "--legal-id", demo_legal_id(f"trustee-{index + 1}"), "--out", str(entry),
                *gossip,
            )  # fmt: skip
            entries += ["--trustee", str(entry)]
        draft = self.root / "manifest.draft.json"
        self.cli(
            "trustee", "manifest", "draft", "--federation", "test-federation", *entries,
            "--min-attestations", str(MIN_ATTESTATIONS), "--out", str(draft),
        )  # fmt: skip
        for index, _ in enumerate(self.trustees):
            self.cli(
                "trustee", "manifest", "sign", str(draft), "--home", str(self.trustee_home(index))
            )
        for index, _ in enumerate(self.trustees):
            self.cli(
                "trustee", "manifest", "pin", str(draft), "--home", str(self.trustee_home(index))
            )
        self.operator("manifest", "install", str(draft))
        draft.rename(self.manifest_path)
        return self.manifest_path

    def attest(self, participant_id: str, trustees: int = MIN_ATTESTATIONS) -> None:
        """The first ``trustees`` trustees check the member's identity and attest it."""
        for index in range(trustees):
            self.cli(
                "trustee", "approve", "--participant", participant_id, "--yes",
                "--home", str(self.trustee_home(index)), "--coordinator", self.address,
            )  # fmt: skip

    def cli(self, *args: str, expect: int = 0) -> str:
        result = self.runner.invoke(app, list(args), catch_exceptions=False)
        output = result.output
        assert result.exit_code == expect, (
            f"fedcarbon {' '.join(args)} -> {result.exit_code}:\n{output}"
        )
        return output

    def cli_json(self, *args: str) -> Any:
        result = self.runner.invoke(app, [*args, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def operator(self, *args: str, expect: int = 0) -> str:
        return self.cli("coordinator", *args, "--home", str(self.coordinator_home), expect=expect)

    def token(self, role: str) -> str:
        return str(
            self.cli_json(
                "coordinator",
                "token",
                "issue",
                "--role",
                role,
                "--home",
                str(self.coordinator_home),
            )["tokens"][0]
        )

    def channel(self, home: Path | str | None = None) -> grpc.Channel:
        """A raw gRPC channel with a member's TLS certificate, its calls signed (default: the
        first trustee)."""
        home = Path(home) if home is not None else self.trustee_home(0)
        return open_channel(self.address, home_credentials(home))

    @staticmethod
    def enrolment_credentials(invite: Path) -> ClientCredentials:
        """An invite's CA and enrolment certificate (what Enrol is called with)."""
        found = load_invite(invite)
        return ClientCredentials(
            ca_certificate=found.ca_certificate.encode(),
            certificate=found.enrolment_certificate.encode(),
            private_key=found.enrolment_key.encode(),
        )

    def enrolment_channel(self, invite: Path) -> grpc.Channel:
        """A channel presenting an invite's enrolment certificate."""
        return open_channel(self.address, self.enrolment_credentials(invite))

    def invite(self, role: str) -> Path:
        """An invite file for one participant of ``role`` (token, CA, enrolment certificate)."""
        self._invites += 1
        path = self.root / "invites" / f"{role}-{self._invites}.json"
        self.operator(
            "token", "issue", "--role", role, "--invite", str(path),
            "--coordinator-address", self.address,
        )  # fmt: skip
        return path

    def enrolment_args(self, role: str) -> list[str]:
        """How a new member of ``role`` enrols: an invite over TLS, or a token in plaintext."""
        if self.insecure:
            return ["--coordinator", self.address, "--token", self.token(role), "--insecure"]
        return ["--invite", str(self.invite(role))]

    def add_trustee(self, name: str) -> str:
        document = self.cli_json(
            "trustee",
            "init",
            "--home",
            str(self.root / name),
            "--organisation",
            name,
            *self.enrolment_args("trustee"),
        )
        self.trustees.append(document["participant_id"])
        return str(document["participant_id"])

    def add_agent(
        self,
        company: Company,
        *,
        buyer_id: str | None = None,
        name: str | None = None,
        legal_id: str | None = None,
    ) -> str:
        name = name or company.key
        home = self.root / "agents" / name
        write_company_data(company, home / "activities.csv")
        manifest = self.ensure_manifest()
        args = [
            "agent",
            "init",
            "--home",
            str(home),
            "--organisation",
            company.organisation,
            "--activities",
            "activities.csv",
            *self.enrolment_args(company.role),
            "--legal-id",
            legal_id or demo_legal_id(name),
            "--manifest",
            str(manifest),
        ]
        if buyer_id:
            args += ["--customer", f"{buyer_id}=Helix Motors AG"]
        document = self.cli_json(*args)
        self.agents[name] = document["participant_id"]
        self.attest(document["participant_id"])
        return str(document["participant_id"])

    def agent_home(self, name: str) -> str:
        return str(self.root / "agents" / name)

    def open_campaign(
        self,
        campaign_id: str,
        *,
        kind: str = "benchmark",
        metrics: tuple[str, ...] = ("scope1_kgco2e", "participants"),
        k: int = 3,
        threshold: int = 2,
        extra: tuple[str, ...] = (),
    ) -> Path:
        self.ensure_manifest()
        statements = self.key_statements(campaign_id)
        self.operator(
            "campaign",
            "create",
            "--id",
            campaign_id,
            "--kind",
            kind,
            *[a for path in statements for a in ("--key-statement", str(path))],
            "--threshold",
            str(threshold),
            "--period-start",
            "2024-01-01",
            "--period-end",
            "2024-12-31",
            "--k",
            str(k),
            *[a for m in metrics for a in ("--metric", m)],
            *extra,
        )
        return statements[0]

    def key_statements(self, campaign_id: str, count: int | None = None) -> list[Path]:
        """Each trustee makes its own key for the campaign and writes its signed statement."""
        paths = []
        for index in range(count if count is not None else len(self.trustees)):
            path = self.root / f"{campaign_id}.trustee-{index + 1}.json"
            self.cli(
                "trustee",
                "keygen",
                "--campaign",
                campaign_id,
                "--out",
                str(path),
                "--bits",
                str(KEY_BITS),
                "--home",
                str(self.root / f"trustee-{index + 1}"),
            )
            paths.append(path)
        return paths

    def submit(self, name: str, campaign_id: str, expect: int = 0) -> str:
        return self.cli(
            "agent", "submit", campaign_id, "--home", self.agent_home(name), expect=expect
        )

    def run_trustees(self, count: int | None = None, rounds: int = 4) -> None:
        """Every step the trustees owe: (noise,) indicators, values, signatures; one per round."""
        for _ in range(rounds):
            for index in range(count if count is not None else len(self.trustees)):
                home = str(self.root / f"trustee-{index + 1}")
                self.cli("trustee", "run", "--once", "--home", home)


def company(key: str) -> Company:
    return next(c for c in COMPANIES if c.key == key)


def init_coordinator(home: Path, *args: str) -> CoordinatorConfig:
    """`coordinator init` on a loopback port 0: config, log key, CA and server certificate."""
    result = CliRunner().invoke(
        app, ["coordinator", "init", "--home", str(home), "--listen", "127.0.0.1:0", *args]
    )
    assert result.exit_code == 0, result.output
    return load_config(home)


@contextmanager
def running_federation(root: Path) -> Iterator[Federation]:
    """A fresh coordinator (SQLite) in ``root`` with three enrolled trustees, stopped on exit."""
    server = start(init_coordinator(root / "coordinator"), workers=8)
    fed = Federation(root, server)
    try:
        for index in range(3):
            fed.add_trustee(f"trustee-{index + 1}")
        yield fed
    finally:
        server.stop(0)


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    """A fresh coordinator (SQLite) with three enrolled trustees."""
    with running_federation(tmp_path) as fed:
        yield fed
