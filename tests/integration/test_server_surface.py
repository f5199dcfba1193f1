"""What operators' tooling sees: gRPC health checking and server reflection (grpcurl works
with a member's client certificate; reflection, like every non-health call, also needs the
call signature, so plain grpcurl sees health only: docs/tls.md)."""

from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.integration.conftest import Federation


def test_health_reports_serving_for_every_service(federation: Federation) -> None:
    stub = health_pb2_grpc.HealthStub(federation.channel())
    for service in ("", "fedcarbon.v1.Campaigns", "fedcarbon.v1.Trustees", "fedcarbon.v1.AuditLog"):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_services(federation: Federation) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(federation.channel())
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    (reply,) = list(stub.ServerReflectionInfo(iter([request]), timeout=5))
    names = {s.name for s in reply.list_services_response.service}
    assert {
        "fedcarbon.v1.Participants",
        "fedcarbon.v1.Campaigns",
        "fedcarbon.v1.Trustees",
        "fedcarbon.v1.AuditLog",
        "grpc.health.v1.Health",
    } <= names


def test_graceful_shutdown_reports_not_serving(federation: Federation) -> None:
    federation.server.health.enter_graceful_shutdown()
    stub = health_pb2_grpc.HealthStub(federation.channel())
    reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
