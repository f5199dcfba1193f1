"""Structured logs and Prometheus metrics for the coordinator.

Log records and metric labels carry ids, counts and states only: never a figure (privacy
model point 6). Campaign ids are operator-chosen labels, not participant data.
"""

import json
import logging
import sys
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

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
    "campaigns released or failed",
    ["state"],
    registry=REGISTRY,
)


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


def serve_metrics(port: int) -> Callable[[], None]:
    """Expose /metrics on 127.0.0.1:port (0 = disabled); return a function that stops it."""
    if not port:
        return lambda: None
    server, thread = start_http_server(port, addr="127.0.0.1", registry=REGISTRY)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
