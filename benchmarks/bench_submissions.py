"""The whole submission path, end to end, against a real coordinator process (issue 14).

Run: ``.venv/bin/python benchmarks/bench_submissions.py [--n 200] [--clients 8] [--full]
[--quick] [--backends sqlite postgres] [--insecure] [--profile] [--json]``.

What runs, per database backend (SQLite in the coordinator's home; PostgreSQL as a fresh
database on 127.0.0.1:5432, user postgres, skipped with the reason when unreachable):

1. ``python -m fedcarbon coordinator serve`` in its own process, over mutual TLS (RFC 8446)
   with the CA and server certificate ``coordinator init`` made (docs/tls.md), or plaintext
   with ``--insecure`` to measure what TLS costs. Three trustees enrol with invites
   (``trustee init --invite``; ``--token --insecure`` in plaintext), write, sign and pin the
   federation manifest; N suppliers enrol, each with its own identity key and its own TLS
   key, and receive their client certificates; two trustees attest each.
2. Each trustee makes its own 2048-bit campaign key; the operator opens a benchmark campaign
   with t = 2 of 3 and five metrics (one ciphertext of 25 slots per part and trustee).
3. **Agents** (a process per core) build the N signed submissions on ``agent submit``'s
   code path, before any is sent, timed per submission in CPU seconds: a
   ``shares.CampaignPools`` filled (an encryption mask and a proof commitment per
   ciphertext), ``agent.contribution.prepare``, then ``encrypt_and_sign`` with the filled
   pools (Shamir shares packed per trustee, short-exponent encryption under each trustee's
   key, proofs of plaintext knowledge, Ed25519). "Total" is all three; "online" is
   ``encrypt_and_sign`` alone, what is left once the pools were filled ahead (issue 14's
   agent target is about this part).
4. **Ingestion**: ``--clients`` processes send the pre-built submissions concurrently over
   gRPC on loopback, starting together. Each submission goes as its own participant sends
   it: a new channel with that member's client certificate (a TLS handshake per submission),
   a Submit call signed by its identity key, the receipt checked. The coordinator's CPU
   (``/proc/<pid>/stat``) and peak RSS (``VmHWM``) are read around this phase only.
5. **Release**: the t = 2 trustees poll once while the campaign is open (``trustee run
   --once`` prefetches the log and verifies each new submission once, agent/verified.py),
   timed on its own; then ``coordinator campaign close`` (a process) and the trustees'
   ``trustee run --once`` side by side, round after round, until the campaign is released,
   then the round in which they sign the result ("close to release" and "after close").
   Released sums are checked against the exact sum of the plaintext figures; the script
   exits 1 if they differ or a submission failed.

Figures are in units of **P**, one plain ``phe`` 2048-bit encryption
(``PaillierPublicKey.encrypt`` of an int: one full-length r^n mod n^2), timed (CPU) in the
same run around every phase (start, each backend's build, send and release, end), median of
all samples (``P_samples_ms`` in ``--json``); the issue's unit, one raw
``gmpy2.powmod(r, n, n^2)``, is printed beside it. CPU figures are CPU time, not wall time,
so other jobs on the shared cores inflate them much less than throughput.

Trustee CPU is printed for the prefetch poll and for the runs after close, each as measured
and net of one ``trustee run --once`` start-up per run (interpreter, imports, store, one
poll; measured by a run with nothing to do before any submission), which does not grow
with N.

``--profile`` starts the coordinator under ``benchmarks/profiled_coordinator.py`` (cProfile
around every ``SubmissionDesk.accept``) and every ``trustee run`` under cProfile, and prints
where the time goes per submission: in the coordinator's accept path, and in the first
trustee's prefetch poll and its runs after close.

Process start-up and enrolment go through ``fedcarbon_cli``, ``start_coordinator`` and
``connect``; every client call carries one party's ``Credentials``.
"""

import argparse
import functools
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
import threading
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


class HighWater:
    """A child's own peak RSS: ``VmHWM`` polled from /proc while it runs.

    ``wait4``'s ``ru_maxrss`` cannot tell: Linux carries the high-water mark of the memory a
    process had before ``exec`` over to the new program, and a child forked (or vforked) by
    this benchmark process starts with this process's, so every child's ``ru_maxrss`` came
    out as this process's size. ``VmHWM`` belongs to the program's own memory. Polled every
    ``interval`` s until the child exits, so a peak in its last moments may be missed.
    """

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.peak_kb = 0
        self._path = Path(f"/proc/{pid}/status")
        self._interval = interval
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while True:
            try:
                text = self._path.read_text()
            except OSError:
                return  # reaped
            found = [line for line in text.splitlines() if line.startswith("VmHWM:")]
            if not found:
                return  # exited: a zombie has no memory left
            self.peak_kb = max(self.peak_kb, int(found[0].split()[1]))
            time.sleep(self._interval)

    def mb(self) -> float:
        self._thread.join()
        return self.peak_kb / 1024


@dataclass
class Measured:
    process: "subprocess.Popen[bytes]"
    high_water: HighWater


def run_measured(argv: Sequence[str]) -> Measured:
    process = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_child_env()
    )
    return Measured(process, HighWater(process.pid))


def wait_measured(measured: Measured, started: float) -> Finished:
    """Reap the child with ``wait4`` to get its own CPU time; its peak RSS from ``HighWater``."""
    process = measured.process
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    peak_mb = measured.high_water.mb()  # before wait4: a reaped child's /proc entry is gone
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Finished(
        process.returncode,
        usage.ru_utime + usage.ru_stime,
        time.monotonic() - started,
        peak_mb,
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


def start_coordinator(
    home: Path, database_url: str, *, profile_to: Path | None, insecure: bool
) -> Coordinator:
    """``coordinator init`` (its CA and server certificate, or ``--insecure``) then
    ``coordinator serve`` as its own process on a free loopback port."""
    fedcarbon_cli(
        "coordinator", "init", "--home", str(home), "--listen", "127.0.0.1:0",
        "--database-url", database_url, *(["--insecure"] if insecure else []),
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


@dataclass(frozen=True)
class Credentials:
    """What one party dials the coordinator with, as plain bytes (picklable for the senders).

    Over TLS: the federation CA, the party's client certificate and TLS key; always: its
    participant id and Ed25519 identity key, which sign every call (docs/tls.md).
    """

    insecure: bool
    ca_certificate: bytes = b""
    certificate: bytes = b""
    private_key: bytes = b""
    participant_id: str = ""
    identity: bytes = b""  # raw Ed25519 private key; empty for an enrolment channel

    def client_credentials(self) -> Any:
        from fedcarbon.transport import ClientCredentials

        identity = Ed25519PrivateKey.from_private_bytes(self.identity) if self.identity else None
        return ClientCredentials(
            ca_certificate=self.ca_certificate,
            certificate=self.certificate,
            private_key=self.private_key,
            participant_id=self.participant_id,
            identity=identity,
            insecure=self.insecure,
        )


def connect(address: str, credentials: Any) -> Any:
    """A client to the coordinator as one party: mutual TLS (or plaintext if ``insecure``),
    every call signed by that party's identity key. ``credentials`` is a ``Credentials`` or
    a ``fedcarbon.transport.ClientCredentials``."""
    from agent.client import CoordinatorClient

    if isinstance(credentials, Credentials):
        credentials = credentials.client_credentials()
    return CoordinatorClient(address, credentials, timeout=120)


# ---------------------------------------------------------------------------------------
# The unit P, measured in this run.


# Every measurement of P in this run: (phe encrypt, gmpy2 powmod), CPU seconds each.
P_SAMPLES: list[tuple[float, float]] = []


def sample_p() -> None:
    """Measure P once more. On the shared machine one CPU second is not always the same work
    (the two cores are hyperthreads of a host that others load): a P measured only at the
    start and the end once came out 1.7x the others of the day, so P is measured around every
    phase and the median of all samples is the unit."""
    P_SAMPLES.append(measure_p(15))


@functools.cache
def _p_key() -> paillier.PaillierPublicKey:
    return paillier.generate_paillier_keypair(n_length=KEY_BITS)[0]


def measure_p(repeats: int = 25) -> tuple[float, float]:
    """(median CPU s of one phe encryption, median CPU s of one gmpy2 powmod(r, n, n^2))."""
    public = _p_key()
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
    insecure: bool
    trustees: list[str] = field(default_factory=list)
    _invites: int = 0
    profile_dir: Path | None = None  # --profile: each trustee run under cProfile, here

    def trustee_home(self, index: int) -> Path:
        return self.root / f"trustee-{index + 1}"

    def trustee_client(self) -> Any:
        """A client with the first trustee's credentials (it sees every campaign)."""
        from fedcarbon.transport import home_credentials

        return connect(self.coordinator.address, home_credentials(self.trustee_home(0)))

    def invite(self, role: str) -> Path:
        """``coordinator token issue --invite``: token, CA and enrolment certificate in a file."""
        self._invites += 1
        path = self.root / "invites" / f"{role}-{self._invites}.json"
        self.operator(
            "token", "issue", "--role", role, "--invite", str(path),
            "--coordinator-address", self.coordinator.address,
        )  # fmt: skip
        return path

    def enrolment_args(self, role: str) -> list[str]:
        """How a trustee enrols: an invite over TLS, or a bare token in plaintext."""
        if self.insecure:
            token = self.tokens(role, 1)[0]
            return ["--coordinator", self.coordinator.address, "--token", token, "--insecure"]
        return ["--invite", str(self.invite(role))]

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

    for index in range(TRUSTEES):
        document = fedcarbon_json(
            "trustee", "init", "--home", str(fed.trustee_home(index)),
            "--organisation", f"Bench Trustee {index + 1}", *fed.enrolment_args("trustee"),
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
    credentials: Credentials  # its own client certificate and TLS key, its identity


def _enrolment_credentials(fed: Federation, token: str) -> tuple[Credentials, bytes]:
    """(credentials of the Enrol call, the member's own TLS key as PEM; b"" in plaintext).

    Over TLS this is what an operator and ``agent init --invite`` do: the operator writes an
    invite for the token (an enrolment certificate with CN ``enrol:<token id>``,
    coordinator/pki.py), the member makes its own TLS key and dials with the invite's
    certificate. Done here without one ``fedcarbon`` command per member, to keep set-up
    short at N = 1,000; set-up is not measured.
    """
    if fed.insecure:
        return Credentials(insecure=True), b""
    from coordinator.config import load_config
    from coordinator.pki import load_client_ca, write_invite
    from fedcarbon import tls
    from fedcarbon.invite import load_invite

    config = load_config(fed.coordinator.home)
    path = fed.root / "invites" / f"member-{secrets.token_hex(8)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_invite(config, load_client_ca(config), token, "supplier", fed.coordinator.address, path)
    invite = load_invite(path)
    key_pem = tls.key_to_pem(tls.generate_key())
    return (
        Credentials(
            insecure=False,
            ca_certificate=invite.ca_certificate.encode(),
            certificate=invite.enrolment_certificate.encode(),
            private_key=invite.enrolment_key.encode(),
        ),
        key_pem,
    )


def enrol_members(fed: Federation, count: int) -> list[Member]:
    """``count`` suppliers enrol with their own identity keys, TLS keys and legal ids (each
    over its own invite's channel); two trustees attest each."""
    from agent.demo_data import demo_legal_id
    from fedcarbon import tls

    members = []
    for index, token in enumerate(fed.tokens("supplier", count)):
        enrolling, key_pem = _enrolment_credentials(fed, token)
        identity = Ed25519PrivateKey.generate()
        tls_public = tls.public_key_der(tls.load_private_key(key_pem)) if key_pem else b""
        with connect(fed.coordinator.address, enrolling) as client:
            result = client.enrol(
                token=token,
                organisation=f"Bench Member {index:05d}",
                identity=identity,
                legal_id=demo_legal_id(f"bench-member-{index}"),
                tls_public_key=tls_public,
            )
        if not fed.insecure and not result.client_certificate:
            raise RuntimeError(f"{result.participant_id}: enrolled without a client certificate")
        own = Credentials(
            insecure=fed.insecure,
            ca_certificate=enrolling.ca_certificate,
            certificate=result.client_certificate,
            private_key=key_pem,
            participant_id=result.participant_id,
            identity=identity.private_bytes_raw(),
        )
        members.append(Member(result.participant_id, identity.private_bytes_raw(), index, own))
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
    credentials: Credentials
    pool_cpu_s: float  # filling the submission's CampaignPools (masks, proof commitments)
    prepare_cpu_s: float  # metric values, fixed point, offsets, indicators
    online_cpu_s: float  # encrypt_and_sign with the filled pools: what is left to do

    @property
    def cpu_s(self) -> float:
        """All the agent's CPU for this submission (footprint excluded)."""
        return self.pool_cpu_s + self.prepare_cpu_s + self.online_cpu_s


def _build(campaign_proto: bytes, members: Sequence[Member], companies: int) -> list[Built]:
    """One agent process's share of the submissions, on ``agent submit``'s code path.

    ``agent submit`` fills a ``CampaignPools`` (one encryption mask and one proof commitment
    per ciphertext, fedcarbon/shares.py) on background threads while it computes the
    footprint, then runs ``encrypt_and_sign`` with it. Here each part is timed on its own, in
    this process's CPU time: the pools filled in this thread (all their CPU, which an agent
    spends whether or not the other core hides it), ``prepare``, and ``encrypt_and_sign``
    with the filled pools (the *online* part: Shamir shares, one multiplication per
    ciphertext, the proofs' responses, Ed25519).
    """
    from agent.contribution import encrypt_and_sign, prepare
    from agent.demo_data import generated_cohort, records_for
    from fedcarbon import serde, shares
    from fedcarbon.accounting.engine import compute_footprint
    from fedcarbon.v1 import campaign_pb2

    campaign = serde.campaign_from_proto(campaign_pb2.Campaign.FromString(campaign_proto))
    cohort = generated_cohort(companies)
    built = []
    for member in members:
        footprint = compute_footprint(records_for(cohort[member.company_index]))  # not timed
        identity = Ed25519PrivateKey.from_private_bytes(member.identity)
        pools = shares.CampaignPools(campaign)
        started = time.process_time()
        for pair in pools.pools:
            for pool in pair:
                pool.fill()
        filled = time.process_time()
        contribution = prepare(footprint, campaign)
        prepared = time.process_time()
        signed = encrypt_and_sign(contribution, member.participant_id, identity, pools)
        done = time.process_time()
        left = sum(len(pool) for pair in pools.pools for pool in pair)
        pools.close()
        if left:
            raise RuntimeError(f"{left} pool entries unused: the pools were not what it took")
        built.append(
            Built(
                member.participant_id,
                signed.body,
                signed.signature,
                tuple(contribution.fixed),
                member.credentials,
                filled - started,
                prepared - filled,
                done - prepared,
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
    items: Sequence[tuple[bytes, bytes, Credentials]],
    ready: Any,
    out: Any,
) -> None:
    """Send each submission as its own participant would: a new channel with that member's
    client certificate (a full TLS 1.3 handshake with client authentication, unless
    insecure), a signed Submit call, the receipt checked, the channel closed."""
    from fedcarbon import serde
    from fedcarbon.submission import SignedSubmission

    failures: list[str] = []
    latencies: list[float] = []
    prepared = [(SignedSubmission(b, s), c.client_credentials()) for b, s, c in items]
    ready.wait()
    cpu = time.process_time()
    started = time.monotonic()
    for signed, credentials in prepared:
        sent = time.monotonic()
        try:
            with connect(address, credentials) as client:
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
    items = [(b.body, b.signature, b.credentials) for b in built]
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
    prefetch: list[Finished]  # one poll while the campaign is open: verify what arrived
    close: Finished
    rounds: list[list[Finished]]  # rounds until released, each trustee's run
    sign_round: list[Finished]
    idle_run: Finished  # one trustee run with nothing to do: start-up cost
    close_to_release_s: float

    @property
    def trustee_cpu_s(self) -> float:
        """Per trustee (mean over the t trustees), every round after close including signing."""
        runs = [*(r for rnd in self.rounds for r in rnd), *self.sign_round]
        return sum(r.cpu_s for r in runs) / THRESHOLD

    @property
    def prefetch_cpu_s(self) -> float:
        """Per trustee (mean over the t trustees), the poll while the campaign was open."""
        return sum(r.cpu_s for r in self.prefetch) / THRESHOLD


# ``python -c`` program: run the fedcarbon CLI under cProfile on the process's CPU clock.
PROFILED_CLI = (
    "import cProfile, sys, time\n"
    "from fedcarbon.cli import main\n"
    "profiler = cProfile.Profile(time.process_time)\n"
    "out, sys.argv = sys.argv[1], ['fedcarbon', *sys.argv[2:]]\n"
    "profiler.enable()\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    profiler.disable()\n"
    "    profiler.dump_stats(out)\n"
)


def trustee_round(fed: Federation, label: str) -> list[Finished]:
    """The t trustees each run ``trustee run --once``, side by side (they are separate hosts).

    With ``fed.profile_dir`` each run is profiled into ``<label>-<trustee>.prof`` there.
    """
    started = time.monotonic()
    running = []
    for i in range(THRESHOLD):
        command = ["trustee", "run", "--once", "--home", str(fed.trustee_home(i))]
        if fed.profile_dir is None:
            argv = fedcarbon_command(*command)
        else:
            out = fed.profile_dir / f"{label}-{i + 1}.prof"
            argv = [sys.executable, "-c", PROFILED_CLI, str(out), *command]
        running.append(run_measured(argv))
    finished = [wait_measured(p, started) for p in running]
    for run in finished:
        if run.returncode != 0:
            raise RuntimeError(f"trustee run failed:\n{run.output}")
    return finished


def campaign_state(fed: Federation) -> str:
    with fed.trustee_client() as client:
        return str(client.get_result(CAMPAIGN).state.value)


def close_and_release(fed: Federation, idle_run: Finished) -> Release:
    """One trustee poll while the campaign is open (``trustee run`` prefetches the log and
    verifies every new submission once, agent/verified.py), then close and release; the
    prefetch is timed apart from close-to-release."""
    prefetch = trustee_round(fed, "prefetch")
    if campaign_state(fed) != "open":
        raise RuntimeError("the campaign left the open state during the prefetch poll")
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
    rounds: list[list[Finished]] = []
    while campaign_state(fed) != "released":
        if len(rounds) >= 4:
            raise RuntimeError(f"not released after {len(rounds)} trustee rounds")
        rounds.append(trustee_round(fed, f"round{len(rounds) + 1}"))
    released = time.monotonic() - started
    return Release(prefetch, close, rounds, trustee_round(fed, "sign"), idle_run, released)


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
    with fed.trustee_client() as client:
        result = client.get_result(CAMPAIGN)
    expected = [sum(b.fixed[i] for b in built) for i in range(len(METRICS))]
    got = [m.sum_fixed for m in result.metrics]
    if result.contributors != len(built):
        return False, f"{result.contributors} contributors released, {len(built)} sent"
    if got != expected:
        return False, f"released sums {got} differ from the plaintext sums {expected}"
    return True, f"{len(METRICS)} sums over {len(built)} contributors equal the plaintext sums"


def transport_name(insecure: bool) -> str:
    return "plaintext (--insecure)" if insecure else "mutual TLS"


@dataclass
class Outcome:
    backend: str
    transport: str
    n: int
    built: list[Built]
    sent: Sent
    release: Release
    rss_before_mb: float
    peak_rss_mb: float
    bytes_per_submission: float
    check: str
    ok: bool
    # --profile: pstats' tables of the coordinator's accept calls and trustee 1's runs
    profile: dict[str, dict[Any, Any]]


def merged_stats(paths: Sequence[Path]) -> dict[Any, Any]:
    import pstats

    stats = pstats.Stats(str(paths[0]))
    for path in paths[1:]:
        stats.add(str(path))
    return stats.stats  # type: ignore[attr-defined,no-any-return]


def run_backend(backend: str, database_url: str, args: argparse.Namespace, root: Path) -> Outcome:
    home = root / "coordinator"
    home.mkdir(parents=True)
    profile_to = root / "accept.prof" if args.profile else None
    transport = transport_name(args.insecure)
    print(
        f"[{backend}] starting the coordinator ({transport}) and {TRUSTEES} trustees",
        file=sys.stderr,
    )
    coordinator = start_coordinator(
        home, database_url, profile_to=profile_to, insecure=args.insecure
    )
    fed = Federation(root, coordinator, args.insecure)
    if args.profile:
        fed.profile_dir = root / "trustee-profiles"
        fed.profile_dir.mkdir()
    try:
        set_up_trustees(fed)
        print(f"[{backend}] enrolling and attesting {args.n} members", file=sys.stderr)
        members = enrol_members(fed, args.n)
        open_campaign(fed)
        with fed.trustee_client() as client:
            from fedcarbon import serde

            campaign = client.get_campaign(CAMPAIGN)
        proto = serde.campaign_to_proto(campaign).SerializeToString()
        print(f"[{backend}] agents build {args.n} submissions", file=sys.stderr)
        sample_p()
        built = build_submissions(proto, members, args.agents)
        sample_p()
        idle = trustee_round(fed, "idle")  # nothing to do yet: a run's start-up cost
        before = stored_bytes(database_url, home)
        rss_before = coordinator.memory_mb("VmRSS")
        print(f"[{backend}] {args.clients} clients send", file=sys.stderr)
        sent = send_all(coordinator, built, args.clients)
        sample_p()
        peak = coordinator.memory_mb("VmHWM")
        after = stored_bytes(database_url, home)
        print(f"[{backend}] close, trustees release", file=sys.stderr)
        release = close_and_release(fed, min(idle, key=lambda r: r.cpu_s))
        sample_p()
        ok, check = released_matches(fed, built)
        if sent.failures:
            ok, check = False, f"{len(sent.failures)} submissions failed: {sent.failures[:3]}"
    finally:
        coordinator.stop()
    profile: dict[str, dict[Any, Any]] = {}
    if profile_to is not None and profile_to.exists():
        profile["coordinator"] = merged_stats([profile_to])
    if fed.profile_dir is not None:
        runs = sorted(fed.profile_dir.glob("*-1.prof"))  # the first trustee's runs
        prefetch = [r for r in runs if r.name.startswith("prefetch")]
        closing = [r for r in runs if r.name.startswith(("round", "sign"))]
        if prefetch:
            profile["trustee prefetch"] = merged_stats(prefetch)
        if closing:
            profile["trustee after close"] = merged_stats(closing)
    return Outcome(
        backend,
        transport,
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
    """Every figure of one backend's run; CPU figures per submission in units of P."""
    n = outcome.n
    built = outcome.built
    release = outcome.release
    runs = len(release.rounds) + 1  # rounds until released, then the signing round
    startup = release.idle_run.cpu_s
    release_net = max(0.0, release.trustee_cpu_s - runs * startup)
    prefetch_net = max(0.0, release.prefetch_cpu_s - startup)
    trustee_total = release.trustee_cpu_s + release.prefetch_cpu_s

    def median(values: Sequence[float]) -> float:
        return statistics.median(values) / p

    return {
        "n": n,
        "transport": outcome.transport,
        "submissions_per_s": n / outcome.sent.wall_s,
        "coordinator_cpu_per_submission_over_P": outcome.sent.coordinator_cpu_s / n / p,
        # The agent: all its CPU per submission (pools filled + prepare + online) ...
        "agent_cpu_per_submission_over_P": median([b.cpu_s for b in built]),
        "agent_cpu_per_submission_mean_over_P": statistics.mean(b.cpu_s for b in built) / p,
        # ... and its parts; "online" = encrypt_and_sign with a filled CampaignPools.
        "agent_online_cpu_per_submission_over_P": median([b.online_cpu_s for b in built]),
        "agent_pool_fill_cpu_per_submission_over_P": median([b.pool_cpu_s for b in built]),
        "agent_prepare_cpu_per_submission_over_P": median([b.prepare_cpu_s for b in built]),
        # Trustees (each, mean of the t): prefetch while open + every run after close.
        "trustee_cpu_per_submission_over_P": trustee_total / n / p,
        "trustee_prefetch_cpu_per_submission_over_P": release.prefetch_cpu_s / n / p,
        "trustee_prefetch_cpu_net_of_startup_per_submission_over_P": prefetch_net / n / p,
        "trustee_after_close_cpu_per_submission_over_P": release.trustee_cpu_s / n / p,
        "trustee_after_close_cpu_net_of_startup_per_submission_over_P": release_net / n / p,
        "trustee_after_close_cpu_s": release.trustee_cpu_s,
        "trustee_prefetch_cpu_s": release.prefetch_cpu_s,
        "trustee_prefetch_wall_s": max(r.wall_s for r in release.prefetch),
        "trustee_runs_after_close": runs,
        "trustee_startup_cpu_s": startup,
        "close_to_release_s": release.close_to_release_s,
        "close_s": release.close.wall_s,
        "close_cpu_s": release.close.cpu_s,
        "close_peak_rss_mb": release.close.max_rss_mb,
        "release_round_wall_s": [max(r.wall_s for r in rnd) for rnd in release.rounds],
        "trustee_peak_rss_mb": max(
            r.max_rss_mb for rnd in [release.prefetch, *release.rounds] for r in rnd
        ),
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
    ("agent CPU per submission / P, total (median)", "agent_cpu_per_submission_over_P", "{:.3f}"),
    (
        "  online: encrypt_and_sign, pools filled before",
        "agent_online_cpu_per_submission_over_P",
        "{:.3f}",
    ),
    (
        "  filling the CampaignPools (background in agent submit)",
        "agent_pool_fill_cpu_per_submission_over_P",
        "{:.3f}",
    ),
    ("  prepare (metric values, encoding)", "agent_prepare_cpu_per_submission_over_P", "{:.4f}"),
    ("trustee CPU per submission / P (each), total", "trustee_cpu_per_submission_over_P", "{:.3f}"),
    (
        "  prefetch poll while open, as measured",
        "trustee_prefetch_cpu_per_submission_over_P",
        "{:.3f}",
    ),
    (
        "  same, net of one run's start-up",
        "trustee_prefetch_cpu_net_of_startup_per_submission_over_P",
        "{:.3f}",
    ),
    (
        "  after close (release + sign), as measured",
        "trustee_after_close_cpu_per_submission_over_P",
        "{:.3f}",
    ),
    (
        "  same, net of run start-ups",
        "trustee_after_close_cpu_net_of_startup_per_submission_over_P",
        "{:.3f}",
    ),
    ("client CPU per submission / P (senders)", "client_cpu_per_submission_over_P", "{:.3f}"),
    ("submit latency, median ms (with connect)", "submit_latency_median_ms", "{:,.1f}"),
    ("trustee prefetch poll, s (wall)", "trustee_prefetch_wall_s", "{:.2f}"),
    ("close to release, s (wall)", "close_to_release_s", "{:.2f}"),
    ("  of which close (process), s", "close_s", "{:.2f}"),
    ("coordinator peak RSS, MB", "peak_rss_mb", "{:,.0f}"),
    ("  RSS before sending, MB", "rss_before_send_mb", "{:,.0f}"),
    ("`campaign close` peak RSS, MB", "close_peak_rss_mb", "{:,.0f}"),
    ("trustee run peak RSS, MB (largest run)", "trustee_peak_rss_mb", "{:,.0f}"),
    ("bytes stored per submission", "bytes_stored_per_submission", "{:,.0f}"),
)


def print_table(
    results: dict[str, dict[str, Any]], p: float, p_powmod: float, transport: str
) -> None:
    names = list(results)
    print(
        f"\nwhole submission path: {KEY_BITS}-bit keys, t = {THRESHOLD} of {TRUSTEES}, "
        f"{len(METRICS)} metrics; {transport}; P = one phe encrypt = {p * 1000:.2f} ms CPU "
        f"(median of {len(P_SAMPLES)} samples, {min(x[0] for x in P_SAMPLES) * 1000:.2f} to "
        f"{max(x[0] for x in P_SAMPLES) * 1000:.2f} ms) "
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
                f"trustee run start-up {r['trustee_startup_cpu_s']:.2f} s CPU; "
                f"{r['trustee_runs_after_close']} runs each after close, 1 before"
            )


IMPORT_FRAMES = {
    "<module>",
    "<built-in method builtins.exec>",
    "<built-in method builtins.__import__>",
    "<built-in method builtins.__build_class__>",
    "import_module",
    "_register",
    "load",
    "main",
    "__call__",
}


def _import_machinery(filename: str, name: str) -> bool:
    """Rows that are imports and CLI start-up, left out of the trustees' tables."""
    return filename.startswith("<frozen") or name in IMPORT_FRAMES


def print_profile(backend: str, what: str, stats: dict[Any, Any], n: int, p: float) -> None:
    """The costliest functions of one profile, per submission, in P.

    The coordinator's profile is of ``SubmissionDesk.accept`` on each gRPC thread's CPU
    clock (``time.thread_time``), so waiting for the GIL or a lock does not count; the
    trustee's (the first trustee's runs, merged) is on its process's CPU clock. Profiling
    overhead counts in both, so read shares more than totals.
    """
    clock = "thread CPU" if what == "coordinator" else "process CPU"
    left_out = "" if what == "coordinator" else ", imports and CLI start-up left out"
    print(f"\n{backend}: {what} profile, cumulative {clock} per submission (cProfile{left_out})")
    print("| function | calls / submission | cumulative / P | own / P |")
    print("|---|---:|---:|---:|")
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.items():
        if what != "coordinator" and _import_machinery(filename, name):
            continue  # start-up: the same per run whatever N (see the start-up row)
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
        "--profile",
        action="store_true",
        help="cProfile the coordinator's accept path and the first trustee's runs",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="plaintext gRPC (coordinator serve --insecure) instead of mutual TLS, to compare",
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

    sample_p()
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
    sample_p()
    p = statistics.median(sample[0] for sample in P_SAMPLES)
    p_powmod = statistics.median(sample[1] for sample in P_SAMPLES)
    results: dict[str, dict[str, Any]] = {
        name: figures(outcome, p) for name, outcome in outcomes.items()
    }
    results.update({name: {"skipped": why} for name, why in skipped.items()})
    ok = all(o.ok for o in outcomes.values())
    if args.json:
        document: dict[str, Any] = {
            "P_s": p,
            "P_powmod_s": p_powmod,
            "P_samples_ms": [round(sample[0] * 1000, 3) for sample in P_SAMPLES],
            "key_bits": KEY_BITS,
            "clients": args.clients,
            "transport": transport_name(args.insecure),
            "load_average": os.getloadavg(),
            **results,
        }
        print(json.dumps(document, indent=2))
    else:
        print_table(results, p, p_powmod, transport_name(args.insecure))
    for name, outcome in outcomes.items():
        for what, stats in outcome.profile.items():
            if not args.json:
                print_profile(name, what, stats, outcome.n, p)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"\nbenchmark process: {usage.ru_utime + usage.ru_stime:.1f} s CPU", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
