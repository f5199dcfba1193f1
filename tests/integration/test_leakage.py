"""Canary leakage tests (privacy model point 6; issue 4): no plaintext figure of a participant
appears in the coordinator's database, logs, metrics or traffic.

Three suppliers whose activity data carries distinctive quantities answer a benchmark
campaign and a buyer's supply-chain campaign through a recording proxy; the coordinator runs
in process with a Prometheus endpoint. Every figure an agent computes (record quantities,
footprint totals per scope, category, gas and record, every campaign metric, its fixed-point
integer, the offset slot values) becomes "needles": decimal text at several precisions and in
exponent form, hex, base64, big- and little-endian integers (minimal, 6- and 8-byte), protobuf
varints and IEEE-754 doubles. The tests then search every byte the coordinator stored (the
SQLite file and its WAL), logged (each record as its JSON formatter writes it), exposed
(/metrics) and exchanged (raw TCP both ways, each HTTP/2 stream's DATA, each gRPC message).

Positive controls show each search can fail: the released sums, figures meant to be stored
and sent, are found with the same encodings; ids and signatures are found in the traffic and
ids in the logs; the canaries are exactly what the agents encrypted (the release is their
sum). Planting a leak (plaintext "ciphertexts", a figure in a log extra or a gauge) makes the
matching test fail.

Needles are kept only if they carry enough information not to turn up by chance: text with at
least 7 significant digits, binary strings of at least 6 bytes with at least 4 non-zero
bytes. Searched against this run's haystacks (about 1.5 MB), 170,000 random needles of the same
shapes and magnitudes gave no hit.
"""

import base64
import logging
import socket
import struct
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.contribution import Contribution, prepare
from agent.demo_data import BUYER, Company, Line, records_for
from coordinator.campaigns import get_campaign, get_result
from coordinator.config import CoordinatorConfig, write_config
from coordinator.server import start
from coordinator.store import Participant, SubmissionRow
from coordinator.telemetry import JsonFormatter
from fedcarbon import serde
from fedcarbon.accounting.engine import Footprint, compute_footprint
from fedcarbon.accounting.records import ActivityRecord
from fedcarbon.metrics import output_tonnes
from fedcarbon.results import CampaignResult
from tests.integration.conftest import Federation
from tests.integration.traffic import GrpcMessage, RecordingProxy, grpc_messages, stream_data

pytestmark = pytest.mark.slow

BENCHMARK = "leak-canary-bench-2024"
CHAIN = "leak-canary-chain-2024"
CAMPAIGNS = (BENCHMARK, CHAIN)
METRICS = (
    "scope1_kgco2e",
    "scope2_location_kgco2e",
    "scope2_market_kgco2e",
    "scope3_kgco2e",
    "total_kgco2e",
    "output_t",
    "intensity_kgco2e_per_t",
    "participants",
)
MIN_DIGITS = 7
MIN_BYTES = 6
MIN_NONZERO_BYTES = 4


def _output(product: str, tonnes: float, customer: str | None = None) -> Line:
    return Line(f"output.{product}", tonnes, "t", customer=customer, product=product)


CANARIES: tuple[Company, ...] = (
    Company(
        "canary-a",
        "Canary Alpha Stahl GmbH",
        "supplier",
        "DE",
        "metals",
        "sme",
        "Bochum",
        (
            Line("electricity.grid", 73_141_592.653, "kWh"),
            Line("fuel.natural_gas", 27_182_818.284, "kWh", months=(1, 2, 3, 10, 11, 12)),
            Line("fuel.diesel", 1_414_213.562, "kg", months=(4, 9)),
            Line("release.R-410A", 17.320_508, "kg", months=(7,)),
            Line("spend.naics.331110", 44_721_359.549, "USD", 1, data_quality="secondary"),
            Line("spend.naics.484121", 2_236_067.977, "USD", 4, data_quality="secondary"),
            _output("canary_billets", 17_320.508),  # intensity above 1,000 kg/t: 7 digits
            _output("canary_billets", 10_271.828, BUYER),
        ),
    ),
    Company(
        "canary-b",
        "Canary Beta Fasteners GmbH",
        "supplier",
        "AT",
        "metals",
        "sme",
        "Steyr",
        (
            Line("electricity.grid", 66_260_701.507, "kWh"),
            Line("fuel.natural_gas", 36_021_766.341, "kWh", months=(1, 2, 3, 4, 5, 6)),
            Line("fuel.diesel", 602_214.076, "kg", months=(5,)),
            Line("spend.naics.331222", 29_979_245.813, "USD", 1, data_quality="secondary"),
            _output("canary_bolts", 8_897.261),
            _output("canary_bolts", 4_123.789, BUYER),
        ),
    ),
    Company(
        "canary-c",
        "Canary Gamma Polymers Sp. z o.o.",
        "supplier",
        "PL",
        "metals",
        "sme",
        "Torun",
        (
            Line("electricity.grid", 12_566_370.614, "kWh", months=tuple(range(2, 12))),
            Line("fuel.natural_gas", 96_485_332.123, "kWh"),
            Line("spend.naics.325211", 83_144_626.181, "USD", 1, data_quality="secondary"),
            Line("spend.naics.484121", 1_380_649.137, "USD", 4, data_quality="secondary"),
            _output("canary_pellets", 17_681.357),
            _output("canary_pellets", 6_954.139, BUYER),
        ),
    ),
)


# The buyer whose supply-chain campaign the canaries answer; it contributes no figures.
BUYER_AGENT = Company(
    "canary-buyer",
    BUYER,
    "buyer",
    "DE",
    "automotive",
    "large",
    "Stuttgart",
    (Line("electricity.grid", 40_000_000, "kWh"), _output("vehicles", 60_000)),
)


# -- needles ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Needle:
    label: str
    data: bytes


def _significant_digits(text: str) -> int:
    return len("".join(c for c in text if c.isdigit()).strip("0"))


def _texts(label: str, texts: Iterable[str]) -> list[Needle]:
    return [
        Needle(f"{label} as {text!r}", text.encode())
        for text in sorted(set(texts))
        if _significant_digits(text) >= MIN_DIGITS
    ]


def _blobs(label: str, blobs: dict[str, bytes]) -> list[Needle]:
    return [
        Needle(f"{label} as {name}", blob)
        for name, blob in blobs.items()
        if len(blob) >= MIN_BYTES and sum(b != 0 for b in blob) >= MIN_NONZERO_BYTES
    ]


def float_needles(label: str, value: float) -> list[Needle]:
    """A real number as logs, JSON, SQL REAL columns or protobuf doubles would carry it."""
    texts = {repr(value), str(Decimal(repr(value))), f"{value:,.2f}"}
    texts |= {f"{value:.{places}f}" for places in range(7)}
    texts |= {f"{value:.{digits}g}" for digits in range(7, 18)}
    # Exponent forms, e.g. Prometheus' Go-style 1.005521844389659e+07.
    texts |= {f"{value:.{places}e}" for places in range(6, 17)}
    doubles = {"double LE": struct.pack("<d", value), "double BE": struct.pack(">d", value)}
    return _texts(label, texts) + _blobs(label, doubles)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def int_needles(label: str, n: int) -> list[Needle]:
    """An integer as decimal or hex text, raw bytes either way round, padded, or a varint."""
    size = max(1, (n.bit_length() + 7) // 8)
    blobs = {
        "big-endian bytes": n.to_bytes(size, "big"),
        "little-endian bytes": n.to_bytes(size, "little"),
        "protobuf varint": _varint(n),
    }
    for width in (6, 8):  # SQLite stores integers in 6 or 8 bytes; int64 fields in 8
        if size <= width:
            blobs[f"{width}-byte big-endian"] = n.to_bytes(width, "big")
            blobs[f"{width}-byte little-endian"] = n.to_bytes(width, "little")
    texts = {str(n), format(n, "x"), format(n, "X")}
    if size > 8:
        texts.add(base64.b64encode(n.to_bytes(size, "big")).decode())
    return _texts(label, texts) + _blobs(label, blobs)


def footprint_figures(footprint: Footprint) -> dict[str, float]:
    figures = {
        "scope1": footprint.scope1_kgco2e,
        "scope2 location": footprint.scope2_location_kgco2e,
        "scope2 market": footprint.scope2_market_kgco2e,
        "scope3": footprint.scope3_kgco2e,
        "total": footprint.total_kgco2e,
        "biogenic CO2": footprint.biogenic_co2_kg,
        "primary data share": footprint.primary_data_share,
        "output": output_tonnes(footprint),
    }
    figures |= {f"category {k}": v for k, v in footprint.by_category.items()}
    figures |= {f"gas {k}": v for k, v in footprint.by_gas.items()}
    for result in footprint.records:
        figures[f"record {result.record_id} CO2e"] = result.co2e_kg
        if result.co2e_market_kg is not None:
            figures[f"record {result.record_id} market CO2e"] = result.co2e_market_kg
    return figures


@dataclass(frozen=True)
class Canary:
    """One participant's figures, computed here exactly as its agent computes them."""

    company: Company
    records: list[ActivityRecord]
    footprint: Footprint
    contributions: dict[str, Contribution]  # campaign id -> what the agent encrypted

    def needles(self) -> list[Needle]:
        key = self.company.key
        needles: list[Needle] = []
        for line in self.company.lines:
            needles += float_needles(f"{key} annual {line.activity}", line.annual)
        for record in self.records:
            needles += float_needles(f"{key} quantity of {record.record_id}", record.quantity)
        for name, figure in footprint_figures(self.footprint).items():
            needles += float_needles(f"{key} footprint {name}", figure)
        for campaign_id, contribution in self.contributions.items():
            metrics = contribution.campaign.metrics
            for metric, fixed in zip(metrics, contribution.fixed, strict=True):
                value = contribution.values[metric.name]
                needles += _texts(f"{key} metric {metric.name}", [str(value)])
                needles += float_needles(f"{key} metric {metric.name}", float(value))
                needles += int_needles(f"{key} metric {metric.name} fixed-point", fixed)
            # The slot values (value - min) before Shamir sharing: shares are random, these
            # are the figures themselves.
            for metric, slot in zip(metrics, contribution.slot_values, strict=True):
                needles += int_needles(f"{key} {campaign_id} slot value {metric.name}", slot)
        return needles


def released_needles(results: Iterable[CampaignResult]) -> list[Needle]:
    """The released figures, encoded as canaries are: meant to be stored and sent."""
    needles: list[Needle] = []
    for result in results:
        needles += _released(result)
    return needles


def _released(result: CampaignResult) -> list[Needle]:
    needles: list[Needle] = []
    for metric in result.metrics:
        needles += int_needles(f"released {metric.name} sum fixed-point", metric.sum_fixed)
        needles += float_needles(f"released {metric.name} sum", float(metric.sum))
        needles += float_needles(
            f"released {metric.name} mean", float(metric.mean(result.contributors))
        )
    return needles


def find(needles: Iterable[Needle], haystacks: dict[str, bytes]) -> list[str]:
    """Where any needle occurs, with a little context, one line per hit."""
    by_prefix: dict[bytes, list[Needle]] = {}
    for needle in needles:
        by_prefix.setdefault(needle.data[:MIN_BYTES], []).append(needle)
    hits = []
    for where, hay in haystacks.items():
        for prefix, group in by_prefix.items():
            start = hay.find(prefix)
            while start != -1:
                for needle in group:
                    if hay.startswith(needle.data, start):
                        context = hay[max(0, start - 40) : start + len(needle.data) + 40]
                        hits.append(f"{needle.label} in {where} at {start}: {context!r}")
                start = hay.find(prefix, start + 1)
    return hits


# -- the federation under observation ----------------------------------------------------------
@dataclass
class ProxiedFederation(Federation):
    """The conftest federation, but every agent and trustee talks through the recorder."""

    proxy_address: str = ""

    @property
    def address(self) -> str:
        return self.proxy_address


class RecordingHandler(logging.Handler):
    """Keeps every record, whatever its level, for the searches below."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Capture:
    """Everything the coordinator kept, said, exposed and exchanged during one campaign."""

    canaries: list[Canary]
    participants: dict[str, str]  # agent name -> participant id
    results: dict[str, CampaignResult]
    refusal: str  # what the agent printed when its second submission was refused
    submitted_signatures: list[bytes]
    metrics: str
    database: dict[str, bytes] = field(default_factory=dict)
    logs: list[logging.LogRecord] = field(default_factory=list)
    traffic: dict[str, bytes] = field(default_factory=dict)
    messages: list[GrpcMessage] = field(default_factory=list)

    def needles(self) -> list[Needle]:
        return [needle for canary in self.canaries for needle in canary.needles()]

    def log_texts(self) -> dict[str, bytes]:
        """Each record as the coordinator's JSON formatter writes it (extras included)."""
        formatter = JsonFormatter()
        return {
            f"log record {number} ({record.name})": "\n".join(
                (formatter.format(record), record.getMessage(), repr(record.args))
            ).encode()
            for number, record in enumerate(self.logs)
        }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _files(home: Path, tag: str) -> dict[str, bytes]:
    return {f"{tag} {p.name}": p.read_bytes() for p in sorted(home.iterdir()) if p.is_file()}


def _canary(engine: Engine, company: Company) -> Canary:
    records = records_for(company)
    footprint = compute_footprint(records)
    contributions = {
        campaign_id: prepare(footprint, get_campaign(engine, campaign_id), buyer_name=BUYER)
        for campaign_id in CAMPAIGNS
    }
    return Canary(company, records, footprint, contributions)


def _run_campaign(fed: Federation) -> str:
    """Enrol; open a benchmark and a buyer's supply-chain campaign; submit to both (and once
    more, refused); close; decrypt; fetch the results over gRPC."""
    for index in range(3):
        fed.add_trustee(f"trustee-{index + 1}")
    buyer = fed.add_agent(BUYER_AGENT)
    suppliers = [fed.add_agent(company, buyer_id=buyer) for company in CANARIES]
    fed.open_campaign(BENCHMARK, metrics=METRICS, k=3, threshold=2)
    fed.open_campaign(
        CHAIN,
        kind="supply_chain",
        metrics=("delivered_to_buyer_kgco2e", "participants"),
        extra=("--buyer", buyer, *[a for pid in suppliers for a in ("--invite", pid)]),
    )
    for campaign_id in CAMPAIGNS:
        for company in CANARIES:
            fed.submit(company.key, campaign_id)
    # A second, different submission is refused by the coordinator, so the refusal path
    # (error details on the wire, "request refused" in the log) is observed too.
    refusal = fed.submit(CANARIES[0].key, BENCHMARK, expect=1)
    for campaign_id in CAMPAIGNS:
        fed.operator("campaign", "close", campaign_id)
    fed.run_trustees()
    fed.cli("agent", "results", BENCHMARK, "--home", fed.agent_home(CANARIES[1].key))
    fed.cli("agent", "results", CHAIN, "--home", fed.agent_home(BUYER_AGENT.key))
    return refusal


def _signatures(engine: Engine) -> list[bytes]:
    with Session(engine) as session:
        rows = session.exec(select(SubmissionRow)).all()
        return [serde.signed_from_entry(row.entry).signature for row in rows]


def _record_traffic(capture: Capture, proxy: RecordingProxy) -> None:
    for number, exchange in enumerate(proxy.exchanges()):
        for direction, data in (("up", exchange.upstream), ("down", exchange.downstream)):
            raw = bytes(data)
            where = f"connection {number} {direction}"
            capture.traffic[f"{where} raw"] = raw
            for stream_id, body in stream_data(raw).items():
                capture.traffic[f"{where} stream {stream_id} DATA"] = body
            for message in grpc_messages(raw):
                capture.traffic[f"{where} message {len(capture.messages)}"] = message.body
                capture.messages.append(message)


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Capture]:
    """One full campaign through the recording proxy, the coordinator serving /metrics."""
    root = tmp_path_factory.mktemp("leakage")
    home = root / "coordinator"
    home.mkdir()
    metrics_port = _free_port()
    # Plaintext on purpose: the recorder reads every byte of the wire, which TLS would hide;
    # what the protocol itself carries must hold no canary even before encryption.
    config = CoordinatorConfig(
        home=home, listen="127.0.0.1:0", metrics_port=metrics_port, insecure=True
    )
    write_config(config)
    handler = RecordingHandler()
    root_logger = logging.getLogger()
    old_level = root_logger.level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.DEBUG)
    server = start(config, workers=8)
    proxy = RecordingProxy(("127.0.0.1", server.port)).start()
    try:
        refusal = _run_campaign(
            ProxiedFederation(root, server, insecure=True, proxy_address=proxy.address)
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as response:
            metrics = response.read().decode()
        capture = Capture(
            canaries=[_canary(server.engine, company) for company in CANARIES],
            participants={c.key: _participant(server.engine, c) for c in (*CANARIES, BUYER_AGENT)},
            results={c: get_result(server.engine, c) for c in CAMPAIGNS},
            refusal=refusal,
            submitted_signatures=_signatures(server.engine),
            metrics=metrics,
        )
        capture.database |= _files(home, "running")  # the WAL is still there
    finally:
        server.stop(0)
        proxy.stop()
        root_logger.removeHandler(handler)
        root_logger.setLevel(old_level)
    capture.database |= _files(home, "stopped")  # the WAL checkpointed into the main file
    capture.logs = handler.records
    _record_traffic(capture, proxy)
    yield capture


def _participant(engine: Engine, company: Company) -> str:
    with Session(engine) as session:
        row = session.exec(
            select(Participant).where(Participant.organisation == company.organisation)
        ).one()
        return row.participant_id


# -- preconditions: the canaries are the real figures and are not released ones -----------------
@pytest.mark.parametrize("campaign_id", CAMPAIGNS)
def test_the_canaries_are_what_the_agents_encrypted(capture: Capture, campaign_id: str) -> None:
    metrics = capture.canaries[0].contributions[campaign_id].campaign.metrics
    expected = {
        metric.name: sum(c.contributions[campaign_id].fixed[i] for c in capture.canaries)
        for i, metric in enumerate(metrics)
    }
    result = capture.results[campaign_id]
    assert result.contributors == len(CANARIES)
    assert {m.name: m.sum_fixed for m in result.metrics} == expected


def test_no_canary_is_part_of_a_released_figure(capture: Capture) -> None:
    released = {n.label: n.data for n in released_needles(capture.results.values())}
    assert find(capture.needles(), released) == []


def test_every_metric_of_every_canary_has_needles(capture: Capture) -> None:
    labels = {n.label.split(" as ")[0] for n in capture.needles()}
    for company in CANARIES:
        for metric in (*METRICS, "delivered_to_buyer_kgco2e"):
            if metric != "participants":  # 1 for everyone: the released count, not a secret
                assert f"{company.key} metric {metric} fixed-point" in labels
                assert f"{company.key} metric {metric}" in labels
        for campaign_id in CAMPAIGNS:
            assert any(
                label.startswith(f"{company.key} {campaign_id} slot value ") for label in labels
            )


# -- the database ------------------------------------------------------------------------------
def test_the_database_holds_no_canary(capture: Capture) -> None:
    assert find(capture.needles(), capture.database) == []


def test_the_database_scan_covers_the_wal_and_finds_released_figures(capture: Capture) -> None:
    assert {"running coordinator.sqlite-wal", "stopped coordinator.sqlite"} <= set(capture.database)
    scope1 = capture.results[BENCHMARK].metric("scope1_kgco2e")
    stored = [  # how the result row serialises a release: sum_fixed text, sum as a double
        Needle("released scope1 sum_fixed", str(scope1.sum_fixed).encode()),
        Needle("released scope1 sum", struct.pack("<d", float(scope1.sum))),
    ]
    hits = find(stored, {"database": b"".join(capture.database.values())})
    assert {hit.split(" in ")[0] for hit in hits} == {n.label for n in stored}


# -- the logs ----------------------------------------------------------------------------------
def test_the_logs_hold_no_canary(capture: Capture) -> None:
    assert find(capture.needles(), capture.log_texts()) == []


def test_the_log_capture_sees_the_coordinator_at_work(capture: Capture) -> None:
    messages = [r.getMessage() for r in capture.logs if r.name == "fedcarbon.coordinator"]
    assert messages.count("submission accepted") == len(CANARIES) * len(CAMPAIGNS)
    assert "request refused" in messages
    logged = b"".join(capture.log_texts().values())
    assert all(pid.encode() in logged for pid in capture.participants.values())


# -- the metrics -------------------------------------------------------------------------------
def test_the_metrics_hold_no_canary(capture: Capture) -> None:
    assert find(capture.needles(), {"/metrics": capture.metrics.encode()}) == []


def test_the_metrics_scrape_is_the_coordinators(capture: Capture) -> None:
    assert 'fedcarbon_requests_total{code="OK",method="Submit"}' in capture.metrics
    assert 'fedcarbon_requests_total{code="FAILED_PRECONDITION",method="Submit"}' in capture.metrics


# -- the traffic -------------------------------------------------------------------------------
def test_the_traffic_holds_no_canary(capture: Capture) -> None:
    assert find(capture.needles(), capture.traffic) == []


def test_the_traffic_is_captured_uncompressed_and_whole(capture: Capture) -> None:
    bodies = b"".join(message.body for message in capture.messages)
    assert capture.messages and not any(message.compressed for message in capture.messages)
    assert all(campaign_id.encode() in bodies for campaign_id in CAMPAIGNS)
    assert all(pid.encode() in bodies for pid in capture.participants.values())
    # Each accepted submission crossed the proxy: its signature is in a request body.
    assert len(capture.submitted_signatures) == len(CANARIES) * len(CAMPAIGNS)
    assert all(signature in bodies for signature in capture.submitted_signatures)


def test_the_traffic_scan_finds_the_released_figures(capture: Capture) -> None:
    scope1 = capture.results[BENCHMARK].metric("scope1_kgco2e")
    sent = [Needle("released scope1 sum_fixed", str(scope1.sum_fixed).encode())]
    assert find(sent, capture.traffic)


def test_the_traffic_carries_error_details_literally(capture: Capture) -> None:
    # gRPC status details travel in HPACK trailers; they are found as plain text, so a
    # figure put in an error message would be found by the raw search too.
    assert "already submitted" in capture.refusal
    downstream = b"".join(v for k, v in capture.traffic.items() if k.endswith("down raw"))
    assert b"already submitted" in downstream
