"""Gossip of signed tree heads through the trustees, against a coordinator's split views.

A trustee serves ``fedcarbon.v1.Gossip`` (``fedcarbon trustee gossip``): agents and other
trustees post the heads of the coordinator's log they were shown and get back the heads this
trustee has seen. Each party then asks *its* coordinator to prove that every head seen
elsewhere is a prefix of the head it is shown (fedcarbon/audit/gossip.py: check_heads). A
coordinator that showed two parties two different logs cannot, and the two signed heads are
the evidence. The trustee checks before every decryption; agents with ``agent check-log``
and after each submission.
"""

from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass

import grpc
from sqlalchemy import Engine

from agent import store
from agent.errors import AgentError
from fedcarbon import serde
from fedcarbon.audit.gossip import GossipCheck, check_heads, valid_heads
from fedcarbon.audit.treehead import TreeHead
from fedcarbon.federation.manifest import Manifest
from fedcarbon.v1 import gossip_pb2, gossip_pb2_grpc

MAX_HEADS_PER_CALL = 256
LATEST_RETURNED = 64
DEFAULT_TIMEOUT_S = 10.0


class GossipService(gossip_pb2_grpc.GossipServicer):
    """A trustee's gossip endpoint: keeps valid heads of its coordinator's log, returns its own."""

    def __init__(self, engine: Engine, log_public_key: bytes) -> None:
        self._engine = engine
        self._log_key = log_public_key

    def ExchangeHeads(
        self, request: gossip_pb2.ExchangeHeadsRequest, context: grpc.ServicerContext
    ) -> gossip_pb2.ExchangeHeadsResponse:
        if request.log_public_key != self._log_key:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "this trustee gossips heads of another log (compare the log key out of band)",
            )
        if len(request.heads) > MAX_HEADS_PER_CALL:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"at most {MAX_HEADS_PER_CALL} heads per call"
            )
        try:
            posted = [serde.tree_head_from_proto(h) for h in request.heads]
        except Exception as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"malformed tree head: {error}")
        valid = valid_heads(posted, self._log_key)
        if len(valid) != len(posted):
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{len(posted) - len(valid)} head(s) are not signed by this log's key",
            )
        store.remember_heads(self._engine, self._log_key, valid)
        rows = store.seen_heads(
            self._engine,
            self._log_key,
            sizes={h.tree_size for h in valid},
            latest=LATEST_RETURNED,
        )
        return gossip_pb2.ExchangeHeadsResponse(
            heads=[
                serde.tree_head_to_proto(TreeHead.from_json(r.head_json))
                for r in rows[:MAX_HEADS_PER_CALL]
            ]
        )


@dataclass
class GossipServer:
    server: grpc.Server
    port: int

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(grace)


def serve(engine: Engine, log_public_key: bytes, listen: str) -> GossipServer:
    """Start the gossip endpoint on ``listen`` (host:port; port 0 picks a free one)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    gossip_pb2_grpc.add_GossipServicer_to_server(GossipService(engine, log_public_key), server)
    port = server.add_insecure_port(listen)
    if port == 0:
        raise AgentError(f"cannot listen on {listen}")
    server.start()
    return GossipServer(server, port)


def exchange(endpoint: str, log_public_key: bytes, heads: Sequence[TreeHead]) -> list[TreeHead]:
    """Post our heads to one trustee's gossip endpoint; return the valid heads it has seen."""
    with grpc.insecure_channel(endpoint) as channel:
        stub = gossip_pb2_grpc.GossipStub(channel)
        try:
            response = stub.ExchangeHeads(
                gossip_pb2.ExchangeHeadsRequest(
                    log_public_key=log_public_key,
                    heads=[serde.tree_head_to_proto(h) for h in heads[-MAX_HEADS_PER_CALL:]],
                ),
                timeout=DEFAULT_TIMEOUT_S,
            )
        except grpc.RpcError as error:
            raise AgentError(f"gossip endpoint {endpoint}: {error.details()}") from None
    return valid_heads((serde.tree_head_from_proto(h) for h in response.heads), log_public_key)


def exchange_all(
    endpoints: Sequence[str], log_public_key: bytes, heads: Sequence[TreeHead]
) -> tuple[list[TreeHead], list[str]]:
    """Exchange with every endpoint; the heads received and the endpoints that failed."""
    received: list[TreeHead] = []
    failures = []
    for endpoint in endpoints:
        try:
            received.extend(exchange(endpoint, log_public_key, heads))
        except AgentError as error:
            failures.append(str(error))
    return received, failures


def check_view(
    engine: Engine,
    log_public_key: bytes,
    ours: TreeHead,
    received: Sequence[TreeHead],
    prove: Callable[[int, int], list[bytes]],
) -> GossipCheck:
    """Check ``ours`` against every head this party knows that is not yet proved a prefix.

    Heads seen before and proved consistent are not proved again: they are prefixes of the
    largest proved head (the checkpoint), which is checked every time.
    """
    store.remember_heads(engine, log_public_key, [ours, *received])
    pending = [
        TreeHead.from_json(r.head_json) for r in store.unverified_heads(engine, log_public_key)
    ]
    result = check_heads(ours, pending, prove, log_public_key)
    if not result.forks:
        store.mark_verified(engine, log_public_key, [ours, *result.consistent])
    return result


def problems(result: GossipCheck) -> list[str]:
    """A trustee's reasons to refuse decryption, from a gossip check."""
    reasons = [f"split view of the log: {fork.reason}" for fork in result.forks]
    if result.ahead:
        reasons.append(
            f"the coordinator shows a log of {result.ours.tree_size} entries, fewer than the "
            f"{max(h.tree_size for h in result.ahead)} of a signed head seen elsewhere; "
            "it may be a split view"
        )
    return reasons


def endpoints(configured: Sequence[str], manifest: Manifest | None) -> list[str]:
    """The gossip endpoints to use: those in agent.toml, then the pinned manifest's trustees'.

    The manifest's come from the trustees themselves (they signed it), so a coordinator
    cannot steer an agent's gossip to endpoints of its own choosing.
    """
    found = list(configured)
    if manifest is not None:
        found += [e for e in manifest.gossip_endpoints() if e not in found]
    return found
