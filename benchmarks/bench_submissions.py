"""The whole submission path, end to end, against a real coordinator process (issue 14).

Run: ``.venv/bin/python benchmarks/bench_submissions.py [--n 200] [--clients 8] [--full]
[--quick] [--backends sqlite postgres] [--profile] [--json]``.

What runs, per database backend (SQLite in the coordinator's home; PostgreSQL as a fresh
database on 127.0.0.1:5432, user postgres, skipped with the reason when unreachable):

1. ``python -m fedcarbon coordinator serve`` in its own process; three trustees enrol, write,
   sign and pin the federation manifest; N suppliers enrol and two trustees attest each.
2. Each trustee makes its own 2048-bit campaign key; the operator opens a benchmark campaign
   with t = 2 of 3 and five metrics (one ciphertext of 25 slots per part and trustee).
3. **Agents** (a process per core) build the N signed submissions on the agents' own code
   path (``agent.contribution.prepare`` and ``encrypt_and_sign``: Shamir shares packed per
   trustee, short-exponent encryption under each trustee's key, proofs of plaintext
   knowledge, Ed25519 signature), timed per submission in CPU seconds, before any is sent.
4. **Ingestion**: ``--clients`` processes send the pre-built submissions concurrently over
   gRPC on loopback, starting together; the coordinator's CPU (``/proc/<pid>/stat``) and
   peak RSS (``VmHWM``) are read around this phase only, so agent-side cost is not in it.
5. **Release**: ``coordinator campaign close`` (a process), then the t = 2 trustees run
   ``trustee run --once`` side by side, round after round, until the campaign is released;
   then the round in which they sign the result. Released sums are checked against the exact
   sum of the plaintext figures; the script exits 1 if they differ or a submission failed.

Figures are in units of **P**, one plain ``phe`` 2048-bit encryption
(``PaillierPublicKey.encrypt`` of an int: one full-length r^n mod n^2), timed (CPU) in the
same run, before and after, median of both; the issue's unit, one raw
``gmpy2.powmod(r, n, n^2)``, is printed beside it. CPU figures are CPU time, not wall time,
so other jobs on the shared cores inflate them much less than throughput.

Trustee CPU is printed twice: as measured, and net of one ``trustee run --once`` start-up
per run (interpreter, imports, store, one poll; measured by a run with nothing to do),
which does not grow with N.

``--profile`` starts the coordinator under ``benchmarks/profiled_coordinator.py`` (cProfile
around every ``SubmissionDesk.accept``) and prints where the time goes per submission.

Process start-up and enrolment go through ``fedcarbon_cli``, ``start_coordinator`` and
``connect``, so TLS (``coordinator serve --insecure`` or credentials) is one place to adapt.
"""

import argparse
import json
import multiprocessing
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run from a checkout: its packages, not an installed copy

import gmpy2  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from phe import paillier  # noqa: E402

KEY_BITS = 2048
TRUSTEES = 3
THRESHOLD = 2
MIN_ATTESTATIONS = 2
METRICS = (
    "scope1_kgco2e",
    "scope2_location_kgco2e",
    "scope2_market_kgco2e",
    "output_t",
    "participants",
)
CAMPAIGN = "bench-submissions"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"

# ---------------------------------------------------------------------------------------
# Processes: where TLS will change things (serve flags, client credentials).


def fedcarbon_cli(*args: str, expect: int = 0) -> str:
    """Run one ``fedcarbon`` command in this process (typer's runner), as the tests do."""
    from typer.testing import CliRunner

    from fedcarbon.cli import app

    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    if result.exit_code != expect:
        raise RuntimeError(f"fedcarbon {' '.join(args)} -> {result.exit_code}:\n{result.output}")
    return result.stdout


def fedcarbon_json(*args: str) -> Any:
    return json.loads(fedcarbon_cli(*args, "--json"))


def fedcarbon_command(*args: str) -> list[str]:
    """The argv of a ``fedcarbon`` command run as its own process."""
    return [sys.executable, "-m", "fedcarbon", *args]


@dataclass(frozen=True)
class Finished:
    """A child process that ran to its end, with its own resource usage."""

    returncode: int
    cpu_s: float
    wall_s: float
    max_rss_mb: float
    output: str


def run_measured(argv: Sequence[str]) -> "subprocess.Popen[bytes]":
    return subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_child_env()
    )


def wait_measured(process: "subprocess.Popen[bytes]", started: float) -> Finished:
    """Reap the child with ``wait4`` to get its own CPU time and peak RSS."""
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Finished(
        process.returncode,
        usage.ru_utime + usage.ru_stime,
        time.monotonic() - started,
        usage.ru_maxrss / 1024,
        output,
    )


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


@dataclass
class Coordinator:
    process: "subprocess.Popen[bytes]"
    home: Path
    address: str
    log_file: Path

    def cpu_s(self) -> float:
        """utime + stime of the server process so far (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def memory_mb(self, key: str) -> float:
        """``VmHWM`` (peak) or ``VmRSS`` (now) of the server process, in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {key} in /proc/{self.process.pid}/status")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_coordinator(home: Path, database_url: str, *, profile_to: Path | None) -> Coordinator:
    """``coordinator init`` then ``coordinator serve`` as its own process on a free port."""
    fedcarbon_cli(
        "coordinator", "init", "--home", str(home), "--listen", "127.0.0.1:0",
        "--database-url", database_url,
    )  # fmt: skip
    port_file = home / "port"
    serve = ["coordinator", "serve", "--home", str(home), "--port-file", str(port_file)]
    serve += ["--log-level", "WARNING"]
    if profile_to is None:
        argv = fedcarbon_command(*serve)
    else:
        argv = [sys.executable, str(HERE / "profiled_coordinator.py"), str(profile_to), *serve]
    log_file = home / "serve.log"
    with log_file.open("wb") as sink:
        process = subprocess.Popen(
            argv, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, env=_child_env()
        )
    deadline = time.monotonic() + 120
    while not port_file.exists() or not port_file.read_text().strip():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"coordinator did not start:\n{log_file.read_text()}")
        time.sleep(0.05)
    return Coordinator(process, home, f"127.0.0.1:{port_file.read_text().strip()}", log_file)


def connect(address: str) -> Any:
    """An agent's client to the coordinator (plaintext loopback today)."""
    from agent.client import CoordinatorClient

    return CoordinatorClient(address, timeout=120)


# ---------------------------------------------------------------------------------------
# The unit P, measured in this run.


def measure_p(repeats: int = 25) -> tuple[float, float]:
    """(median CPU s of one phe encryption, median CPU s of one gmpy2 powmod(r, n, n^2))."""
    public, _ = paillier.generate_paillier_keypair(n_length=KEY_BITS)
    n = public.n
    nsquare = gmpy2.mpz(n) ** 2
    r = gmpy2.mpz(secrets.randbelow(n))
    phe_times, powmod_times = [], []
    for _ in range(repeats):
        m = secrets.randbelow(10**12)
        started = time.process_time()
        public.encrypt(m)
        phe_times.append(time.process_time() - started)
        started = time.process_time()
        gmpy2.powmod(r, n, nsquare)
        powmod_times.append(time.process_time() - started)
    return statistics.median(phe_times), statistics.median(powmod_times)


# ---------------------------------------------------------------------------------------
# Federation set-up (not measured).


@dataclass
class Federation:
    root: Path
    coordinator: Coordinator
    trustees: list[str] = field(default_factory=list)

    def trustee_home(self, index: int) -> Path:
        return self.root / f"trustee-{index + 1}"

    def operator(self, *args: str) -> str:
        return fedcarbon_cli("coordinator", *args, "--home", str(self.coordinator.home))

    def tokens(self, role: str, count: int) -> list[str]:
        document = fedcarbon_json(
            "coordinator", "token", "issue", "--role", role, "--count", str(count),
            "--home", str(self.coordinator.home),
        )  # fmt: skip
        return [str(t) for t in document["tokens"]]


def set_up_trustees(fed: Federation) -> None:
    """Three trustees enrol; they draft, sign and pin the manifest; the operator installs it."""
    from agent.demo_data import demo_legal_id

    for index, token in enumerate(fed.tokens("trustee", TRUSTEES)):
        document = fedcarbon_json(
            "trustee", "init", "--home", str(fed.trustee_home(index)),
            "--organisation", f"Bench Trustee {index + 1}",
            "--coordinator", fed.coordinator.address, "--token", token,
        )  # fmt: skip
        fed.trustees.append(document["participant_id"])
    entries = []
    for index in range(TRUSTEES):
        entry = fed.root / f"trustee-{index + 1}.entry.json"
        fedcarbon_cli(
            "trustee", "manifest", "entry", "--home", str(fed.trustee_home(index)),
            "--legal-id", demo_legal_id(f"bench-trustee-{index + 1}"), "--out", str(entry),
        )  # fmt: skip
        entries += ["--trustee", str(entry)]
    manifest = fed.root / "manifest.json"
    fedcarbon_cli(
        "trustee", "manifest", "draft", "--federation", "bench", *entries,
        "--min-attestations", str(MIN_ATTESTATIONS), "--out", str(manifest),
    )  # fmt: skip
    for action in ("sign", "pin"):
        for index in range(TRUSTEES):
            fedcarbon_cli(
                "trustee", "manifest", action, str(manifest), "--home", str(fed.trustee_home(index))
            )
    fed.operator("manifest", "install", str(manifest))


@dataclass(frozen=True)
class Member:
    participant_id: str
    identity: bytes  # raw Ed25519 private key (stays with the agent)
    company_index: int


def enrol_members(fed: Federation, count: int) -> list[Member]:
    """``count`` suppliers enrol with their own identity keys and legal ids; trustees attest."""
    from agent.demo_data import demo_legal_id

    members = []
    with connect(fed.coordinator.address) as client:
        for index, token in enumerate(fed.tokens("supplier", count)):
            identity = Ed25519PrivateKey.generate()
            result = client.enrol(
                token=token,
                organisation=f"Bench Member {index:05d}",
                identity=identity,
                legal_id=demo_legal_id(f"bench-member-{index}"),
            )
            members.append(Member(result.participant_id, identity.private_bytes_raw(), index))
    for index in range(MIN_ATTESTATIONS):
        fedcarbon_cli("trustee", "approve", "--yes", "--home", str(fed.trustee_home(index)))
    return members


def open_campaign(fed: Federation) -> None:
    statements = []
    for index in range(TRUSTEES):
        path = fed.root / f"statement-{index + 1}.json"
        fedcarbon_cli(
            "trustee", "keygen", "--campaign", CAMPAIGN, "--out", str(path),
            "--bits", str(KEY_BITS), "--home", str(fed.trustee_home(index)),
        )  # fmt: skip
        statements += ["--key-statement", str(path)]
    fed.operator(
        "campaign", "create", "--id", CAMPAIGN, "--kind", "benchmark", *statements,
        "--threshold", str(THRESHOLD), "--period-start", "2024-01-01",
        "--period-end", "2024-12-31", "--k", "3",
        *[a for m in METRICS for a in ("--metric", m)],
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# Agents: build every submission first (separate processes, CPU per submission).


@dataclass(frozen=True)
class Built:
    participant_id: str
    body: bytes
    signature: bytes
    fixed: tuple[int, ...]
    cpu_s: float


def _build(campaign_proto: bytes, members: Sequence[Member], companies: int) -> list[Built]:
    """One agent process's share of the submissions, on the agent's own code path."""
    from agent.contribution import encrypt_and_sign, prepare
    from agent.demo_data import generated_cohort, records_for
    from fedcarbon import serde
    from fedcarbon.accounting.engine import compute_footprint
    from fedcarbon.v1 import campaign_pb2

    campaign = serde.campaign_from_proto(campaign_pb2.Campaign.FromString(campaign_proto))
    cohort = generated_cohort(companies)
    built = []
    for member in members:
        footprint = compute_footprint(records_for(cohort[member.company_index]))  # not timed
        identity = Ed25519PrivateKey.from_private_bytes(member.identity)
        started = time.process_time()
        contribution = prepare(footprint, campaign)
        signed = encrypt_and_sign(contribution, member.participant_id, identity)
        cpu = time.process_time() - started
        built.append(
            Built(
                member.participant_id,
                signed.body,
                signed.signature,
                tuple(contribution.fixed),
                cpu,
            )
        )
    return built


def build_submissions(
    campaign_proto: bytes, members: Sequence[Member], workers: int
) -> list[Built]:
    chunks = [list(members[i::workers]) for i in range(workers)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        parts = pool.starmap(_build, [(campaign_proto, chunk, len(members)) for chunk in chunks])
    return [b for part in parts for b in part]


# ---------------------------------------------------------------------------------------
# Clients: send concurrently, starting together.


def _send(
    address: str,
    items: Sequence[tuple[bytes, bytes]],
    ready: Any,
    out: Any,
) -> None:
    from fedcarbon import serde
    from fedcarbon.submission import SignedSubmission

    failures: list[str] = []
    latencies: list[float] = []
    with connect(address) as client:
        client.tree_head()  # channel up before the clock starts
        ready.wait()
        cpu = time.process_time()
        started = time.monotonic()
        for body, signature in items:
            signed = SignedSubmission(body, signature)
            sent = time.monotonic()
            try:
                receipt, duplicate = client.submit(signed)
            except Exception as error:  # a refusal is a benchmark failure, reported below
                failures.append(str(error))
                continue
            latencies.append(time.monotonic() - sent)
            if duplicate or receipt.entry != serde.signed_to_entry(signed):
                failures.append("receipt for another entry, or a duplicate")
        out.put((started, time.monotonic(), time.process_time() - cpu, latencies, failures))


@dataclass(frozen=True)
class Sent:
    wall_s: float
    coordinator_cpu_s: float
    client_cpu_s: float
    latencies: list[float]
    failures: list[str]


def send_all(coordinator: Coordinator, built: Sequence[Built], clients: int) -> Sent:
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(clients + 1)
    out = context.Queue()
    items = [(b.body, b.signature) for b in built]
    processes = [
        context.Process(target=_send, args=(coordinator.address, items[i::clients], ready, out))
        for i in range(clients)
    ]
    for process in processes:
        process.start()
    ready.wait()
    cpu_before = coordinator.cpu_s()
    reports = [out.get() for _ in processes]
    cpu_after = coordinator.cpu_s()
    for process in processes:
        process.join()
    started = min(r[0] for r in reports)
    ended = max(r[1] for r in reports)
    return Sent(
        ended - started,
        cpu_after - cpu_before,
        sum(r[2] for r in reports),
        [x for r in reports for x in r[3]],
        [x for r in reports for x in r[4]],
    )


# ---------------------------------------------------------------------------------------
# Close and release.


@dataclass(frozen=True)
class Release:
    close: Finished
    rounds: list[list[Finished]]  # rounds until released, each trustee's run
    sign_round: list[Finished]
    idle_run: Finished  # one trustee run with nothing to do: start-up cost
    close_to_release_s: float

    @property
    def trustee_cpu_s(self) -> float:
        """Per trustee (mean over the t trustees), every round including signing."""
        runs = [*(r for rnd in self.rounds for r in rnd), *self.sign_round]
        return sum(r.cpu_s for r in runs) / THRESHOLD


def trustee_round(fed: Federation) -> list[Finished]:
    """The t trustees each run ``trustee run --once``, side by side (they are separate hosts)."""
    started = time.monotonic()
    running = [
        run_measured(
            fedcarbon_command("trustee", "run", "--once", "--home", str(fed.trustee_home(i)))
        )
        for i in range(THRESHOLD)
    ]
    finished = [wait_measured(p, started) for p in running]
    for run in finished:
        if run.returncode != 0:
            raise RuntimeError(f"trustee run failed:\n{run.output}")
    return finished


def campaign_state(fed: Federation) -> str:
    with connect(fed.coordinator.address) as client:
        return str(client.get_result(CAMPAIGN).state.value)


def close_and_release(fed: Federation, idle_run: Finished) -> Release:
    started = time.monotonic()
    close = wait_measured(
        run_measured(
            fedcarbon_command(
                "coordinator", "campaign", "close", CAMPAIGN, "--home", str(fed.coordinator.home)
            )
        ),
        started,
    )
    if close.returncode != 0:
        raise RuntimeError(f"close failed:\n{close.output}")
    rounds = []
    while campaign_state(fed) != "released":
        if len(rounds) >= 4:
            raise RuntimeError(f"not released after {len(rounds)} trustee rounds")
        rounds.append(trustee_round(fed))
    released = time.monotonic() - started
    return Release(close, rounds, trustee_round(fed), idle_run, released)


# ---------------------------------------------------------------------------------------
# One backend, end to end.


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server, dropped afterwards."""
    import psycopg

    name = f"fedcarbon_bench_{secrets.token_hex(4)}"
    dsn = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_unreachable() -> str:
    """Why PostgreSQL cannot be used here ('' when it can)."""
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
        ):
            return ""
    except Exception as error:
        return f"PostgreSQL on 127.0.0.1:5432 (user postgres) unreachable: {error}"


def stored_bytes(database_url: str, home: Path) -> int:
    """Bytes the coordinator's database takes now (SQLite file + WAL, or PostgreSQL's size)."""
    if database_url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                return int(
                    connection.execute(text("SELECT pg_database_size(current_database())")).one()[0]
                )
        finally:
            engine.dispose()
    import sqlite3

    path = home / "coordinator.sqlite"
    with sqlite3.connect(path) as connection:  # fold the WAL into the file first
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def released_matches(fed: Federation, built: Sequence[Built]) -> tuple[bool, str]:
    """The released sums against the exact sum of every agent's fixed-point figures."""
    with connect(fed.coordinator.address) as client:
        result = client.get_result(CAMPAIGN)
    expected = [sum(b.fixed[i] for b in built) for i in range(len(METRICS))]
    got = [m.sum_fixed for m in result.metrics]
    if result.contributors != len(built):
        return False, f"{result.contributors} contributors released, {len(built)} sent"
    if got != expected:
        return False, f"released sums {got} differ from the plaintext sums {expected}"
    return True, f"{len(METRICS)} sums over {len(built)} contributors equal the plaintext sums"


@dataclass
class Outcome:
    backend: str
    n: int
    built: list[Built]
    sent: Sent
    release: Release
    rss_before_mb: float
    peak_rss_mb: float
    bytes_per_submission: float
    check: str
    ok: bool
    profile: dict[Any, Any] | None  # pstats' table of the coordinator's accept calls


def run_backend(backend: str, database_url: str, args: argparse.Namespace, root: Path) -> Outcome:
    home = root / "coordinator"
    home.mkdir(parents=True)
    profile_to = root / "accept.prof" if args.profile else None
    print(f"[{backend}] starting the coordinator and {TRUSTEES} trustees", file=sys.stderr)
    coordinator = start_coordinator(home, database_url, profile_to=profile_to)
    fed = Federation(root, coordinator)
    try:
        set_up_trustees(fed)
        print(f"[{backend}] enrolling and attesting {args.n} members", file=sys.stderr)
        members = enrol_members(fed, args.n)
        open_campaign(fed)
        with connect(coordinator.address) as client:
            from fedcarbon import serde

            campaign = client.get_campaign(CAMPAIGN)
        proto = serde.campaign_to_proto(campaign).SerializeToString()
        print(f"[{backend}] agents build {args.n} submissions", file=sys.stderr)
        built = build_submissions(proto, members, args.agents)
        idle = trustee_round(fed)  # nothing to do yet: what a run costs before any work
        before = stored_bytes(database_url, home)
        rss_before = coordinator.memory_mb("VmRSS")
        print(f"[{backend}] {args.clients} clients send", file=sys.stderr)
        sent = send_all(coordinator, built, args.clients)
        peak = coordinator.memory_mb("VmHWM")
        after = stored_bytes(database_url, home)
        print(f"[{backend}] close, trustees release", file=sys.stderr)
        release = close_and_release(fed, min(idle, key=lambda r: r.cpu_s))
        ok, check = released_matches(fed, built)
        if sent.failures:
            ok, check = False, f"{len(sent.failures)} submissions failed: {sent.failures[:3]}"
    finally:
        coordinator.stop()
    profile = None
    if profile_to is not None and profile_to.exists():
        import pstats

        profile = pstats.Stats(str(profile_to)).stats  # type: ignore[attr-defined]
    return Outcome(
        backend,
        args.n,
        built,
        sent,
        release,
        rss_before,
        peak,
        (after - before) / args.n,
        check,
        ok,
        profile,
    )


# ---------------------------------------------------------------------------------------
# Report.


def figures(outcome: Outcome, p: float) -> dict[str, Any]:
    n = outcome.n
    agent_cpu = [b.cpu_s for b in outcome.built]
    release = outcome.release
    runs = len(release.rounds) + 1
    startup = release.idle_run.cpu_s
    trustee_net = max(0.0, release.trustee_cpu_s - runs * startup)
    return {
        "n": n,
        "submissions_per_s": n / outcome.sent.wall_s,
        "coordinator_cpu_per_submission_over_P": outcome.sent.coordinator_cpu_s / n / p,
        "agent_cpu_per_submission_over_P": statistics.median(agent_cpu) / p,
        "agent_cpu_per_submission_mean_over_P": statistics.mean(agent_cpu) / p,
        "trustee_cpu_per_submission_over_P": release.trustee_cpu_s / n / p,
        "trustee_cpu_per_submission_net_of_startup_over_P": trustee_net / n / p,
        "trustee_runs": runs,
        "trustee_startup_cpu_s": startup,
        "close_to_release_s": release.close_to_release_s,
        "close_s": release.close.wall_s,
        "close_cpu_s": release.close.cpu_s,
        "close_peak_rss_mb": release.close.max_rss_mb,
        "release_round_wall_s": [max(r.wall_s for r in rnd) for rnd in release.rounds],
        "trustee_peak_rss_mb": max(r.max_rss_mb for rnd in release.rounds for r in rnd),
        "peak_rss_mb": outcome.peak_rss_mb,
        "rss_before_send_mb": outcome.rss_before_mb,
        "bytes_stored_per_submission": outcome.bytes_per_submission,
        "submit_latency_median_ms": statistics.median(outcome.sent.latencies) * 1000,
        "client_cpu_per_submission_over_P": outcome.sent.client_cpu_s / n / p,
        "send_wall_s": outcome.sent.wall_s,
        "check": outcome.check,
        "ok": outcome.ok,
    }


ROWS = (
    ("accepted submissions / s (wall)", "submissions_per_s", "{:,.1f}"),
    ("coordinator CPU per submission / P", "coordinator_cpu_per_submission_over_P", "{:.3f}"),
    ("agent CPU per submission / P (median)", "agent_cpu_per_submission_over_P", "{:.3f}"),
    ("  same, mean (with first-call costs)", "agent_cpu_per_submission_mean_over_P", "{:.3f}"),
    ("trustee CPU per submission / P (each)", "trustee_cpu_per_submission_over_P", "{:.3f}"),
    (
        "  same, net of run start-ups",
        "trustee_cpu_per_submission_net_of_startup_over_P",
        "{:.3f}",
    ),
    ("client CPU per submission / P (senders)", "client_cpu_per_submission_over_P", "{:.3f}"),
    ("submit latency, median ms", "submit_latency_median_ms", "{:,.1f}"),
    ("close to release, s (wall)", "close_to_release_s", "{:.2f}"),
    ("  of which close (process), s", "close_s", "{:.2f}"),
    ("coordinator peak RSS, MB", "peak_rss_mb", "{:,.0f}"),
    ("  RSS before sending, MB", "rss_before_send_mb", "{:,.0f}"),
    ("bytes stored per submission", "bytes_stored_per_submission", "{:,.0f}"),
)


def print_table(results: dict[str, dict[str, Any]], p: float, p_powmod: float) -> None:
    names = list(results)
    print(
        f"\nwhole submission path: {KEY_BITS}-bit keys, t = {THRESHOLD} of {TRUSTEES}, "
        f"{len(METRICS)} metrics; P = one phe encrypt = {p * 1000:.2f} ms CPU "
        f"(gmpy2 powmod(r, n, n^2) = {p_powmod * 1000:.2f} ms = {p_powmod / p:.2f} P); "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n"
    )
    header = "| measure | " + " | ".join(
        f"{name} (N = {results[name]['n']:,})" if "n" in results[name] else name for name in names
    )
    print(header + " |")
    print("|---|" + "---:|" * len(names))
    for label, key, form in ROWS:
        cells = []
        for name in names:
            value = results[name].get(key)
            cells.append(form.format(value) if value is not None else "-")
        print(f"| {label} | " + " | ".join(cells) + " |")
    for name in names:
        r = results[name]
        if "skipped" in r:
            print(f"\n{name}: skipped: {r['skipped']}")
        else:
            print(
                f"\n{name}: {r['check']}; release rounds (wall s): "
                f"{', '.join(f'{x:.2f}' for x in r['release_round_wall_s'])}; "
                f"trustee run start-up {r['trustee_startup_cpu_s']:.2f} s CPU x "
                f"{r['trustee_runs']} runs each"
            )


def print_profile(backend: str, stats: dict[Any, Any], n: int, p: float) -> None:
    """The costliest functions under ``SubmissionDesk.accept``, per submission, in P.

    The profiler's clock is each thread's CPU time (``time.thread_time``), so waiting for the
    GIL or a lock does not count; its own overhead does, so read shares more than totals.
    """
    print(f"\n{backend}: coordinator profile, cumulative thread CPU per submission (cProfile)")
    print("| function | calls / submission | cumulative / P | own / P |")
    print("|---|---:|---:|---:|")
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.items():
        rows.append((cumulative, own, calls, f"{Path(filename).name}:{line}({name})"))
    for cumulative, own, calls, where in sorted(rows, reverse=True)[:30]:
        print(f"| {where} | {calls / n:.2f} | {cumulative / n / p:.3f} | {own / n / p:.3f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="submissions (default 200)")
    parser.add_argument("--full", action="store_true", help="N = 10,000")
    parser.add_argument("--quick", action="store_true", help="N = 50, SQLite only")
    parser.add_argument("--clients", type=int, default=8, help="concurrent sending processes")
    parser.add_argument(
        "--agents", type=int, default=os.cpu_count() or 1, help="processes building submissions"
    )
    parser.add_argument(
        "--backends", nargs="+", choices=("sqlite", "postgres"), default=["sqlite", "postgres"]
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the coordinator's accept path"
    )
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.full:
        args.n = 10_000
    if args.quick:
        args.n, args.backends = 50, ["sqlite"]
    if args.n < 3:
        parser.error("--n must be at least 3 (k = 3)")

    p_first = measure_p()
    work = Path(tempfile.mkdtemp(prefix="fedcarbon-bench-submissions-"))
    outcomes: dict[str, Outcome] = {}
    skipped: dict[str, str] = {}
    try:
        for backend in args.backends:
            if backend == "sqlite":
                outcomes[backend] = run_backend(backend, "", args, work / backend)
                continue
            why = postgres_unreachable()
            if why:
                skipped[backend] = why
                continue
            with postgres_database() as url:
                outcomes[backend] = run_backend(backend, url, args, work / backend)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    p_last = measure_p()
    p = statistics.median([p_first[0], p_last[0]])
    p_powmod = statistics.median([p_first[1], p_last[1]])
    results: dict[str, dict[str, Any]] = {
        name: figures(outcome, p) for name, outcome in outcomes.items()
    }
    results.update({name: {"skipped": why} for name, why in skipped.items()})
    ok = all(o.ok for o in outcomes.values())
    if args.json:
        document: dict[str, Any] = {
            "P_s": p,
            "P_powmod_s": p_powmod,
            "key_bits": KEY_BITS,
            "clients": args.clients,
            "load_average": os.getloadavg(),
            **results,
        }
        print(json.dumps(document, indent=2))
    else:
        print_table(results, p, p_powmod)
    for name, outcome in outcomes.items():
        if outcome.profile is not None and not args.json:
            print_profile(name, outcome.profile, outcome.n, p)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"\nbenchmark process: {usage.ru_utime + usage.ru_stime:.1f} s CPU", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
