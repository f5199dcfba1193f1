"""``fedcarbon demo``: a whole federation on loopback, end to end, checked against plaintext.

It starts a coordinator, three trustees and seven agents (six suppliers and a buyer) as
separate processes talking gRPC over 127.0.0.1, using only the public CLI, exactly as the
operators, suppliers and trustees would. Three tiers: first the tier-1 assembler asks its own
suppliers (tier 2) in a supply-chain campaign and includes the released total upstream; then
the OEM's supply-chain campaign (its Scope 3 over its direct suppliers, the assembler's share
of its suppliers' emissions included) and a benchmark campaign (carbon intensity of the
cohort). It checks the released figures against sums computed here, in the demo's own process,
from the same activity files (for the OEM, over the whole tree): the only place where
plaintext figures of several companies meet.
"""

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from agent.demo_data import (
    BUYER,
    COMPANIES,
    YEAR,
    Company,
    demo_legal_id,
    records_for,
    write_company_data,
)
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.pcf import cradle_to_gate_kgco2e
from fedcarbon.accounting.records import read_activity_csv
from fedcarbon.campaign import CampaignKind
from fedcarbon.console import fail, kg, table
from fedcarbon.crypto.encoding import to_fixed
from fedcarbon.metrics import CATALOGUE, metric_values

SUPPLY_CHAIN_METRICS = ("delivered_to_buyer_kgco2e", "participants")
BENCHMARK_METRICS = (
    "intensity_kgco2e_per_t",
    "scope1_kgco2e",
    "scope2_market_kgco2e",
    "output_t",
    "participants",
)
# The noised benchmark: bounds are the sensitivity, so they are set tight (kg CO2e per tonne).
DP_METRICS = ("intensity_kgco2e_per_t:0:1000", "participants")
STEP_TIMEOUT_S = 300
# Tier 1 runs its own supply-chain campaign over its suppliers (tier 2) and carries the
# released total up to the OEM: three tiers (agent.upstream).
TIER1_BUYER = "danube"
MANIFEST_FILE = "federation-manifest.json"
MIN_ATTESTATIONS = 2  # distinct trustees that attest each member


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


@dataclass
class Federation:
    workdir: Path
    console: Console
    address: str = ""
    coordinator: subprocess.Popen[bytes] | None = None
    participants: dict[str, str] = field(default_factory=dict)  # company key -> participant id
    trustees: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    invites: int = 0

    def cli(self, *args: str) -> str:
        """Run one `fedcarbon` command in its own process; return its stdout."""
        command = [sys.executable, "-m", "fedcarbon", *args]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=STEP_TIMEOUT_S, cwd=self.workdir
        )
        if done.returncode != 0:
            raise DemoError(
                f"`fedcarbon {' '.join(args[:3])} ...` failed (exit {done.returncode}): "
                + (done.stderr.strip() or done.stdout.strip())[-2000:]
            )
        return done.stdout

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json"))

    def step(self, text: str) -> None:
        self.console.print(f"[green]✓[/] {text}")


def _start_coordinator(fed: Federation) -> None:
    home = fed.workdir / "coordinator"
    fed.cli("coordinator", "init", "--home", str(home), "--listen", "127.0.0.1:0")
    port_file = home / "port"
    log = (home / "coordinator.log").open("wb")
    fed.coordinator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fedcarbon",
            "coordinator",
            "serve",
            "--home",
            str(home),
            "--port-file",
            str(port_file),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=fed.workdir,
    )
    deadline = time.monotonic() + 60
    while not port_file.exists():
        if fed.coordinator.poll() is not None or time.monotonic() > deadline:
            raise DemoError(f"the coordinator did not start; see {home / 'coordinator.log'}")
        time.sleep(0.1)
    fed.address = f"127.0.0.1:{port_file.read_text().strip()}"
    fed.step(
        f"coordinator listening on {fed.address} over mutual TLS, its private CA made by "
        f"`coordinator init` (SQLite in {home})"
    )


def _tokens(fed: Federation, role: str, count: int) -> list[str]:
    """Invites (token, CA certificate, enrolment certificate), one file per participant."""
    home = str(fed.workdir / "coordinator")
    paths = []
    for _ in range(count):
        fed.invites += 1
        path = fed.workdir / "invites" / f"{role}-{fed.invites}.json"
        fed.cli(
            "coordinator", "token", "issue", "--role", role, "--home", home,
            "--invite", str(path), "--coordinator-address", fed.address,
        )  # fmt: skip
        paths.append(str(path))
    return paths


def _enrol_everyone(fed: Federation, trustees: int) -> None:
    trustee_tokens = _tokens(fed, "trustee", trustees)

    def trustee(index: int) -> str:
        return str(
            fed.cli_json(
                "trustee",
                "init",
                "--home",
                str(fed.workdir / f"trustee-{index + 1}"),
                "--organisation",
                f"Trustee {index + 1} (independent key holder)",
                "--invite",
                trustee_tokens[index],
            )["participant_id"]
        )

    with ThreadPoolExecutor(3) as pool:
        fed.trustees = list(pool.map(trustee, range(trustees)))
    fed.step(f"{trustees} trustees enrolled: {', '.join(fed.trustees)}")
    _write_manifest(fed)

    buyer = next(c for c in COMPANIES if c.role == "buyer")
    fed.participants[buyer.key] = _init_agent(fed, buyer, _tokens(fed, "buyer", 1)[0], {})
    aliases = {fed.participants[buyer.key]: BUYER}
    # The tier-1 supplier that asks its own suppliers enrols first, so they can name it.
    tier1 = _company(TIER1_BUYER)
    fed.participants[tier1.key] = _init_agent(fed, tier1, _tokens(fed, "supplier", 1)[0], aliases)
    aliases[fed.participants[tier1.key]] = tier1.organisation
    suppliers = [c for c in COMPANIES if c.role == "supplier" and c.key != tier1.key]
    tokens = _tokens(fed, "supplier", len(suppliers))
    with ThreadPoolExecutor(3) as pool:
        ids = list(
            pool.map(
                lambda pair: _init_agent(fed, pair[0], pair[1], aliases),
                zip(suppliers, tokens, strict=True),
            )
        )
    fed.participants.update({c.key: pid for c, pid in zip(suppliers, ids, strict=True)})
    fed.step(
        f"{len(suppliers) + 1} suppliers and the buyer enrolled with single-use invites, each "
        "with a TLS key made on its own premises"
    )
    _attest_everyone(fed)


def _trustee_home(fed: Federation, index: int) -> str:
    return str(fed.workdir / f"trustee-{index + 1}")


def _write_manifest(fed: Federation) -> None:
    """The trustees write the federation manifest, each signs it; everyone pins it."""
    count = len(fed.trustees)

    def entry(index: int) -> list[str]:
        path = fed.workdir / f"trustee-{index + 1}.entry.json"
        fed.cli(
            "trustee", "manifest", "entry", "--home", _trustee_home(fed, index),
            "--legal-id", demo_legal_id(f"trustee-{index + 1}"), "--out", str(path),
        )  # fmt: skip
        return ["--trustee", str(path)]

    with ThreadPoolExecutor(3) as pool:
        entries = [arg for pair in pool.map(entry, range(count)) for arg in pair]
    manifest = fed.workdir / MANIFEST_FILE
    fed.cli(
        "trustee", "manifest", "draft", "--federation", "fedcarbon-demo", *entries,
        "--min-attestations", str(MIN_ATTESTATIONS), "--out", str(manifest),
    )  # fmt: skip
    for index in range(count):  # one after the other: each adds its signature to the file
        fed.cli("trustee", "manifest", "sign", str(manifest), "--home", _trustee_home(fed, index))
    home = str(fed.workdir / "coordinator")
    with ThreadPoolExecutor(3) as pool:
        list(
            pool.map(
                lambda args: fed.cli(*args),
                [
                    ("trustee", "manifest", "pin", str(manifest), "--home", _trustee_home(fed, i))
                    for i in range(count)
                ]
                + [("coordinator", "manifest", "install", str(manifest), "--home", home)],
            )
        )
    fingerprint = fed.cli_json("audit", "verify", "manifest", str(manifest))["fingerprint"]
    fed.step(
        f"federation manifest signed by all {count} trustees (fingerprint "
        f"{fingerprint[:16]}), pinned by trustees and installed by the operator"
    )


def _attest_everyone(fed: Federation) -> None:
    """Trustees check each member's claimed legal identity and attest it."""

    def approve(index: int) -> str:
        home = _trustee_home(fed, index)
        return fed.cli("trustee", "approve", "--yes", "--home", home, "--json")

    with ThreadPoolExecutor(MIN_ATTESTATIONS) as pool:
        list(pool.map(approve, range(MIN_ATTESTATIONS)))
    fed.step(
        f"every member's legal identity attested by {MIN_ATTESTATIONS} trustees: "
        "k counts distinct attested legal entities"
    )


def _init_agent(fed: Federation, company: Company, token: str, aliases: dict[str, str]) -> str:
    home = fed.workdir / "agents" / company.key
    write_company_data(company, home / "activities.csv")
    args = [
        "agent",
        "init",
        "--home",
        str(home),
        "--organisation",
        company.organisation,
        "--sector",
        company.sector,
        "--region",
        company.region,
        "--size-band",
        company.size_band,
        "--activities",
        "activities.csv",
        "--invite",
        token,
        "--legal-id",
        demo_legal_id(company.key),
        "--manifest",
        str(fed.workdir / MANIFEST_FILE),
    ]
    for pid, name in aliases.items():
        args += ["--customer", f"{pid}={name}"]
    return str(fed.cli_json(*args)["participant_id"])


def _metric_names(metrics: Sequence[str]) -> tuple[str, ...]:
    return tuple(m.split(":", 1)[0] for m in metrics)


def _campaign_metrics(campaign_id: str, kind: CampaignKind) -> tuple[str, ...]:
    if campaign_id.endswith("-dp"):
        return DP_METRICS
    return SUPPLY_CHAIN_METRICS if kind is CampaignKind.SUPPLY_CHAIN else BENCHMARK_METRICS


def _company(key: str) -> Company:
    return next(c for c in COMPANIES if c.key == key)


def _suppliers_of(buyer: Company) -> list[Company]:
    """The suppliers whose activity data records deliveries to ``buyer``."""
    return [
        c
        for c in COMPANIES
        if c.role == "supplier" and any(line.customer == buyer.organisation for line in c.lines)
    ]


def _buyer_key(campaign_id: str) -> str:
    """Supply-chain campaigns are named scope3-<buyer key>-<year>."""
    return campaign_id.split("-")[1]


def _plan(epsilon: float) -> list[dict[str, CampaignKind]]:
    """Campaigns in stages: first the tier-1 supplier's own supply chain (tier 2 answers), whose
    released total it then includes upstream; then the OEM's supply chain and the benchmarks."""
    later = {
        f"scope3-helix-{YEAR}": CampaignKind.SUPPLY_CHAIN,
        f"benchmark-metals-eu-{YEAR}": CampaignKind.BENCHMARK,
    }
    if epsilon > 0:
        later[f"benchmark-metals-eu-{YEAR}-dp"] = CampaignKind.BENCHMARK
    return [{f"scope3-{TIER1_BUYER}-{YEAR}": CampaignKind.SUPPLY_CHAIN}, later]


def _open_campaigns(
    fed: Federation, bits: int, threshold: int, epsilon: float, stage: int = 0
) -> dict[str, str]:
    keys = fed.workdir / "keys"
    keys.mkdir(exist_ok=True)
    home = str(fed.workdir / "coordinator")
    campaigns = {cid: kind for cid, kind in _plan(epsilon)[stage].items()}
    for campaign_id, kind in campaigns.items():
        started = time.perf_counter()
        statements = []
        for index, _ in enumerate(fed.trustees):
            statement = keys / f"{campaign_id}.trustee-{index + 1}.json"
            fed.cli(
                "trustee",
                "keygen",
                "--campaign",
                campaign_id,
                "--out",
                str(statement),
                "--bits",
                str(bits),
                "--home",
                str(fed.workdir / f"trustee-{index + 1}"),
            )
            statements += ["--key-statement", str(statement)]
        fed.timings[f"trustee keys {campaign_id}"] = time.perf_counter() - started
        metrics = _campaign_metrics(campaign_id, kind)
        args = [
            "coordinator",
            "campaign",
            "create",
            "--home",
            home,
            "--id",
            campaign_id,
            "--kind",
            kind.value,
            *statements,
            "--threshold",
            str(threshold),
            "--period-start",
            f"{YEAR}-01-01",
            "--period-end",
            f"{YEAR}-12-31",
            "--k",
            "3",
            *[a for m in metrics for a in ("--metric", m)],
        ]
        if kind is CampaignKind.SUPPLY_CHAIN:
            buyer = _company(_buyer_key(campaign_id))
            invited = [fed.participants[c.key] for c in _suppliers_of(buyer)]
            args += ["--buyer", fed.participants[buyer.key]]
            args += ["--title", f"{buyer.organisation}: Scope 3 cat. 1 from direct suppliers"]
            args += [a for pid in invited for a in ("--invite", pid)]
        else:
            args += ["--cohort", f"metals/EU/{YEAR}", "--title", "Carbon intensity, metals, EU"]
        if campaign_id.endswith("-dp"):
            args += ["--epsilon", str(epsilon)]
        fed.cli(*args)
    fed.step(
        f"{len(campaigns)} campaign{'s' if len(campaigns) != 1 else ''} opened, dealer-free: "
        f"each of {len(fed.trustees)} trustees "
        f"made its own {bits}-bit Paillier key, any {threshold} open the totals: "
        f"{', '.join(campaigns)}"
    )
    return {cid: kind.value for cid, kind in campaigns.items()}


def _submit_all(fed: Federation) -> dict[str, list[dict[str, Any]]]:
    suppliers = [c for c in COMPANIES if c.role == "supplier"]

    def submit(company: Company) -> list[dict[str, Any]]:
        home = str(fed.workdir / "agents" / company.key)
        return list(fed.cli_json("agent", "submit", "--all-open", "--home", home)["submitted"])

    started = time.perf_counter()
    with ThreadPoolExecutor(3) as pool:
        results = dict(zip((c.key for c in suppliers), pool.map(submit, suppliers), strict=True))
    fed.timings["all agents: compute, encrypt, submit"] = time.perf_counter() - started
    count = sum(len(v) for v in results.values())
    fed.step(f"{count} encrypted submissions accepted, each with a verified log receipt")
    return results


def _include_upstream(fed: Federation, campaigns: dict[str, str]) -> None:
    """Each supplier that was a buyer in a released supply-chain campaign carries it upstream."""
    for campaign_id, kind in campaigns.items():
        buyer = _company(_buyer_key(campaign_id)) if kind == "supply_chain" else None
        if buyer is None or buyer.role != "supplier":
            continue
        home = str(fed.workdir / "agents" / buyer.key)
        fed.cli("agent", "upstream", "include", campaign_id, "--home", home)
        fed.step(
            f"{buyer.organisation} includes the released total of {campaign_id} in what it "
            "delivers to its customer (multi-tier roll-up)"
        )


def _close_and_release(fed: Federation, campaigns: dict[str, str]) -> None:
    home = str(fed.workdir / "coordinator")
    for campaign_id in campaigns:
        fed.cli("coordinator", "campaign", "close", campaign_id, "--home", home)
    fed.step("campaigns closed: ciphertexts added homomorphically, k checked")
    # (noise,) non-zero indicators, values, signatures: each round is one step of every trustee.
    rounds = 4 if any(cid.endswith("-dp") for cid in campaigns) else 3
    for _ in range(rounds):
        for index, _ in enumerate(fed.trustees):
            home = str(fed.workdir / f"trustee-{index + 1}")
            fed.cli("trustee", "run", "--once", "--home", home)
    fed.step(
        "trustees re-verified every signed submission and the aggregate, checked k non-zero "
        "contributors, opened their shares of the totals and signed the release"
    )


def _expected(fed: Federation, campaign_id: str, kind: str) -> dict[str, int]:
    """The same figures in plaintext, summed here: the demo's proof of correctness."""
    metrics = _metric_names(_campaign_metrics(campaign_id, CampaignKind(kind)))
    contributors = [c for c in COMPANIES if c.role == "supplier"]
    buyer = BUYER
    if kind == "supply_chain":
        buyer_company = _company(_buyer_key(campaign_id))
        buyer = buyer_company.organisation
        contributors = _suppliers_of(buyer_company)
    totals = dict.fromkeys(metrics, 0)
    for company in contributors:
        values = _values(_footprint(fed, company), metrics, buyer)
        if kind == "supply_chain" and company.key == TIER1_BUYER:
            # Multi-tier: what its own suppliers delivered to it (summed here, in plaintext,
            # over the tree) joins its cradle-to-gate pool, allocated by the mass it delivers.
            upstream = sum(_delivered(fed, s, company.organisation) for s in _suppliers_of(company))
            own = _footprint(fed, company)
            share = sum(o.quantity for o in own.outputs if o.customer == buyer) / sum(
                o.quantity for o in own.outputs
            )
            values["delivered_to_buyer_kgco2e"] = Decimal(
                repr((cradle_to_gate_kgco2e(own) + upstream) * share)
            )
        for name in metrics:
            totals[name] += to_fixed(values[name], CATALOGUE[name].default_scale)
    return totals


def _footprint(fed: Federation, company: Company) -> Any:
    records, errors = read_activity_csv(fed.workdir / "agents" / company.key / "activities.csv")
    if errors:
        raise DemoError(f"{company.key}: {errors[0]}")
    return compute_footprint(records)


def _delivered(fed: Federation, company: Company, buyer: str) -> float:
    """Plaintext: what ``company`` delivers to ``buyer`` (kg CO2e), rounded as it is sent."""
    value = _values(_footprint(fed, company), ("delivered_to_buyer_kgco2e",), buyer)
    return float(Decimal(to_fixed(value["delivered_to_buyer_kgco2e"], 3)).scaleb(-3))


def _values(footprint: Any, metrics: Sequence[str], buyer: str) -> dict[str, Decimal]:
    """The metrics as an agent computes them; ``buyer`` is the customer name in the data."""
    from fedcarbon.campaign import Campaign, CampaignKey, MetricSpec
    from fedcarbon.crypto.packing import PackingLayout

    # Only the buyer matters to metric_values: a probe that is never encrypted nor sent.
    probe = Campaign(
        campaign_id="probe",
        kind=CampaignKind.SUPPLY_CHAIN,
        title="",
        buyer_id=buyer,
        period_start=datetime(YEAR, 1, 1).date(),
        period_end=datetime(YEAR, 12, 31).date(),
        metrics=tuple(MetricSpec(m, "", 0, 0, 1) for m in metrics),
        key=CampaignKey((), 1),
        packing=PackingLayout(1, 1, 1),
    )
    return metric_values(footprint, probe, buyer_name=buyer)


def _noise_bound(fed: Federation, campaign_id: str, name: str) -> tuple[float, float] | None:
    """(proven bound on |noise|, 95% half-width) for a noised metric, in the metric's unit."""
    from agent.client import CoordinatorClient
    from fedcarbon.dp import NOISE_FAILURE_PROBABILITY
    from fedcarbon.privacy.noise import confidence_half_width, noise_magnitude_bound
    from fedcarbon.transport import home_credentials

    home = fed.workdir / "trustee-1"
    with CoordinatorClient(fed.address, home_credentials(home)) as client:
        campaign = client.get_campaign(campaign_id)
    plan = campaign.noise
    if plan is None:
        return None
    index = [m.name for m in campaign.metrics].index(name)
    spec = plan.specs[index]
    if spec is None:
        return None
    scale = 10 ** campaign.metrics[index].scale
    return (
        noise_magnitude_bound(spec, NOISE_FAILURE_PROBABILITY) / scale,
        confidence_half_width(spec, 0.95) / scale,
    )


def _leak_check(fed: Federation) -> list[str]:
    """Search the coordinator's database and log for every contributor's own fixed-point figures."""
    home = fed.workdir / "coordinator"
    haystack = b"".join(
        p.read_bytes()
        for p in home.iterdir()
        if (p.is_file() and p.suffix in (".sqlite", ".log", "")) or p.name.endswith("-wal")
    )
    leaks = []
    buyer = fed.participants["helix"]
    for company in (c for c in COMPANIES if c.role == "supplier"):
        records = records_for(company)
        values = _values(compute_footprint(records), BENCHMARK_METRICS[:-1], buyer)
        for name, value in values.items():
            fixed = to_fixed(value, CATALOGUE[name].default_scale)
            needles = [str(fixed).encode(), f"{value:.3f}".encode()]
            if fixed > 1 << 16:
                needles.append(fixed.to_bytes((fixed.bit_length() + 7) // 8, "big"))
            leaks += [f"{company.key}.{name}" for n in needles if _telling(n) and n in haystack]
    return sorted(set(leaks))


def _telling(needle: bytes) -> bool:
    """Long enough that finding it means something (the rule tests/integration/test_leakage.py
    uses): a run of 6 decimal digits turns up by chance inside hex digests and timestamps."""
    if needle.isdigit():
        return len(needle) >= 7
    return len(needle) >= 6 and sum(byte != 0 for byte in needle) >= 4


def run_demo(
    workdir: Path,
    *,
    bits: int,
    trustees: int,
    threshold: int,
    console: Console,
    epsilon: float = 0.0,
) -> dict[str, Any]:
    fed = Federation(workdir=workdir, console=console)
    try:
        _start_coordinator(fed)
        _enrol_everyone(fed, trustees)
        campaigns: dict[str, str] = {}
        submitted: dict[str, list[dict[str, Any]]] = {}
        for stage in range(len(_plan(epsilon))):
            opened = _open_campaigns(fed, bits, threshold, epsilon, stage)
            for key, done in _submit_all(fed).items():
                submitted.setdefault(key, []).extend(done)
            _close_and_release(fed, opened)
            campaigns |= opened
            _include_upstream(fed, opened)
        buyer_home = str(workdir / "agents" / "helix")
        report: dict[str, Any] = {
            "workdir": str(workdir),
            "coordinator": fed.address,
            "participants": fed.participants,
            "trustees": fed.trustees,
            "campaigns": {},
            "submitted": submitted,
        }
        verified = True
        for campaign_id, kind in campaigns.items():
            evidence = workdir / f"{campaign_id}.evidence.json"
            # A supply-chain result is its buyer's to read (others get NOT_FOUND); the OEM
            # reads the benchmarks it may see like any member.
            reader = (
                str(workdir / "agents" / _buyer_key(campaign_id))
                if kind == CampaignKind.SUPPLY_CHAIN.value
                else buyer_home
            )
            released = fed.cli_json(
                "agent", "results", campaign_id, "--home", reader, "--evidence", str(evidence)
            )
            signed = fed.cli_json("audit", "verify", "result", str(evidence))
            expected = _expected(fed, campaign_id, kind)
            checks = {}
            for name, metric in released["metrics"].items():
                got = to_fixed(Decimal(str(metric["sum"])), CATALOGUE[name].default_scale)
                checks[name] = {
                    "released_sum": metric["sum"],
                    "mean": metric["mean"],
                    "unit": metric["unit"],
                    "expected_sum": float(
                        Decimal(expected[name]).scaleb(-CATALOGUE[name].default_scale)
                    ),
                    "equal": got == expected[name],
                }
                bound = _noise_bound(fed, campaign_id, name)
                if bound is not None:  # noised: within the proven bound, never the exact sum
                    checks[name]["noise_bound"] = bound[0]
                    checks[name]["noise_95"] = bound[1]
                    checks[name]["equal"] = (
                        abs(got - expected[name]) <= bound[0] * 10 ** CATALOGUE[name].default_scale
                    )
            ok = (
                released["state"] == "released"
                and all(c["equal"] for c in checks.values())
                and not released["trust"]["problems"]
                and signed["valid"]
            )
            verified &= ok
            report["campaigns"][campaign_id] = {
                "kind": kind,
                "state": released["state"],
                "contributors": released["contributors"],
                "signed_by": released["trust"]["signed_by"],
                "metrics": checks,
                "verified": ok,
            }
        report["audit"] = _audit(fed)
        audit = report["audit"]
        verified &= audit["receipts_valid"] and audit["tampered_rejected"] and audit["log_valid"]
        report["leaks"] = _leak_check(fed)
        verified &= not report["leaks"]
        report["timings_s"] = {k: round(v, 2) for k, v in fed.timings.items()}
        report["verified"] = verified
        return report
    finally:
        if fed.coordinator is not None:
            fed.coordinator.terminate()
            try:
                fed.coordinator.wait(timeout=10)
            except subprocess.TimeoutExpired:
                fed.coordinator.kill()


def _audit(fed: Federation) -> dict[str, Any]:
    """Export one supplier's receipts and check them with `fedcarbon audit verify`."""
    agent_home = fed.workdir / "agents" / "danube"
    out = fed.workdir / "receipts"
    fed.cli("agent", "receipts", "--home", str(agent_home), "--export", str(out))
    key = (out / "log-key.hex").read_text().strip()
    receipts = sorted(out.glob("*.receipt.json"))
    valid = True
    for receipt in receipts:
        document = json.loads(
            fed.cli("audit", "verify", "receipt", str(receipt), "--log-key", key, "--json")
        )
        valid &= bool(document.get("valid", True))
    tampered = fed.workdir / "receipts" / "tampered.json"
    document = json.loads(receipts[0].read_text())
    document["leaf_index"] = int(document["leaf_index"]) + 1
    tampered.write_text(json.dumps(document))
    rejected = (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "fedcarbon",
                "audit",
                "verify",
                "receipt",
                str(tampered),
                "--log-key",
                key,
            ],
            capture_output=True,
            timeout=STEP_TIMEOUT_S,
        ).returncode
        != 0
    )
    fed.step(
        f"{len(receipts)} receipts verified against the signed tree head; "
        "a tampered one was rejected"
    )
    fetched = json.loads(
        fed.cli(
            "audit",
            "fetch",
            "--home",
            str(fed.workdir / "trustee-1"),
            "--log-key",
            key,
            "--out",
            str(fed.workdir / "log"),
            "--json",
        )
    )
    head = json.loads((fed.workdir / "log" / "tree-head.json").read_text())
    fed.step(
        f"the whole log ({head['tree_size']} entries) fetched and verified against its signed head"
    )
    return {
        "receipts_checked": len(receipts),
        "receipts_valid": valid,
        "tampered_rejected": rejected,
        "log_valid": bool(fetched.get("valid")),
        "tree_head": {"tree_size": head["tree_size"], "root_hash": head["root_hash"]},
    }


def _print(report: dict[str, Any], console: Console) -> None:
    for campaign_id, campaign in report["campaigns"].items():
        rows = []
        contributors = campaign["contributors"]
        for name, m in campaign["metrics"].items():
            if "noise_bound" in m:
                mark = (
                    f"[green]noised[/] (sum +/- {m['noise_95']:,.0f} at 95%)"
                    if m["equal"]
                    else "[red]OUTSIDE ITS NOISE BOUND[/]"
                )
            else:
                mark = "[green]equal[/]" if m["equal"] else "[red]DIFFERENT[/]"
            if "/" in m["unit"]:  # a sum of members' ratios means nothing: show the mean only
                rows.append(
                    ["  " + name, "-", kg(m["mean"]) + " (mean of ratios)", m["unit"], "-", mark]
                )
                continue
            rows.append(
                [name, kg(m["released_sum"]), kg(m["mean"]), m["unit"], kg(m["expected_sum"]), mark]
            )
        table(
            f"{campaign_id} ({campaign['kind']}, {contributors} contributors, {campaign['state']})",
            ["metric", "released sum", "mean", "unit", "plaintext check", ""],
            rows,
        )
        console.print(
            f"  signed by {len(campaign['signed_by'])} trustees, checked offline with "
            "`fedcarbon audit verify result`"
        )
    bench = next(
        (
            c
            for cid, c in report["campaigns"].items()
            if c["kind"] == "benchmark" and "-dp" not in cid
        ),
        None,
    )
    if bench:
        m = bench["metrics"]
        pooled = (
            m["scope1_kgco2e"]["released_sum"] + m["scope2_market_kgco2e"]["released_sum"]
        ) / m["output_t"]["released_sum"]
        console.print(
            f"Cohort carbon intensity (Scope 1+2 market): mean of members "
            f"{m['intensity_kgco2e_per_t']['mean']:,.1f} kg CO2e/t, pooled {pooled:,.1f} kg CO2e/t"
        )
    head = report["audit"]["tree_head"]
    console.print(
        f"Transparency log: signed tree head of {head['tree_size']} entries, "
        f"root {head['root_hash']}"
    )
    console.print(
        "Leak check on the coordinator's database and log: "
        + (
            "[green]no supplier figure found[/]"
            if not report["leaks"]
            else f"[red]found {report['leaks']}[/]"
        )
    )
    noised = any(cid.endswith("-dp") for cid in report["campaigns"])
    if not noised:
        console.print("(add --epsilon 1 to also run a differentially private benchmark)")
    verdict = "[bold green]VERIFIED[/]" if report["verified"] else "[bold red]NOT VERIFIED[/]"
    console.print(
        f"{verdict}: exact releases equal the plaintext sums computed in this process only"
        + (", noised ones lie within their proven noise bound." if noised else ".")
    )
    console.print(f"Everything the federation wrote is in {report['workdir']}")


def demo(
    workdir: Path | None = typer.Option(
        None, help="Where to put the federation's files (default: a new ./fedcarbon-demo-<time>)."
    ),
    key_bits: int = typer.Option(2048, help="Paillier modulus size for the campaign keys."),
    trustees: int = typer.Option(3, help="How many trustees share each campaign key (n)."),
    threshold: int = typer.Option(2, help="How many trustees must cooperate to decrypt (t)."),
    epsilon: float = typer.Option(
        0.0,
        help="Also run a differentially private benchmark with this epsilon (0 = skip it).",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object with the results and `verified`."
    ),
) -> None:
    """Run a coordinator, 3 trustees and 7 agents on loopback through three tiers of campaigns."""
    if epsilon < 0:
        fail(f"--epsilon must be >= 0, got {epsilon}")
    if workdir is None:
        workdir = Path.cwd() / f"fedcarbon-demo-{datetime.now():%Y%m%d-%H%M%S}"
    if workdir.exists() and any(workdir.iterdir()):
        fail(f"--workdir {workdir} is not empty; choose a new or empty directory")
    if not 2 <= threshold <= trustees:
        fail(
            f"--threshold {threshold} must be between 2 and --trustees {trustees}: agents' default "
            "policy (min_threshold = 2) refuses keys a single trustee can use alone"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=as_json, width=None if sys.stdout.isatty() else 120)
    console.print(
        f"[bold]fedcarbon demo[/]: a federation of {len(COMPANIES)} companies and {trustees} "
        f"trustees on loopback, in {workdir}"
    )
    started = time.perf_counter()
    try:
        report = run_demo(
            workdir,
            bits=key_bits,
            trustees=trustees,
            threshold=threshold,
            console=console,
            epsilon=epsilon,
        )
    except DemoError as error:
        if as_json:
            typer.echo(
                json.dumps({"verified": False, "error": str(error), "workdir": str(workdir)})
            )
        else:
            console.print(f"[bold red]demo failed:[/] {error}")
        raise typer.Exit(1) from None
    report["timings_s"]["total"] = round(time.perf_counter() - started, 2)
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        _print(report, console)
    if not report["verified"]:
        raise typer.Exit(1)
