"""Who is calling: every RPC but health and Enrol must come from an enrolled participant.

The client signs each call (fedcarbon/transport.py: participant id, timestamp, Ed25519 over
the method and the request's digest). This interceptor checks that signature against the
enrolled identity key, bounds the timestamp, and over TLS requires the client certificate's
CN to be that same participant id (a certificate for A with B's signatures is refused).
Then the role policy: what a supplier, buyer or trustee may call. The caller is put in a
context variable for the servicers, which filter what each participant may see.

Statuses: UNAUTHENTICATED when we do not know who calls; PERMISSION_DENIED when we do and
the role may not call the method.
"""

import logging
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import grpc
from sqlalchemy import Engine
from sqlmodel import Session

from coordinator.membership import InstalledManifest
from coordinator.store import Participant
from coordinator.telemetry import REQUESTS
from fedcarbon import transport
from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.errors import StoreError
from fedcarbon.invite import REGISTRAR_PREFIX

log = logging.getLogger("fedcarbon.coordinator")

# What a caller is told when the database cannot answer (the log says which and why).
DATABASE_UNAVAILABLE = "the coordinator's database is unavailable; retry later"

# Same bound as trustee requests: a signed call older or further ahead than this is refused.
MAX_CALL_SKEW_MS = 5 * 60 * 1000

# Answered for anyone: health, and enrolment (the token and, over TLS, the invite's
# enrolment certificate authenticate it).
PUBLIC_METHODS = frozenset(
    {
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/fedcarbon.v1.Participants/Enrol",
    }
)
TRUSTEE_ONLY_PREFIXES = ("/fedcarbon.v1.Trustees/",)
TRUSTEE_ONLY_METHODS = frozenset({"/fedcarbon.v1.Participants/SubmitAttestation"})


@dataclass(frozen=True)
class Caller:
    participant_id: str
    role: str

    @property
    def is_trustee(self) -> bool:
        return self.role == "trustee"


CALLER: ContextVar[Caller | None] = ContextVar("fedcarbon_caller", default=None)


def current_caller() -> Caller | None:
    """The authenticated caller of the RPC being served (None outside an RPC)."""
    return CALLER.get()


REGISTRAR_METHODS = frozenset(
    {"/fedcarbon.v1.Participants/ListMembers", "/fedcarbon.v1.Participants/SubmitAttestation"}
)
"""A registrar of the manifest (not enrolled) reads members' claimed identities and attests."""


def allowed(role: str, method: str) -> bool:
    """The role policy: trustees' service and attestations for trustees (attestations also for
    registrars, who may call nothing else); the rest for every enrolled participant."""
    if role == "registrar":
        return method in REGISTRAR_METHODS
    if method.startswith(TRUSTEE_ONLY_PREFIXES) or method in TRUSTEE_ONLY_METHODS:
        return role == "trustee"
    return True


class _Refusal(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def peer_common_name(context: grpc.ServicerContext) -> str | None:
    """The subject CN of the client certificate this call came with (None without TLS)."""
    names: Any = context.auth_context().get("x509_common_name")
    return bytes(names[0]).decode(errors="replace") if names else None


class CallAuthenticator(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Authenticate and authorise every non-public call before the servicer sees it."""

    def __init__(
        self,
        engine: Engine,
        *,
        require_tls: bool,
        clock: Callable[[], float] = time.time,
        manifest: InstalledManifest | None = None,
    ) -> None:
        self._engine = engine
        self._manifest = manifest
        self._require_tls = require_tls
        self._clock = clock
        self._known: dict[str, tuple[bytes, str]] = {}  # participant id -> (key, role)
        self._lock = threading.Lock()

    def _participant(self, participant_id: str) -> tuple[bytes, str] | None:
        if participant_id.startswith(REGISTRAR_PREFIX):
            # Named by the installed manifest, not enrolled: read afresh (it may change).
            manifest = self._manifest.get() if self._manifest is not None else None
            wanted = participant_id.removeprefix(REGISTRAR_PREFIX)
            for registrar in manifest.registrars if manifest is not None else ():
                if registrar.registrar_id == wanted:
                    return registrar.identity_key, "registrar"
            return None
        with self._lock:
            found = self._known.get(participant_id)
        if found is not None:
            return found
        with Session(self._engine) as session:
            row = session.get(Participant, participant_id)
        if row is None:
            return None  # unknown ids are not cached: they may enrol later
        found = (bytes(row.identity_key), row.role)
        with self._lock:
            self._known[participant_id] = found
        return found

    def authenticate(
        self, method: str, metadata: dict[str, Any], request: Any, context: grpc.ServicerContext
    ) -> Caller:
        """The caller, or _Refusal saying why not."""
        caller = metadata.get(transport.CALLER_HEADER)
        if not caller:
            raise _Refusal(
                grpc.StatusCode.UNAUTHENTICATED,
                f"{method} needs an enrolled participant: the call carries no "
                f"{transport.CALLER_HEADER} (only health and Enrol are public)",
            )
        raw_time = metadata.get(transport.TIMESTAMP_HEADER, "")
        signature = metadata.get(transport.SIGNATURE_HEADER, b"")
        if not isinstance(raw_time, str) or not raw_time.isdigit():
            raise _Refusal(
                grpc.StatusCode.UNAUTHENTICATED,
                f"call has no valid {transport.TIMESTAMP_HEADER} (milliseconds since the epoch)",
            )
        timestamp = int(raw_time)
        skew = timestamp - int(self._clock() * 1000)
        if abs(skew) > MAX_CALL_SKEW_MS:
            raise _Refusal(
                grpc.StatusCode.UNAUTHENTICATED,
                f"call timestamp is {skew / 1000:+.0f} s from the coordinator's clock "
                f"(at most {MAX_CALL_SKEW_MS // 1000} s allowed; check the clock)",
            )
        known = self._participant(str(caller))
        if known is None:
            raise _Refusal(grpc.StatusCode.UNAUTHENTICATED, f"unknown participant {str(caller)!r}")
        identity_key, role = known
        message = transport.call_message(
            method, str(caller), timestamp, transport.request_digest(request)
        )
        try:
            if not isinstance(signature, bytes):
                raise SignatureError("signature metadata must be binary")
            signing.verify(identity_key, message, signature, context=transport.CALL_CONTEXT)
        except SignatureError as error:
            raise _Refusal(
                grpc.StatusCode.UNAUTHENTICATED, f"call signature of {caller}: {error}"
            ) from None
        if self._require_tls:
            peer = peer_common_name(context)
            if peer != caller:
                raise _Refusal(
                    grpc.StatusCode.UNAUTHENTICATED,
                    f"client certificate is for {peer!r} but the call is signed as {caller!r}",
                )
        if not allowed(role, method):
            raise _Refusal(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{method} is not for a {role} ({caller})"
                if role == "registrar"
                else f"{method} is for trustees; {caller} is a {role}",
            )
        return Caller(str(caller), role)

    def _guard(self, method: str, metadata: dict[str, Any], behavior: Any, streaming: bool) -> Any:
        def guarded(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                caller = self.authenticate(
                    method, metadata, None if streaming else request, context
                )
            except StoreError as error:  # the participant lookup met a database outage
                REQUESTS.labels(method.rpartition("/")[2], "UNAVAILABLE").inc()
                log.warning("database unavailable", extra={"method": method, "why": str(error)})
                context.abort(grpc.StatusCode.UNAVAILABLE, DATABASE_UNAVAILABLE)
            except _Refusal as refusal:
                REQUESTS.labels(method.rpartition("/")[2], refusal.code.name).inc()
                log.info(
                    "call refused",
                    extra={"method": method, "code": refusal.code.name, "why": str(refusal)},
                )
                context.abort(refusal.code, str(refusal))
            token = CALLER.set(caller)
            try:
                return behavior(request, context)
            finally:
                CALLER.reset(token)

        return guarded

    def intercept_service(
        self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        method = details.method
        if handler is None or method in PUBLIC_METHODS:
            return handler
        metadata = dict(details.invocation_metadata or ())
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._guard(method, metadata, handler.unary_unary, False),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        # Streamed calls (server reflection) sign an empty request digest.
        for kind, make in (
            ("unary_stream", grpc.unary_stream_rpc_method_handler),
            ("stream_unary", grpc.stream_unary_rpc_method_handler),
            ("stream_stream", grpc.stream_stream_rpc_method_handler),
        ):
            behavior = getattr(handler, kind)
            if behavior:
                return make(
                    self._guard(method, metadata, behavior, True),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler
