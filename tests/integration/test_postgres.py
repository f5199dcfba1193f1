"""The coordinator on a real PostgreSQL, alone and as two replicas sharing one database.

Each scenario gets its own freshly created database (``fedcarbon_<random>``), dropped at
teardown. Replicas are two gRPC servers in this process on different ports; every invariant
they share (one log index per leaf, one close, one release) must come from the database.
"""

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from agent.client import CoordinatorClient
from agent.contribution import encrypt_and_sign, prepare
from agent.demo_data import records_for
from agent.identity import load_or_create_identity
from coordinator.campaigns import close_campaign
from coordinator.config import load_config
from coordinator.errors import ConflictError
from coordinator.server import RunningServer, start
from coordinator.store import AggregateRow, CohortEntryRow, LogLeaf, ResultRow, SubmissionRow
from fedcarbon import serde
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.audit import merkle, signing
from fedcarbon.audit.receipts import Receipt, verify_receipt
from fedcarbon.audit.treehead import TreeHead
from fedcarbon.campaign import CampaignState
from fedcarbon.cli import app
from fedcarbon.cohorts import is_cohort_entry
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.results import CampaignResult
from fedcarbon.submission import SignedSubmission
from fedcarbon.transport import home_credentials
from tests.conftest import POSTGRES_URL, require_service
from tests.integration.conftest import Federation, company
from tests.integration.processes import fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.services]
T = TypeVar("T")


@pytest.fixture(scope="module")
def server_url() -> str:
    """The PostgreSQL server (as tests/conftest.py's postgres_url, for module-scoped use)."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


def _start(root: Path, database_url: str) -> RunningServer:
    """A coordinator as the `federation` fixture starts one, but on PostgreSQL."""
    home = root / "coordinator"
    if not (home / "coordinator.toml").exists():  # replicas share one home (and its TLS files)
        result = CliRunner().invoke(
            app,
            ["coordinator", "init", "--home", str(home), "--listen", "127.0.0.1:0",
             "--database-url", database_url],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    return start(load_config(home), workers=8)


def _expected_scope1(members: tuple[str, ...]) -> int:
    return sum(
        to_fixed(Decimal(repr(compute_footprint(records_for(company(k))).scope1_kgco2e)), 3)
        for k in members
    )


def _released_scope1(result: dict[str, Any]) -> int:
    return to_fixed(Decimal(str(result["metrics"]["scope1_kgco2e"]["sum"])), 3)


def _result(fed: Federation, campaign_id: str) -> dict[str, Any]:
    result: dict[str, Any] = fed.cli_json(
        "coordinator", "campaign", "result", campaign_id, "--home", str(fed.coordinator_home)
    )
    return result


# -- one coordinator ----------------------------------------------------------------------

MEMBERS = ("nordstahl", "castings", "alpine")


@pytest.fixture(scope="module")
def single(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    root = tmp_path_factory.mktemp("pg-single")
    with fresh_database(server_url) as url:
        server = _start(root, url)
        fed = Federation(root, server)
        try:
            for index in range(3):
                fed.add_trustee(f"trustee-{index + 1}")
            for key in MEMBERS:
                fed.add_agent(company(key))
            fed.open_campaign("bench")
            for key in MEMBERS:
                fed.submit(key, "bench")
            fed.operator("campaign", "close", "bench")
            fed.run_trustees()
            yield fed
        finally:
            server.stop(0)


def test_the_coordinator_runs_on_postgresql(single: Federation) -> None:
    assert single.server.engine.dialect.name == "postgresql"
    with Session(single.server.engine) as session:
        assert len(session.exec(select(SubmissionRow)).all()) == len(MEMBERS)


def test_a_benchmark_on_postgresql_releases_the_plaintext_sum(single: Federation) -> None:
    result = _result(single, "bench")
    assert (result["state"], result["contributors"]) == ("released", len(MEMBERS))
    assert _released_scope1(result) == _expected_scope1(MEMBERS)
    assert result["metrics"]["participants"]["sum"] == len(MEMBERS)


# -- two replicas on one database ---------------------------------------------------------

VIA_A = ("nordstahl", "castings", "alpine")
VIA_B = ("rhein", "danube", "baltic")


@dataclass
class Replicas:
    a: Federation
    b: Federation
    receipts: list[Receipt]
    closes: list[str]  # per concurrent close: the state it reached, or "conflict"


def _concurrently(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls in threads released together by a barrier; results in call order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _signed(fed: Federation, key: str, campaign_id: str) -> SignedSubmission:
    """What `fedcarbon agent submit` sends: the company's figures, encrypted and signed."""
    identity = load_or_create_identity(Path(fed.agent_home(key)) / "identity.pem")
    with fed.client() as client:
        campaign = client.get_campaign(campaign_id)
    contribution = prepare(compute_footprint(records_for(company(key))), campaign)
    return encrypt_and_sign(contribution, fed.agents[key], identity)


def _submitter(address: str, signed: SignedSubmission, home: str) -> Callable[[], Receipt]:
    def call() -> Receipt:
        with CoordinatorClient(address, home_credentials(Path(home))) as client:
            receipt, duplicate = client.submit(signed)
        assert not duplicate
        return receipt

    return call


def _closer(server: RunningServer, campaign_id: str) -> Callable[[], str]:
    def call() -> str:
        try:
            return close_campaign(server.engine, campaign_id)[0].value
        except ConflictError:
            return "conflict"

    return call


@pytest.fixture(scope="module")
def replicas(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    root = tmp_path_factory.mktemp("pg-replicas")
    with fresh_database(server_url) as url:
        # Same configuration and log key (one home), two processes' worth of servers.
        server_a = _start(root, url)
        server_b = _start(root, url)
        try:
            a = Federation(root, server_a)
            for index in range(3):
                a.add_trustee(f"trustee-{index + 1}")
            b = Federation(root, server_b, trustees=a.trustees)
            for key in VIA_A:
                a.add_agent(company(key))
            for key in VIA_B:
                b.add_agent(company(key))
            a.open_campaign("shared")
            jobs = [
                _submitter(a.address, _signed(a, key, "shared"), a.agent_home(key)) for key in VIA_A
            ]
            jobs += [
                _submitter(b.address, _signed(b, key, "shared"), b.agent_home(key)) for key in VIA_B
            ]
            receipts = _concurrently(jobs)
            closes = _concurrently([_closer(server_a, "shared"), _closer(server_b, "shared")])
            # Trustees answer through different replicas: the flags, the values, signatures.
            for _ in range(3):
                a.cli("trustee", "run", "--once", "--home", str(root / "trustee-1"))
                with pytest.MonkeyPatch.context() as patch:
                    patch.setenv("FEDCARBON_AGENT_COORDINATOR", b.address)
                    b.cli("trustee", "run", "--once", "--home", str(root / "trustee-2"))
            yield Replicas(a, b, receipts, closes)
        finally:
            server_a.stop(0)
            server_b.stop(0)


def _tree_head(fed: Federation) -> TreeHead:
    with fed.client() as client:
        return client.tree_head()


def _entries_in_log_order(fed: Federation) -> list[bytes]:
    """Submissions and cohort entries (appended at close), in log order."""
    with Session(fed.server.engine) as session:
        rows = [
            *session.exec(select(SubmissionRow)).all(),
            *session.exec(select(CohortEntryRow)).all(),
        ]
        return [row.entry for row in sorted(rows, key=lambda row: row.leaf_index)]


def test_replicas_give_concurrent_submissions_distinct_consecutive_leaf_indices(
    replicas: Replicas,
) -> None:
    assert sorted(r.leaf_index for r in replicas.receipts) == list(range(6))
    with Session(replicas.a.server.engine) as session:
        leaves = session.exec(select(LogLeaf.leaf_index)).all()
    assert sorted(leaves) == list(range(7))  # and the cohort entry, appended at close


def test_both_replicas_serve_the_same_tree_head_over_every_submission(
    replicas: Replicas,
) -> None:
    head_a, head_b = _tree_head(replicas.a), _tree_head(replicas.b)
    expected = merkle.root_hash([merkle.leaf_hash(e) for e in _entries_in_log_order(replicas.a)])
    assert (head_a.tree_size, head_a.root_hash) == (7, expected)
    assert (head_b.tree_size, head_b.root_hash) == (7, expected)


def test_every_receipt_from_either_replica_verifies(replicas: Replicas) -> None:
    key = signing.public_key_bytes(
        signing.load_private_key(replicas.a.coordinator_home / "log-key.pem")
    )
    for receipt in replicas.receipts:
        verify_receipt(receipt, key)
    assert {serde.signed_from_entry(r.entry).body for r in replicas.receipts} == {
        serde.signed_from_entry(e).body
        for e in _entries_in_log_order(replicas.a)
        if not is_cohort_entry(e)
    }


def test_of_two_concurrent_closes_exactly_one_aggregates(replicas: Replicas) -> None:
    assert sorted(replicas.closes) == ["aggregated", "conflict"]
    with Session(replicas.a.server.engine) as session:
        assert len(session.exec(select(AggregateRow)).all()) == 1


def test_replicas_release_once_with_the_plaintext_sum(replicas: Replicas) -> None:
    with Session(replicas.a.server.engine) as session:
        assert len(session.exec(select(ResultRow)).all()) == 1
    result = _result(replicas.a, "shared")
    assert (result["state"], result["contributors"]) == ("released", 6)
    assert _released_scope1(result) == _expected_scope1(VIA_A + VIA_B)


def test_both_replicas_report_the_same_release(replicas: Replicas) -> None:
    results: list[CampaignResult] = []
    for fed in (replicas.a, replicas.b):
        with fed.client() as client:
            results.append(client.get_result("shared"))
    assert results[0] == results[1] and results[0].state is CampaignState.RELEASED


# -- two campaigns at once: replicas race for the same next log index ---------------------


@dataclass
class Race:
    a: Federation
    b: Federation
    receipts: list[Receipt]


@pytest.fixture(scope="module")
def race(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Race]:
    """Submissions to two campaigns lock different campaign rows, so only the log index
    primary key keeps replicas from writing the same leaf (the loser retries)."""
    root = tmp_path_factory.mktemp("pg-race")
    with fresh_database(server_url) as url:
        server_a = _start(root, url)
        server_b = _start(root, url)
        try:
            a = Federation(root, server_a)
            for index in range(3):
                a.add_trustee(f"trustee-{index + 1}")
            b = Federation(root, server_b, trustees=a.trustees)
            for key in VIA_A:
                a.add_agent(company(key))
            for key in VIA_B:
                b.add_agent(company(key))
            a.open_campaign("left")
            a.open_campaign("right")
            jobs = []
            for key in VIA_A:
                jobs.append(_submitter(a.address, _signed(a, key, "left"), a.agent_home(key)))
                jobs.append(_submitter(b.address, _signed(a, key, "right"), a.agent_home(key)))
            for key in VIA_B:
                jobs.append(_submitter(b.address, _signed(b, key, "left"), b.agent_home(key)))
                jobs.append(_submitter(a.address, _signed(b, key, "right"), b.agent_home(key)))
            yield Race(a, b, _concurrently(jobs))
        finally:
            server_a.stop(0)
            server_b.stop(0)


def test_racing_replicas_never_share_or_skip_a_leaf_index(race: Race) -> None:
    assert sorted(r.leaf_index for r in race.receipts) == list(range(12))


def test_racing_replicas_agree_on_the_tree_head(race: Race) -> None:
    expected = merkle.root_hash([merkle.leaf_hash(e) for e in _entries_in_log_order(race.a)])
    heads = [_tree_head(race.a), _tree_head(race.b)]
    assert [(h.tree_size, h.root_hash) for h in heads] == [(12, expected), (12, expected)]
