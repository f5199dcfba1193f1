"""Gossip of signed tree heads through the trustees, against a coordinator's split views.

A trustee serves ``fedcarbon.v1.Gossip`` (``fedcarbon trustee gossip``): agents and other
trustees post the heads of the coordinator's log they were shown and get back the heads this
trustee has seen. Each party then asks *its* coordinator to prove that every head seen
elsewhere is a prefix of the head it is shown (fedcarbon/audit/gossip.py: check_heads). A
coordinator that showed two parties two different logs cannot, and the two signed heads are
the evidence. The trustee checks before every decryption; agents with ``agent check-log``
and after each submission.

The channel is TLS 1.3 (RFC 8446), authenticated by a certificate the trustee made itself
(``tls/gossip.pem`` in its home) and published in the federation manifest that every
trustee signs. Clients trust exactly that certificate, not the operator's CA: an operator
able to mint a certificate for a trustee's host could answer in its place and hide the
split view gossip exists to catch (docs/tls.md, "Gossip"). Plaintext is for loopback demos.
"""

from collections.abc import Callable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

import grpc
from sqlalchemy import Engine

from agent import store
from agent.config import AgentConfig
from agent.errors import AgentError
from fedcarbon import serde, tls
from fedcarbon.audit.gossip import GossipCheck, check_heads, valid_heads
from fedcarbon.audit.treehead import TreeHead
from fedcarbon.federation.manifest import Manifest
from fedcarbon.v1 import gossip_pb2, gossip_pb2_grpc

MAX_HEADS_PER_CALL = 256
LATEST_RETURNED = 64
DEFAULT_TIMEOUT_S = 10.0
# The trustee's own gossip certificate and key, in its home (the key never leaves it).
CERT_FILE = "tls/gossip.pem"
KEY_FILE = "tls/gossip-key.pem"


@dataclass(frozen=True)
class GossipPeer:
    """An endpoint to gossip with and how to authenticate it.

    ``certificate`` is the PEM the endpoint must present (its own trust root); empty means
    plaintext, allowed only for insecure (loopback demo) homes. ``problem`` says why this
    endpoint cannot be used as configured; it is reported instead of dialled.
    """

    endpoint: str
    certificate: bytes = b""
    problem: str = ""


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


def serve(
    engine: Engine, log_public_key: bytes, listen: str, certificate: tls.Issued | None
) -> GossipServer:
    """Start the gossip endpoint on ``listen`` (host:port; port 0 picks a free one).

    TLS with ``certificate`` (no client certificates: anyone may post signed heads); without
    one, plaintext, and only on a loopback address.
    """
    if certificate is None and not tls.is_loopback(listen):
        raise AgentError(
            f"refusing to serve gossip in plaintext on {listen}: only a loopback address "
            "(127.0.0.1, ::1, localhost) may be served without TLS"
        )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    gossip_pb2_grpc.add_GossipServicer_to_server(GossipService(engine, log_public_key), server)
    try:
        if certificate is None:
            port = server.add_insecure_port(listen)
        else:
            credentials = grpc.ssl_server_credentials(
                [(certificate.private_key, certificate.certificate)]
            )
            port = server.add_secure_port(listen, credentials)
    except RuntimeError:
        port = 0
    if port == 0:
        raise AgentError(f"cannot listen on {listen}")
    server.start()
    return GossipServer(server, port)


def _channel(peer: GossipPeer) -> grpc.Channel:
    if not peer.certificate:
        return grpc.insecure_channel(peer.endpoint)
    # The pinned certificate is the only root: no CA, the operator's or the system's, counts.
    return grpc.secure_channel(
        peer.endpoint, grpc.ssl_channel_credentials(root_certificates=peer.certificate)
    )


def _failure(peer: GossipPeer, error: grpc.RpcError) -> str:
    details = error.details() or str(error.code())
    if peer.certificate and "handshake" in details.lower():
        return (
            f"gossip endpoint {peer.endpoint}: TLS handshake failed: it did not present the "
            "certificate pinned for it (an impostor on that address, or the trustee replaced "
            "its certificate: pin the newer manifest) or does not serve TLS"
        )
    return f"gossip endpoint {peer.endpoint}: {details}"


def exchange(peer: GossipPeer, log_public_key: bytes, heads: Sequence[TreeHead]) -> list[TreeHead]:
    """Post our heads to one trustee's gossip endpoint; return the valid heads it has seen."""
    if peer.problem:
        raise AgentError(peer.problem)
    with _channel(peer) as channel:
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
            raise AgentError(_failure(peer, error)) from None
    return valid_heads((serde.tree_head_from_proto(h) for h in response.heads), log_public_key)


def exchange_all(
    peers: Sequence[GossipPeer], log_public_key: bytes, heads: Sequence[TreeHead]
) -> tuple[list[TreeHead], list[str]]:
    """Exchange with every peer; the heads received and why each failed peer failed."""
    received: list[TreeHead] = []
    failures = []
    for peer in peers:
        try:
            received.extend(exchange(peer, log_public_key, heads))
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


def endpoints(
    configured: Sequence[str],
    manifest: Manifest | None,
    *,
    certificates: Mapping[str, Path] | None = None,
    insecure: bool = False,
) -> list[GossipPeer]:
    """The peers to gossip with: those in agent.toml, then the pinned manifest's trustees'.

    The manifest's come from the trustees themselves (they signed it, with each endpoint's
    certificate), so a coordinator cannot steer an agent's gossip to endpoints of its own
    choosing, nor answer on a trustee's endpoint. An endpoint from agent.toml is
    authenticated by its file in ``certificates``, else by the manifest's certificate for
    it; plaintext is only for an ``insecure`` home (a loopback demo).
    """
    pinned = manifest.gossip_certificates() if manifest is not None else {}
    files = certificates or {}
    peers: list[GossipPeer] = []
    for endpoint in configured:
        if endpoint in files:
            peers.append(_configured_peer(endpoint, files[endpoint]))
        elif endpoint in pinned:
            peers.append(GossipPeer(endpoint, pinned[endpoint]))
        elif insecure:
            peers.append(GossipPeer(endpoint))
        else:
            peers.append(
                GossipPeer(
                    endpoint,
                    problem=(
                        f"gossip endpoint {endpoint} (agent.toml) has no certificate to check it "
                        f'with: add gossip_certificates = {{"{endpoint}" = "FILE"}} under '
                        "[agent] with that trustee's tls/gossip.pem, or rely on the pinned "
                        "manifest's endpoints"
                    ),
                )
            )
    for trustee in manifest.trustees if manifest is not None else ():
        if not trustee.gossip or trustee.gossip in configured:
            continue
        if trustee.gossip_certificate:
            peers.append(GossipPeer(trustee.gossip, trustee.gossip_certificate.encode()))
        elif insecure:
            peers.append(GossipPeer(trustee.gossip))
        else:
            peers.append(
                GossipPeer(
                    trustee.gossip,
                    problem=(
                        f"gossip endpoint {trustee.gossip} of trustee {trustee.trustee_id}: "
                        "the pinned manifest publishes no gossip_certificate for it, and "
                        "plaintext gossip is for insecure (loopback) homes only; the trustees "
                        "must sign a new manifest version with it (docs/tls.md, Gossip)"
                    ),
                )
            )
    return peers


def _configured_peer(endpoint: str, path: Path) -> GossipPeer:
    try:
        certificate = tls.read_pem(path, f"gossip certificate for {endpoint}")
        tls.load_certificate(certificate)
    except tls.TlsError as error:
        return GossipPeer(endpoint, problem=str(error))
    return GossipPeer(endpoint, certificate)


def peers(config: AgentConfig, manifest: Manifest | None) -> list[GossipPeer]:
    """The gossip peers of a home, from its agent.toml and its pinned manifest."""
    return endpoints(
        config.gossip,
        manifest,
        certificates=config.gossip_certificates,
        insecure=config.insecure,
    )


def load_certificate(home: Path) -> tls.Issued | None:
    """This trustee's gossip certificate and key, or None if it has made none."""
    cert_path, key_path = home / CERT_FILE, home / KEY_FILE
    if not cert_path.exists() and not key_path.exists():
        return None
    try:
        issued = tls.Issued(
            tls.read_pem(cert_path, "gossip certificate"),
            tls.read_pem(key_path, "gossip key"),
        )
        tls.load_certificate(issued.certificate)
        tls.load_private_key(issued.private_key)
    except tls.TlsError as error:
        raise AgentError(str(error)) from None
    return issued


def create_certificate(home: Path, hosts: Sequence[str], *, renew: bool = False) -> tls.Issued:
    """Make this trustee's self-signed gossip certificate for ``hosts`` (or keep the one made).

    An existing certificate is kept if it names every host; ``renew`` replaces it (and its
    key), after which the trustees must publish a new manifest version carrying it.
    """
    existing = None if renew else load_certificate(home)
    if existing is not None:
        missing = [h for h in hosts if not tls.covers(existing.certificate, h)]
        if missing:
            raise AgentError(
                f"{home / CERT_FILE} is not valid for {', '.join(missing)}; make a new one with "
                f"`fedcarbon trustee gossip-certificate --renew --host ...` (then publish a new "
                "manifest version carrying it)"
            )
        return existing
    issued = tls.self_signed_server(hosts)
    tls.write_private(home / KEY_FILE, issued.private_key)
    (home / CERT_FILE).write_bytes(issued.certificate)
    return issued
