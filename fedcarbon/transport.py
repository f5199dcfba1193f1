"""How every client reaches the coordinator: TLS channels and signed calls.

Two layers, both always on unless the operator chose a plaintext loopback demo:

- the channel is TLS 1.3 (RFC 8446) with the server certificate checked against the
  federation's CA, and this party's client certificate (CN = its participant id) presented;
- every call carries the caller's participant id, a timestamp and an Ed25519 signature
  (RFC 8032) by its enrolled identity key over ``"fedcarbon.v1.call" || 0x00 || method ||
  0x00 || caller || 0x00 || timestamp_ms || 0x00 || SHA-256(request)``, where the request is
  its deterministic protobuf serialisation. The coordinator (coordinator/auth.py) checks it, so a
  read is answered only for an enrolled member, and a stolen TLS key alone does not suffice.

The on-disk layout of an agent or trustee home, as far as the connection needs it, is defined
here (the ``fedcarbon audit`` commands use it too, and the core never imports ``agent``):

    agent.toml        [agent] coordinator, ca_file (default tls/ca.pem), insecure (bool)
    identity.pem      Ed25519 identity key
    participant-id    the id the coordinator enrolled this home as
    tls/ca.pem        the federation's CA certificate (verifies the coordinator)
    tls/client.pem    this party's client certificate; tls/client-key.pem its key (made here)
    tls/enrol.pem     the invite's short-lived enrolment certificate; tls/enrol-key.pem
"""

import hashlib
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon import tls
from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.tls import TlsError

CALL_CONTEXT = b"fedcarbon.v1.call"
CALLER_HEADER = "fedcarbon-caller"
TIMESTAMP_HEADER = "fedcarbon-timestamp-ms"
SIGNATURE_HEADER = "fedcarbon-signature-bin"  # "-bin": gRPC carries the value as bytes

AGENT_CONFIG = "agent.toml"
PARTICIPANT_ID_FILE = "participant-id"
TLS_DIR = "tls"
CA_FILE = "tls/ca.pem"
CLIENT_CERT_FILE = "tls/client.pem"
CLIENT_KEY_FILE = "tls/client-key.pem"
ENROL_CERT_FILE = "tls/enrol.pem"
ENROL_KEY_FILE = "tls/enrol-key.pem"

# Largest answer a client takes from the coordinator, and the coordinator sends. gRPC's
# default (4 MiB) stopped trustees at about 480 contributors: GetAggregate's bundle carries
# every submission (about 8.4 KB each with three trustees). Only the coordinator, which the
# client authenticated by its certificate, can send this much; requests stay capped at the
# server (coordinator/server.py). The bundle still grows with N: paging it is the real fix.
MAX_RESPONSE_MESSAGE_BYTES = 256 * 1024 * 1024


def request_digest(request: Any) -> bytes:
    """SHA-256 of a request's deterministic serialisation; b"" hashes for streamed calls."""
    if request is None:
        return hashlib.sha256(b"").digest()
    return hashlib.sha256(request.SerializeToString(deterministic=True)).digest()


def call_message(method: str, caller: str, timestamp_ms: int, digest: bytes) -> bytes:
    """What a caller signs for one call: the method, who, when, and exactly what it asked."""
    return f"{method}\x00{caller}\x00{timestamp_ms}\x00".encode() + digest


def sign_call(
    identity: Ed25519PrivateKey, method: str, caller: str, request: Any, timestamp_ms: int
) -> list[tuple[str, str | bytes]]:
    """The metadata that authenticates one call."""
    message = call_message(method, caller, timestamp_ms, request_digest(request))
    return [
        (CALLER_HEADER, caller),
        (TIMESTAMP_HEADER, str(timestamp_ms)),
        (SIGNATURE_HEADER, signing.sign(identity, message, context=CALL_CONTEXT)),
    ]


@dataclass(frozen=True)
class ClientCredentials:
    """Everything a client needs to reach the coordinator as one party.

    ``participant_id`` empty means anonymous (only Enrol and health are answered then).
    ``insecure`` dials plaintext: for loopback demos against ``coordinator serve --insecure``.
    """

    ca_certificate: bytes = b""
    certificate: bytes = b""
    private_key: bytes = b""
    participant_id: str = ""
    identity: Ed25519PrivateKey | None = None
    insecure: bool = False

    @classmethod
    def anonymous_insecure(cls) -> "ClientCredentials":
        return cls(insecure=True)


class _CallDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: Any
    wait_for_ready: bool | None
    compression: Any


class CallSigner(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Adds the caller's id, a timestamp and its signature to every call.

    Unary requests are covered by their digest; calls that stream (server reflection, health
    watch) sign the digest of an empty request, as the server checks them.
    """

    def __init__(
        self,
        participant_id: str,
        identity: Ed25519PrivateKey,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._participant_id = participant_id
        self._identity = identity
        self._clock = clock

    def _details(self, details: Any, request: Any) -> _CallDetails:
        now = int(self._clock() * 1000)
        extra = sign_call(self._identity, details.method, self._participant_id, request, now)
        return _CallDetails(
            details.method,
            details.timeout,
            [*(details.metadata or ()), *extra],
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return continuation(self._details(details, request), request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return continuation(self._details(details, None), request)

    def intercept_stream_stream(
        self, continuation: Callable[..., Any], details: Any, requests: Any
    ) -> Any:
        return continuation(self._details(details, None), requests)


def open_channel(address: str, credentials: ClientCredentials) -> grpc.Channel:
    """A channel to ``address``: TLS checked against the federation CA, calls signed.

    Plaintext only when ``credentials.insecure`` says so; TLS without a CA is refused rather
    than falling back to the system's roots, which do not vouch for a federation's coordinator.
    """
    options = [("grpc.max_receive_message_length", MAX_RESPONSE_MESSAGE_BYTES)]
    if credentials.insecure:
        channel = grpc.insecure_channel(address, options=options)
    else:
        if not credentials.ca_certificate:
            raise TlsError(
                f"no CA certificate to verify the coordinator at {address} with "
                "(an invite or ca_file in agent.toml; or --insecure for a loopback demo)"
            )
        channel = grpc.secure_channel(
            address,
            grpc.ssl_channel_credentials(
                root_certificates=credentials.ca_certificate,
                private_key=credentials.private_key or None,
                certificate_chain=credentials.certificate or None,
            ),
            options=options,
        )
    if credentials.participant_id and credentials.identity is not None:
        channel = grpc.intercept_channel(
            channel, CallSigner(credentials.participant_id, credentials.identity)
        )
    return channel


@dataclass(frozen=True)
class HomeSettings:
    """The transport part of an agent or trustee home's agent.toml."""

    coordinator: str
    ca_file: Path
    insecure: bool


def home_settings(home: Path) -> HomeSettings:
    """Read coordinator address, CA file and the insecure flag from ``home/agent.toml``."""
    path = home / AGENT_CONFIG
    try:
        section = tomllib.loads(path.read_text()).get("agent", {})
    except OSError as error:
        raise TlsError(f"{path}: cannot read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise TlsError(f"{path}: not a text file (not UTF-8); restore it from a backup") from None
    except tomllib.TOMLDecodeError as error:
        raise TlsError(f"{path}: not valid TOML ({error})") from None
    insecure = section.get("insecure", False)
    ca_file = section.get("ca_file", CA_FILE)
    if not isinstance(insecure, bool):
        raise TlsError(f"{path}: [agent] insecure must be true or false, got {insecure!r}")
    if not isinstance(ca_file, str) or not ca_file:
        raise TlsError(f"{path}: [agent] ca_file must be a path, got {ca_file!r}")
    return HomeSettings(str(section.get("coordinator", "")), home / ca_file, insecure)


def home_credentials(home: Path, *, enrolling: bool = False) -> ClientCredentials:
    """The credentials an enrolled home calls with (or, ``enrolling``, its invite's ones)."""
    settings = home_settings(home)
    if enrolling:
        if settings.insecure:
            return ClientCredentials(insecure=True)
        return ClientCredentials(
            ca_certificate=tls.read_pem(settings.ca_file, "CA certificate"),
            certificate=tls.read_pem(home / ENROL_CERT_FILE, "enrolment certificate"),
            private_key=tls.read_pem(home / ENROL_KEY_FILE, "enrolment key"),
        )
    complete_renewal(home)
    id_path = home / PARTICIPANT_ID_FILE
    try:
        participant_id = id_path.read_text().strip()
    except OSError:
        raise TlsError(f"{home}: not enrolled yet ({id_path} is missing)") from None
    try:
        identity = signing.load_private_key(home / "identity.pem")
    except (OSError, SignatureError) as error:
        raise TlsError(f"{home / 'identity.pem'}: {error}") from None
    if settings.insecure:
        return ClientCredentials(participant_id=participant_id, identity=identity, insecure=True)
    return ClientCredentials(
        ca_certificate=tls.read_pem(settings.ca_file, "CA certificate"),
        certificate=tls.read_pem(home / CLIENT_CERT_FILE, "client certificate"),
        private_key=tls.read_pem(home / CLIENT_KEY_FILE, "client key"),
        participant_id=participant_id,
        identity=identity,
    )


RENEWED_CERT_FILE = "tls/client.pem.new"
RENEWED_KEY_FILE = "tls/client-key.pem.new"


def install_renewed_certificate(home: Path, private_key_pem: bytes, certificate: bytes) -> None:
    """Swap in a renewed client key and certificate, so that a crash leaves a usable pair.

    Both are written beside the old ones first; the key is swapped in, then the certificate.
    A crash between the two swaps leaves the new key with ``client.pem.new`` still there,
    which ``complete_renewal`` (run before every load) moves into place.
    """
    if tls.public_key_der(tls.load_private_key(private_key_pem)) != tls.certificate_key_der(
        certificate
    ):
        raise TlsError("the renewed certificate is not for the new key")
    tls.write_private(home / RENEWED_KEY_FILE, private_key_pem)
    (home / RENEWED_CERT_FILE).write_bytes(certificate)
    (home / RENEWED_KEY_FILE).replace(home / CLIENT_KEY_FILE)
    (home / RENEWED_CERT_FILE).replace(home / CLIENT_CERT_FILE)


def complete_renewal(home: Path) -> None:
    """Finish a renewal a crash interrupted (see ``install_renewed_certificate``)."""
    pending, key_file = home / RENEWED_CERT_FILE, home / CLIENT_KEY_FILE
    if not pending.exists() or (home / RENEWED_KEY_FILE).exists() or not key_file.exists():
        (home / RENEWED_KEY_FILE).unlink(missing_ok=True)  # the swap never started
        pending.unlink(missing_ok=True)
        return
    key = tls.load_private_key(tls.read_pem(key_file, "client key"))
    if tls.public_key_der(key) == tls.certificate_key_der(pending.read_bytes()):
        pending.replace(home / CLIENT_CERT_FILE)
    else:
        pending.unlink()


def save_enrolment(home: Path, participant_id: str, client_certificate: bytes) -> None:
    """Keep what Enrol answered: the participant id and (TLS) the client certificate."""
    (home / PARTICIPANT_ID_FILE).write_text(participant_id + "\n")
    if client_certificate:
        (home / CLIENT_CERT_FILE).write_bytes(client_certificate)
        for name in (ENROL_CERT_FILE, ENROL_KEY_FILE):  # single use, now spent
            (home / name).unlink(missing_ok=True)


def tls_key_for_enrolment(home: Path) -> bytes:
    """Make (or reuse) this home's own TLS key; its public half goes into EnrolRequest."""
    path = home / CLIENT_KEY_FILE
    if path.exists():
        key = tls.load_private_key(tls.read_pem(path, "client key"))
    else:
        key = tls.generate_key()
        tls.write_private(path, tls.key_to_pem(key))
    return tls.public_key_der(key)
