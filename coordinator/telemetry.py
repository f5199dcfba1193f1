"""Structured logs and Prometheus metrics for the coordinator.

Log records and metric labels carry ids, counts and states only: never a figure (privacy
model point 6). Campaign ids are operator-chosen labels, not participant data.
"""

import json
import logging
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram, Info, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from coordinator import transitions
from coordinator.store import CampaignRow
from fedcarbon.campaign import CampaignState

log = logging.getLogger("fedcarbon.coordinator")

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "fedcarbon_requests_total",
    "gRPC requests by method and outcome",
    ["method", "code"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "fedcarbon_request_seconds", "gRPC request latency by method", ["method"], registry=REGISTRY
)
SUBMISSIONS = Counter(
    "fedcarbon_submissions_accepted_total", "accepted submissions", registry=REGISTRY
)
RELEASES = Counter(
    "fedcarbon_campaigns_finished_total",
    "campaigns this coordinator moved to released or failed (each campaign once)",
    ["state"],
    registry=REGISTRY,
)
_FINAL = (CampaignState.RELEASED, CampaignState.FAILED)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


BUILD = Info(
    "fedcarbon_build", "the running fedcarbon, Python and gRPC versions", registry=REGISTRY
)
BUILD.info(
    {
        "version": _version("fedcarbon"),
        "python": platform.python_version(),
        "grpc": grpc.__version__,
    }
)


class CampaignStates(Collector):
    """``fedcarbon_campaigns{state}``: campaigns by state, counted in the database at scrape time.

    Read from the store rather than kept in memory, so it is right after a restart, for
    changes made by the operator's CLI and by other replicas sharing the database (replicas
    therefore all report the same figures: aggregate them with max, not sum).
    """

    def __init__(self) -> None:
        self._engines: list[Engine] = []
        self._lock = threading.Lock()

    def attach(self, engine: Engine) -> Callable[[], None]:
        """Count the campaigns of ``engine`` (the latest attached wins); returns `detach`."""
        with self._lock:
            self._engines.append(engine)

        def detach() -> None:
            with self._lock:
                if engine in self._engines:
                    self._engines.remove(engine)

        return detach

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "fedcarbon_campaigns", "campaigns by state, read from the database", labels=["state"]
        )

    def describe(self) -> Iterator[Metric]:
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            engine = self._engines[-1] if self._engines else None
        if engine is None:
            return
        try:
            with Session(engine) as session:
                rows = session.exec(
                    select(CampaignRow.state, func.count()).group_by(CampaignRow.state)
                ).all()
        except SQLAlchemyError as error:  # a scrape must not fail because the database did
            log.warning("campaign states not scraped", extra={"why": str(error)})
            return
        counts = {state: count for state, count in rows}
        family = self._family()
        for state in CampaignState:
            family.add_metric([state.value], counts.get(state.value, 0))
        yield family


CAMPAIGNS = CampaignStates()
REGISTRY.register(CAMPAIGNS)


def _count_finished(changes: list[transitions.Transition]) -> None:
    for change in changes:
        if change.new in _FINAL and change.old not in _FINAL:
            RELEASES.labels(change.new.value).inc()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    _standard = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in self._standard:
                document[key] = value
        return json.dumps(document, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


HealthCheck = Callable[[], tuple[bool, str]]
"""(serving, why): what ``/healthz`` answers (200 when serving, 503 otherwise)."""


def database_health(engine: Engine, serving: threading.Event) -> HealthCheck:
    """Serving when the gRPC server is up (not draining) and the database answers a query."""

    def check() -> tuple[bool, str]:
        if not serving.is_set():
            return False, "not serving (starting or shutting down)"
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            return False, f"database unavailable ({type(error).__name__})"
        return True, "serving"

    return check


def metrics_app(health: HealthCheck | None) -> Callable[..., Iterable[bytes]]:
    """WSGI: ``/healthz`` answers the health check (no credentials: it says nothing but
    whether the coordinator serves), every other path the Prometheus metrics."""
    metrics = make_wsgi_app(REGISTRY)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and health is not None:
            ok, why = health()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [f"{why}\n".encode()]
        return metrics(environ, start_response)  # type: ignore[no-any-return]

    return app


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes and probes every few seconds are not worth a log line each."""


def serve_metrics(
    port: int, engine: Engine | None = None, health: HealthCheck | None = None
) -> Callable[[], None]:
    """Expose /metrics and /healthz on 127.0.0.1:port (0 = disabled); return a function that
    stops it.

    With ``engine``: count the campaigns it finishes (state transitions committed through it,
    not calls that observe a final state) and report its campaigns by state.
    """
    stops: list[Callable[[], None]] = []
    if engine is not None:
        stops += [transitions.watch(engine, _count_finished), CAMPAIGNS.attach(engine)]
    if port:
        server = make_server(
            "127.0.0.1",
            port,
            metrics_app(health),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        thread = threading.Thread(
            target=server.serve_forever, name="fedcarbon-metrics", daemon=True
        )
        thread.start()

        def stop_http() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        stops.append(stop_http)

    def stop() -> None:
        for each in reversed(stops):
            each()

    return stop
