"""Crash safety: SIGKILL the coordinator, the operator's close, agents and trustees mid-work.

The coordinator serves from its own process (tests/integration/processes.py), on SQLite and
on PostgreSQL. Processes are killed after random delays (seeded; the seed is printed) and at
named crash points, the narrow windows a delay rarely hits: after a submission commits but
before its receipt is sent, after the close has aggregated but before it commits, after a
trustee's last needed opening is stored but before the release is, in the middle of
writing a trustee's state file. After the restarts and reruns, each scenario checks that

- every agent's receipt names the one submission the coordinator counted for it, and the
  aggregate's contributors are exactly the agents (nothing lost, nothing double-counted);
- the log only grew: every tree head seen before a kill is a prefix of the final one
  (RFC 9162 consistency proofs), every agent's ``check-log`` agrees, and the leaves are
  contiguous and hash to the served root;
- the released sums equal the plaintext sums of the agents' activity data.
"""

import json
import os
import random
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, select

from agent.demo_data import records_for
from coordinator.store import AggregateRow, CohortEntryRow, LogLeaf, SubmissionRow
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.audit import merkle, signing
from fedcarbon.audit.receipts import ConsistencyEvidence, verify_consistency_evidence
from fedcarbon.audit.treehead import TreeHead
from fedcarbon.cli import app
from fedcarbon.crypto.encoding import to_fixed
from tests.conftest import POSTGRES_URL, require_service
from tests.integration.conftest import Federation, company
from tests.integration.processes import (
    KILLED,
    Command,
    CoordinatorProcess,
    enrol_agent,
    enrol_trustee,
    fresh_database,
    launch,
    start_coordinator,
)

pytestmark = pytest.mark.slow

MEMBERS = ("nordstahl", "castings", "alpine")
SEED = int(os.environ.get("FEDCARBON_KILL_SEED", str(int(time.time()))))

# Crash points (see processes.py). Each names the function where callers look it up.
SERVER_AFTER_COMMIT = "call:coordinator.submissions:SubmissionDesk._append:after"
CLOSE_BEFORE_COMMIT = "call:coordinator.campaigns:_stage_cohort:after"
# try_release rebuilds the sums once t value openings are stored (after accept_share committed
# the last of them): the server dies with every opening in and nothing released.
SERVER_BEFORE_RELEASE = "call:coordinator.release:released_sums:before"
AGENT_AFTER_SENDING = "call:agent.client:CoordinatorClient.submit:after"
AGENT_BEFORE_SENDING = "call:agent.store:save_pending:after"
TRUSTEE_MID_STATE_WRITE = "write:decrypted.json"
TRUSTEE_AFTER_OPENING = "call:agent.trustee:KeyRing.open_part:after"
TRUSTEE_AFTER_SENDING = "call:agent.client:CoordinatorClient.submit_share:after"


@dataclass
class World:
    """A federation whose coordinator runs in its own process, and what the kills did."""

    backend: str
    fed: Federation
    coordinator: CoordinatorProcess
    rng: random.Random
    kills: int = 0
    heads: list[TreeHead] = field(default_factory=list)
    crash_next: str = ""  # the crash point the next restart arms
    started: float = field(default_factory=time.monotonic)

    def launch(self, *args: str, crash: str = "") -> Command:
        return launch(self.fed.root / "processes", *args, crash=crash)

    def killed(self, how: str) -> None:
        self.kills += 1
        elapsed = time.monotonic() - self.started
        print(f"[{self.backend}] {elapsed:5.1f} s: kill {self.kills}: {how}")

    def kill_coordinator(self, how: str) -> None:
        self.remember_head()
        assert self.coordinator.kill(), "the coordinator had died before the kill"
        self.killed(how)
        self.coordinator.start(self.crash_next)
        self.crash_next = ""

    def revive(self) -> None:
        """Restart the coordinator if a crash point killed it."""
        if self.coordinator.command is not None and not self.coordinator.running:
            assert self.coordinator.command.process.returncode == KILLED
            self.killed("coordinator at its crash point")
            self.coordinator.start(self.crash_next)
            self.crash_next = ""

    def remember_head(self) -> None:
        """Keep the current signed tree head: the final log must extend it."""
        if self.coordinator.running:
            with self.fed.client() as client:
                self.heads.append(client.tree_head())

    def invoke(self, *args: str) -> tuple[int, str]:
        """A CLI command in this process (not killed); its exit code and stdout (its whole
        output, errors included, when it fails)."""
        result = self.fed.runner.invoke(app, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout if result.exit_code == 0 else result.output

    def submit(self, key: str, campaign_id: str) -> dict[str, Any]:
        """`agent submit` until the coordinator has it; restart a crashed coordinator between
        attempts. Returns what the accepting attempt printed ({} if it was accepted before)."""
        for _ in range(4):
            self.revive()
            code, out = self.invoke(
                "agent", "submit", campaign_id, "--home", self.fed.agent_home(key), "--json"
            )
            if code == 0:
                done: dict[str, Any] = json.loads(out)["submitted"][0]
                return done
            if "already submitted" in out:
                return {}
            assert "unreachable" in out, out
        raise AssertionError(f"{key} could not submit to {campaign_id}")

    def close(self, campaign_id: str) -> None:
        code, out = self.invoke(
            "coordinator", "campaign", "close", campaign_id,
            "--home", str(self.fed.coordinator_home),
        )  # fmt: skip
        assert code == 0 or f"{campaign_id!r} is aggregated, not open" in out, out

    def run_trustees(self, indices: tuple[int, ...], rounds: int) -> None:
        """`trustee run --once` for the given trustees, in this process.

        Besides a crashed coordinator, a rerun may meet the request of its own killed run,
        still being handled: then its answer is refused as late or repeated, and the next
        round finds nothing owed.
        """
        benign = ("unreachable", "not awaiting trustees", "already answered")
        for _ in range(rounds):
            for index in indices:
                self.revive()
                home = str(self.fed.trustee_home(index))
                code, out = self.invoke("trustee", "run", "--once", "--home", home)
                assert code == 0 or any(why in out for why in benign), out

    def state(self, campaign_id: str) -> str:
        code, out = self.invoke(
            "coordinator", "campaign", "list", "--home", str(self.fed.coordinator_home), "--json"
        )
        assert code == 0, out
        return next(c["state"] for c in json.loads(out) if c["campaign_id"] == campaign_id)

    def result(self, campaign_id: str) -> dict[str, Any]:
        code, out = self.invoke(
            "coordinator", "campaign", "result", campaign_id,
            "--home", str(self.fed.coordinator_home), "--json",
        )  # fmt: skip
        assert code == 0, out
        found: dict[str, Any] = json.loads(out)
        return found


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Three trustees and the member agents, enrolled with a coordinator in its own process."""
    backend = request.param
    root = tmp_path_factory.mktemp(f"kill-{backend}")
    with ExitStack() as stack:
        url = ""
        if backend == "postgres":
            require_service("PostgreSQL", "127.0.0.1", 5432)
            url = stack.enter_context(fresh_database(POSTGRES_URL))
        coordinator = start_coordinator(root / "coordinator", url)
        stack.callback(coordinator.stop)
        fed = Federation(root, coordinator)  # type: ignore[arg-type]
        for index in range(3):
            enrol_trustee(fed, f"trustee-{index + 1}")
        for key in MEMBERS:
            enrol_agent(fed, company(key))
        world = World(backend, fed, coordinator, random.Random(f"{SEED}-{backend}"))
        print(f"[{backend}] kill delays seeded with FEDCARBON_KILL_SEED={SEED}")
        yield world
        print(
            f"[{backend}] kills survived: {world.kills}, coordinator starts: {coordinator.starts}"
        )


# -- the checks ------------------------------------------------------------------------------


def _expected_scope1(members: tuple[str, ...]) -> int:
    return sum(
        to_fixed(Decimal(repr(compute_footprint(records_for(company(k))).scope1_kgco2e)), 3)
        for k in members
    )


def assert_counted_once(world: World, campaign_id: str) -> None:
    """Each agent's receipt names the one submission stored for it; the aggregate has exactly
    the agents as contributors."""
    fed = world.fed
    with Session(world.coordinator.engine) as session:
        stored = session.exec(
            select(SubmissionRow).where(SubmissionRow.campaign_id == campaign_id)
        ).all()
        aggregate = session.get(AggregateRow, campaign_id)
        cohorts = session.exec(
            select(CohortEntryRow).where(CohortEntryRow.campaign_id == campaign_id)
        ).all()
    by_participant = {row.participant_id: row.submission_id for row in stored}
    assert len(stored) == len(by_participant) == len(MEMBERS)
    for key in MEMBERS:
        code, out = world.invoke("agent", "receipts", "--home", fed.agent_home(key), "--json")
        assert code == 0, out
        mine = [r for r in json.loads(out) if r["campaign_id"] == campaign_id]
        assert [r["submission_id"] for r in mine] == [by_participant[fed.agents[key]]], key
    assert aggregate is not None and len(cohorts) == 1
    assert json.loads(aggregate.contributor_ids) == sorted(fed.agents[k] for k in MEMBERS)
    assert aggregate.contributors == len(MEMBERS)


def assert_log_only_grew(world: World) -> None:
    """Every head seen before a kill is a prefix of the current one; leaves are contiguous and
    hash to the served root; every agent's own check-log passes."""
    fed = world.fed
    world.revive()
    with fed.client() as client:
        current = client.tree_head()
        for old in world.heads:
            if old.tree_size == 0:
                continue  # the empty log is a prefix of everything; there is no proof for it
            proof = client.consistency_proof(old.tree_size, current.tree_size)
            verify_consistency_evidence(
                ConsistencyEvidence(old, current, proof), fed_log_key(world)
            )
    with Session(world.coordinator.engine) as session:
        leaves = session.exec(select(LogLeaf).order_by(LogLeaf.leaf_index)).all()  # type: ignore[arg-type]
    assert [leaf.leaf_index for leaf in leaves] == list(range(current.tree_size))
    assert merkle.root_hash([leaf.leaf_hash for leaf in leaves]) == current.root_hash
    for key in MEMBERS:
        code, out = world.invoke("agent", "check-log", "--home", fed.agent_home(key), "--json")
        assert code == 0, out
        assert all(r["consistent"] for r in json.loads(out)["receipts"])


def fed_log_key(world: World) -> bytes:
    key = signing.load_private_key(world.fed.coordinator_home / "log-key.pem")
    return signing.public_key_bytes(key)


def assert_released_plaintext_sum(world: World, campaign_id: str) -> None:
    result = world.result(campaign_id)
    assert (result["state"], result["contributors"]) == ("released", len(MEMBERS)), result
    released = to_fixed(Decimal(str(result["metrics"]["scope1_kgco2e"]["sum"])), 3)
    assert released == _expected_scope1(MEMBERS)
    assert result["metrics"]["participants"]["sum"] == len(MEMBERS)


# -- the scenarios ---------------------------------------------------------------------------


def test_coordinator_killed_during_submissions_close_and_release(world: World) -> None:
    """(a) the server dies while agents submit, once at a random moment and once right after
    a commit; (b) the operator's close dies mid-aggregation; (c) the server dies computing
    the release once the last needed opening is stored. Reruns count everything once and release."""
    fed, campaign = world.fed, "kill-server"
    fed.open_campaign(campaign)
    world.remember_head()
    # (a) two agents submit concurrently; the third is held back so the armed crash point
    # always has a submission left to commit.
    agents = [
        world.launch("agent", "submit", campaign, "--home", fed.agent_home(key))
        for key in MEMBERS[:2]
    ]
    for command in agents:
        assert command.wait_ready()
    time.sleep(world.rng.uniform(0.2, 1.5))
    world.crash_next = f"{SERVER_AFTER_COMMIT}:1"
    world.kill_coordinator("coordinator while agents submit (random delay)")
    world.crash_next = SERVER_BEFORE_RELEASE  # armed for the restart after the commit crash
    while any(command.process.poll() is None for command in agents):
        world.revive()  # the agents still waiting for the coordinator get it back
        time.sleep(0.05)
    for key in MEMBERS:
        world.submit(key, campaign)
    assert world.crash_next == "", "the server's commit crash point never fired"
    world.remember_head()
    # (b) the operator's close dies with everything staged but not committed, and at random.
    for crash in (CLOSE_BEFORE_COMMIT, ""):
        command = world.launch(
            "coordinator", "campaign", "close", campaign, "--home", str(fed.coordinator_home),
            crash=crash,
        )  # fmt: skip
        if crash:
            assert command.finish() == KILLED, command.text
            assert world.state(campaign) == "open"  # nothing of the close was committed
            world.killed(f"campaign close at {crash}")
        else:
            assert command.wait_ready()
            time.sleep(world.rng.uniform(0.0, 0.5))
            if command.kill():
                world.killed("campaign close (random delay)")
    if world.state(campaign) == "open":
        world.close(campaign)
    assert world.state(campaign) == "aggregated"
    # (c) two of three trustees answer (one is away); the server dies while rebuilding the
    # release from the openings it has just stored. Rerunning them must release.
    world.run_trustees((0, 1), rounds=2)
    assert world.coordinator.wait_dead(10), "the release crash point never fired"
    world.run_trustees((0, 1), rounds=2)
    assert_counted_once(world, campaign)
    assert_log_only_grew(world)
    assert_released_plaintext_sum(world, campaign)


def test_agents_and_trustees_killed_mid_work(world: World) -> None:
    """(d) agents die mid-submit (after sending, before sending, at random) and rerun; (e)
    trustees die mid-decryption (half-written state, after opening, after sending, at random)
    and rerun. Each submission counts once and the release is the plaintext sum."""
    fed, campaign = world.fed, "kill-parties"
    world.revive()
    fed.open_campaign(campaign)
    world.remember_head()
    crashes = {MEMBERS[0]: AGENT_AFTER_SENDING, MEMBERS[1]: AGENT_BEFORE_SENDING, MEMBERS[2]: ""}
    agents = {
        key: world.launch(
            "agent", "submit", campaign, "--home", fed.agent_home(key), crash=crashes[key]
        )
        for key in MEMBERS
    }
    assert agents[MEMBERS[2]].wait_ready()
    time.sleep(world.rng.uniform(0.0, 2.0))
    if agents[MEMBERS[2]].kill():
        world.killed("agent submit (random delay)")
    for key in MEMBERS[:2]:
        assert agents[key].finish() == KILLED, agents[key].text
        world.killed(f"agent submit at {crashes[key]}")
    reruns = {key: world.submit(key, campaign) for key in MEMBERS}
    # Sent before the kill: the rerun resends the same bytes and is told it was counted.
    assert reruns[MEMBERS[0]]["resent"] and reruns[MEMBERS[0]]["duplicate"]
    # Signed and kept but never sent: the rerun sends those bytes, accepted for the first time.
    assert reruns[MEMBERS[1]]["resent"] and not reruns[MEMBERS[1]]["duplicate"]
    world.remember_head()
    world.close(campaign)
    # (e) each trustee dies at its own point while opening the indicators, concurrently.
    points = (TRUSTEE_MID_STATE_WRITE, TRUSTEE_AFTER_OPENING, TRUSTEE_AFTER_SENDING)
    trustees = [
        world.launch("trustee", "run", "--once", "--home", str(fed.trustee_home(i)), crash=point)
        for i, point in enumerate(points)
    ]
    for command, point in zip(trustees, points, strict=True):
        assert command.finish() == KILLED, command.text
        world.killed(f"trustee run at {point}")
    world.run_trustees((0, 1, 2), rounds=1)  # the indicators, resumed
    trustees = [
        world.launch("trustee", "run", "--once", "--home", str(fed.trustee_home(i))) for i in (0, 1)
    ]
    for command in trustees:
        assert command.wait_ready()
    time.sleep(world.rng.uniform(0.0, 0.8))
    for command in trustees:
        if command.kill():
            world.killed("trustee run while opening the values (random delay)")
    world.run_trustees((0, 1, 2), rounds=2)
    assert_counted_once(world, campaign)
    assert_log_only_grew(world)
    assert_released_plaintext_sum(world, campaign)
