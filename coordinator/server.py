"""The coordinator's gRPC server: services, health checking and reflection on one port."""

import logging
import signal
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine

from coordinator import actions, campaigns, pki, release
from coordinator.auth import CallAuthenticator
from coordinator.config import CoordinatorConfig
from coordinator.exchange import ExchangeService
from coordinator.log import TransparencyLog
from coordinator.membership import InstalledManifest
from coordinator.service import (
    AuditLogService,
    CampaignsService,
    ParticipantsService,
    TrusteesService,
)
from coordinator.store import open_engine
from coordinator.submissions import SubmissionDesk
from coordinator.telemetry import database_health, serve_metrics
from coordinator.wire import UndecodableRequests
from fedcarbon.audit import signing
from fedcarbon.transport import MAX_RESPONSE_MESSAGE_BYTES
from fedcarbon.v1 import coordinator_pb2, coordinator_pb2_grpc, exchange_pb2, exchange_pb2_grpc

log = logging.getLogger("fedcarbon.coordinator")

SERVICE_NAMES = (
    *(
        coordinator_pb2.DESCRIPTOR.services_by_name[name].full_name
        for name in ("Participants", "Campaigns", "Trustees", "AuditLog")
    ),
    exchange_pb2.DESCRIPTOR.services_by_name["Exchange"].full_name,
)
# Requests are small; a generous cap still stops a memory-exhaustion attempt early.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
# Answers can be large: GetAggregate's bundle carries every submission of the campaign (about
# 8.4 KB each with three trustees), 8.4 MB at 1,000 contributors, past the 8 MiB above. The
# send limit is the receive limit of clients (fedcarbon/transport.py).
MAX_RESPONSE_BYTES = MAX_RESPONSE_MESSAGE_BYTES


def load_or_create_log_key(path: Path) -> signing.Ed25519PrivateKey:  # type: ignore[name-defined]
    if path.exists():
        return signing.load_private_key(path)
    key = signing.generate_signing_key()
    signing.save_private_key(key, path)
    return key


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    engine: Engine
    log: TransparencyLog
    stop_metrics: Callable[[], None]
    tls: bool = True
    stop_actions: Callable[[], None] = lambda: None
    serving: threading.Event = field(default_factory=threading.Event)

    def stop(self, grace: float = 2.0) -> None:
        self.serving.clear()  # /healthz answers 503 while draining
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.stop_metrics()
        self.stop_actions()
        self.engine.dispose()


def start(config: CoordinatorConfig, *, workers: int = 16) -> RunningServer:
    """Bind, register services, start serving; the port is read back (port 0 = any free).

    TLS with mandatory client certificates (RFC 8446 mutual authentication) unless the
    configuration says ``insecure``, which is refused on anything but a loopback address.
    """
    config.home.mkdir(parents=True, exist_ok=True)
    if config.insecure:
        pki.check_insecure(config)
        material = None
    else:
        material = pki.load_server_material(config)
    engine = open_engine(config.effective_database_url)
    stop_actions = actions.follow(engine, config.home, "server")  # a resumed release too
    campaigns.publish_missing_cohorts(engine)  # stores from before cohort entries existed
    release.resume_releases(engine)  # openings stored just before a crash
    transparency = TransparencyLog(
        engine, load_or_create_log_key(config.log_key_path), config.log_id
    )
    installed = InstalledManifest(config.manifest_path)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_RESPONSE_BYTES),
        ],
        # Outermost first: a request that does not decode is refused before anything reads it.
        interceptors=[
            UndecodableRequests(),
            CallAuthenticator(engine, require_tls=material is not None, manifest=installed),
        ],
    )
    coordinator_pb2_grpc.add_ParticipantsServicer_to_server(
        ParticipantsService(
            engine,
            transparency,
            installed,
            client_ca=material.client_ca if material else None,
        ),
        server,
    )
    coordinator_pb2_grpc.add_CampaignsServicer_to_server(
        CampaignsService(engine, SubmissionDesk(engine, transparency)), server
    )
    coordinator_pb2_grpc.add_TrusteesServicer_to_server(
        TrusteesService(engine, transparency), server
    )
    coordinator_pb2_grpc.add_AuditLogServicer_to_server(AuditLogService(transparency), server)
    exchange_pb2_grpc.add_ExchangeServicer_to_server(ExchangeService(engine, transparency), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in (*SERVICE_NAMES, ""):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    if material is None:
        port = server.add_insecure_port(config.listen)
    else:
        credentials = grpc.ssl_server_credentials(
            [(material.private_key, material.certificate)],
            root_certificates=material.client_ca.certificate,
            require_client_auth=True,
        )
        port = server.add_secure_port(config.listen, credentials)
    if port == 0:
        raise OSError(f"cannot listen on {config.listen}")
    server.start()
    serving = threading.Event()
    serving.set()
    stop_metrics = serve_metrics(
        config.metrics_port, engine, health=database_health(engine, serving)
    )
    log.info(
        "coordinator listening",
        extra={
            "port": port,
            "metrics_port": config.metrics_port or None,  # None: no /metrics endpoint
            "log_size": transparency.refresh(),
            "tls": material is not None,
        },
    )
    return RunningServer(
        server,
        port,
        health_servicer,
        engine,
        transparency,
        stop_metrics,
        material is not None,
        stop_actions,
        serving,
    )


def serve_forever(config: CoordinatorConfig, *, port_file: Path | None = None) -> None:
    """Serve until SIGINT/SIGTERM, then drain gracefully."""
    running = start(config)
    if port_file is not None:
        port_file.write_text(f"{running.port}\n")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    log.info("coordinator shutting down")
    running.stop()
