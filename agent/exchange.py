"""``fedcarbon agent cbam``: send CBAM communications to importers, sealed; read your inbox.

- ``key``: create this agent's X25519 exchange key (``exchange.pem``, owner-only), publish it
  signed by the identity key, and print the fingerprints to give your partners out of band;
- ``send``: seal a communication (``fedcarbon cbam compute --communication``) to an importer
  whose exchange-key fingerprint you were given, sign it, send it through the coordinator and
  keep the verified log receipt in ``cbam-sent/``;
- ``inbox``: fetch, open and verify what operators sent you and write each communication to a
  directory, ready for ``fedcarbon cbam declaration --received``.

The coordinator sees only the sealed blob, the two participant ids and a digest
(``fedcarbon.cbam.envelope``); the installation's process data never leaves the premises.
"""

import hmac
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from agent import store
from agent.client import default_timeout
from agent.config import AgentConfig, load_config
from agent.errors import AgentError, CoordinatorUnavailable
from agent.identity import (
    load_or_create_encryption_key,
    load_or_create_identity,
    x25519_public_bytes,
)
from agent.options import HOME, JSON
from fedcarbon import serde
from fedcarbon.audit import signing
from fedcarbon.audit.errors import AuditError
from fedcarbon.audit.receipts import Receipt, verify_receipt
from fedcarbon.cbam import envelope
from fedcarbon.cbam.communication import Communication
from fedcarbon.console import fail, print_json, table
from fedcarbon.errors import FedcarbonError
from fedcarbon.transport import ClientCredentials, home_credentials, open_channel
from fedcarbon.v1 import coordinator_pb2, coordinator_pb2_grpc, exchange_pb2, exchange_pb2_grpc

_SAFE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,80}")
T = TypeVar("T")

app = typer.Typer(
    help="EU CBAM: send your goods' embedded emissions to importers end-to-end encrypted, "
    "or read what your suppliers sent you.",
    no_args_is_help=True,
)
_USER_ERRORS = (AgentError, FedcarbonError, AuditError, OSError, ValueError)


@dataclass(frozen=True)
class Received:
    message_id: str
    sender_id: str
    sender_fingerprint: str
    leaf_index: int
    communication: Communication


class ExchangeClient:
    """The Exchange service, domain values in and out; signs every request."""

    def __init__(
        self, address: str, credentials: ClientCredentials, *, timeout: float | None = None
    ) -> None:
        self.address = address
        self._timeout = timeout if timeout is not None else default_timeout()  # --timeout
        self._channel = open_channel(address, credentials)
        self._stub = exchange_pb2_grpc.ExchangeStub(self._channel)
        self._audit = coordinator_pb2_grpc.AuditLogStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "ExchangeClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self._timeout, wait_for_ready=True)
        except grpc.RpcError as error:
            code = error.code()
            raise CoordinatorUnavailable(
                f"coordinator at {self.address}: {error.details()} ({code.name})"
            ) from None

    def publish_key(
        self, participant_id: str, identity: Ed25519PrivateKey, key: X25519PrivateKey
    ) -> None:
        public = x25519_public_bytes(key)
        signature = signing.sign(
            identity, envelope.key_message(participant_id, public), context=envelope.KEY_CONTEXT
        )
        self._call(
            self._stub.PublishKey,
            exchange_pb2.PublishKeyRequest(
                participant_id=participant_id, encryption_public_key=public, signature=signature
            ),
        )

    def recipient_key(self, participant_id: str, fingerprint: str) -> bytes:
        """The recipient's exchange key, accepted only if it matches the pinned fingerprint."""
        found = self._call(
            self._stub.GetKey, exchange_pb2.GetKeyRequest(participant_id=participant_id)
        )
        envelope.verify_key(
            participant_id,
            found.identity_public_key,
            found.encryption_public_key,
            found.signature,
        )
        actual = envelope.key_fingerprint(found.identity_public_key, found.encryption_public_key)
        if not hmac.compare_digest(actual, fingerprint.strip().lower().replace(":", "")):
            raise AgentError(
                f"exchange key of {participant_id!r} has fingerprint {actual}, not the one you "
                "were given: do not send (ask the importer to confirm its fingerprint)"
            )
        return bytes(found.encryption_public_key)

    def send(
        self,
        sender_id: str,
        recipient_id: str,
        sealed: bytes,
        identity: Ed25519PrivateKey,
    ) -> tuple[str, Receipt, bool]:
        now = int(time.time() * 1000)
        signature = signing.sign(
            identity,
            envelope.send_message(sender_id, recipient_id, sealed, now),
            context=envelope.SEND_CONTEXT,
        )
        answer = self._call(
            self._stub.Send,
            exchange_pb2.SendRequest(
                sender_id=sender_id,
                recipient_id=recipient_id,
                sealed=sealed,
                timestamp_ms=now,
                signature=signature,
            ),
        )
        return answer.message_id, serde.receipt_from_proto(answer.receipt), answer.duplicate

    def logged(self, sealed: bytes, leaf_index: int) -> Receipt:
        """Evidence that the coordinator logged this blob: an inclusion proof of its entry."""
        head = serde.tree_head_from_proto(
            self._call(self._audit.GetTreeHead, coordinator_pb2.GetTreeHeadRequest())
        )
        proof = self._call(
            self._audit.GetInclusionProof,
            coordinator_pb2.GetInclusionProofRequest(
                leaf_index=leaf_index, tree_size=head.tree_size
            ),
        )
        return Receipt(envelope.log_entry(sealed), leaf_index, head, list(proof.path))

    def inbox(self, participant_id: str, identity: Ed25519PrivateKey) -> list[Any]:
        now = int(time.time() * 1000)
        signature = signing.sign(
            identity,
            envelope.inbox_message(participant_id, now),
            context=envelope.INBOX_CONTEXT,
        )
        answer = self._call(
            self._stub.Inbox,
            exchange_pb2.InboxRequest(
                participant_id=participant_id, timestamp_ms=now, signature=signature
            ),
        )
        return list(answer.messages)


def _client(config: AgentConfig) -> ExchangeClient:
    try:
        credentials = home_credentials(config.home)
    except FedcarbonError as error:
        raise AgentError(str(error)) from None
    return ExchangeClient(config.coordinator, credentials)


def exchange_key_path(config: AgentConfig) -> Path:
    return config.home / "exchange.pem"


def _setup(home: Path) -> tuple[AgentConfig, store.Enrolment, Ed25519PrivateKey]:
    config = load_config(home)
    me = store.enrolment(store.open_store(config.database_url))
    if me is None:
        raise AgentError(f"{home}: not enrolled yet; run `fedcarbon agent enrol --token ...`")
    return config, me, load_or_create_identity(config.identity_key_path)


def send_communication(
    home: Path, communication: Communication, recipient_id: str, fingerprint: str
) -> tuple[str, Receipt, bool]:
    """Seal, sign, send; verify the receipt covers exactly this blob; keep it on disk."""
    config, me, identity = _setup(home)
    with _client(config) as client:
        key = client.recipient_key(recipient_id, fingerprint)
        sealed = envelope.seal_communication(
            communication,
            sender_id=me.participant_id,
            recipient_id=recipient_id,
            sender_identity=identity,
            recipient_encryption_key=key,
        )
        mid, receipt, duplicate = client.send(me.participant_id, recipient_id, sealed, identity)
    if mid != envelope.message_id(sealed) or receipt.entry != envelope.log_entry(sealed):
        raise AgentError("the coordinator's receipt is for another message")
    verify_receipt(receipt, me.log_public_key, log_id=me.log_id)
    sent = config.home / "cbam-sent"
    sent.mkdir(parents=True, exist_ok=True)
    (sent / f"{mid}.json").write_text(
        json.dumps(
            {
                "message_id": mid,
                "recipient": recipient_id,
                "receipt": receipt.to_dict(),
                "communication": communication.to_dict(),
            },
            indent=2,
            sort_keys=True,
        )
    )
    return mid, receipt, duplicate


def read_inbox(home: Path, pins: dict[str, str]) -> list[Received]:
    """Open every message sent to this agent, each proven to be in the log; a pinned sender
    must match its fingerprint."""
    config, me, identity = _setup(home)
    key = load_or_create_encryption_key(exchange_key_path(config))
    with _client(config) as client:
        messages = client.inbox(me.participant_id, identity)
        evidence = [client.logged(m.sealed, m.leaf_index) for m in messages]
    found = []
    for message, receipt in zip(messages, evidence, strict=True):
        # What was delivered is what was logged (RFC 9162 inclusion under the pinned log key).
        verify_receipt(receipt, me.log_public_key, log_id=me.log_id)
        if not _SAFE_ID.fullmatch(message.sender_id):
            # Ids become file names: a coordinator must not steer where the inbox writes.
            raise AgentError(f"message from a malformed sender id {message.sender_id[:80]!r}")
        fingerprint = envelope.identity_fingerprint(message.sender_identity_public_key)
        pinned = pins.get(message.sender_id)
        if pinned is not None and not hmac.compare_digest(pinned.lower(), fingerprint):
            raise AgentError(
                f"message {message.message_id[:16]}: sender {message.sender_id!r} has identity "
                f"fingerprint {fingerprint}, not the pinned {pinned}"
            )
        if envelope.message_id(message.sealed) != message.message_id:
            raise AgentError(f"message {message.message_id[:16]}: id does not match its bytes")
        opened = envelope.open_communication(
            message.sealed,
            key,
            sender_id=message.sender_id,
            recipient_id=me.participant_id,
            sender_identity_key=message.sender_identity_public_key,
        )
        found.append(
            Received(
                message.message_id,
                message.sender_id,
                fingerprint,
                message.leaf_index,
                opened.communication,
            )
        )
    return found


@app.command("key")
def key_command(home: Path = HOME, as_json: bool = JSON) -> None:
    """Create and publish your exchange key; print the fingerprints to give partners."""
    try:
        config, me, identity = _setup(home)
        key = load_or_create_encryption_key(exchange_key_path(config))
        with _client(config) as client:
            client.publish_key(me.participant_id, identity, key)
    except _USER_ERRORS as error:
        fail(f"cannot publish the exchange key: {error}")
    identity_public = signing.public_key_bytes(identity)
    document = {
        "participant_id": me.participant_id,
        "exchange_key_fingerprint": envelope.key_fingerprint(
            identity_public, x25519_public_bytes(key)
        ),
        "identity_fingerprint": envelope.identity_fingerprint(identity_public),
    }
    if as_json:
        print_json(document)
        return
    table("Give these to your partners out of band", ["", ""], list(document.items()))


@app.command("send")
def send_command(
    communication: Path = typer.Argument(
        ..., help="Communication JSON from `fedcarbon cbam compute --communication`."
    ),
    to: str = typer.Option(..., "--to", help="The importer's participant id."),
    fingerprint: str = typer.Option(
        ..., "--fingerprint", help="The importer's exchange-key fingerprint, given out of band."
    ),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """Send a communication to one importer, sealed to its key, with a log receipt."""
    try:
        parsed = Communication.from_json(communication.read_bytes(), str(communication))
        mid, receipt, duplicate = send_communication(home, parsed, to, fingerprint)
    except _USER_ERRORS as error:
        fail(f"not sent: {error}")
    document = {
        "message_id": mid,
        "recipient": to,
        "leaf_index": receipt.leaf_index,
        "tree_size": receipt.tree_head.tree_size,
        "duplicate": duplicate,
        "receipt": str(Path(home) / "cbam-sent" / f"{mid}.json"),
    }
    if as_json:
        print_json(document)
        return
    table("Sent, sealed to the importer; receipt verified", ["", ""], list(document.items()))


def _pins(values: list[str]) -> dict[str, str]:
    pins = {}
    for value in values:
        sender, sep, fingerprint = value.partition("=")
        if not sep or len(fingerprint) != 64:
            raise typer.BadParameter(f"{value!r}: expected SENDER_ID=64-hex-fingerprint")
        pins[sender] = fingerprint
    return pins


@app.command("inbox")
def inbox_command(
    out: Path = typer.Option(
        Path("cbam-received"), "--out", help="Directory to write each communication to."
    ),
    pin: list[str] = typer.Option(
        [], "--pin", help="SENDER_ID=FINGERPRINT: refuse messages from that sender otherwise."
    ),
    home: Path = HOME,
    as_json: bool = JSON,
) -> None:
    """Open, verify and save what operators sent you."""
    pins = _pins(pin)
    try:
        received = read_inbox(home, pins)
        out.mkdir(parents=True, exist_ok=True)
        for item in received:
            (out / f"{item.sender_id}-{item.message_id[:16]}.json").write_bytes(
                item.communication.to_json()
            )
    except _USER_ERRORS as error:
        fail(f"inbox: {error}")
    rows = [
        {
            "message_id": r.message_id,
            "sender": r.sender_id,
            "sender_fingerprint": r.sender_fingerprint,
            "pinned": r.sender_id in pins,
            "installation": r.communication.installation_id,
            "period": r.communication.period,
            "goods": len(r.communication.goods),
            "file": str(out / f"{r.sender_id}-{r.message_id[:16]}.json"),
        }
        for r in received
    ]
    if as_json:
        print_json({"messages": rows})
        return
    table(
        f"{len(rows)} communication(s), signatures verified",
        ["sender", "pinned", "installation", "period", "goods", "file"],
        [
            [r["sender"], r["pinned"], r["installation"], r["period"], r["goods"], r["file"]]
            for r in rows
        ],
    )
