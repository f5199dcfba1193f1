"""A communication sealed to one importer and signed by its operator, for the coordinator to
carry without reading it.

Layers, inside out:

1. the statement: ``Communication.to_json()``, the figures the importer must declare;
2. the operator's Ed25519 signature (RFC 8032) over statement, sender id and recipient id,
   under the context ``fedcarbon.v1.cbam-communication``: the importer knows who vouches for
   the figures, and a statement for one importer cannot be replayed to another;
3. HPKE base mode (RFC 9180; ``fedcarbon.crypto.sealing``) to the importer's X25519 exchange
   key, with sender and recipient ids bound as associated data;
4. the operator's signature over (sender, recipient, SHA-256 of the sealed blob, time), which
   is all the coordinator checks, and the log entry the coordinator appends: a domain label
   and the blob's SHA-256, naming no organisation (privacy model, point 8).

The importer's exchange key is published signed by its identity key; an operator sends only
to a key whose fingerprint it was given out of band, so a coordinator that substitutes its own
key is caught (privacy model, point 7).
"""

import base64
import hashlib
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.cbam.communication import Communication
from fedcarbon.cbam.errors import CommunicationError
from fedcarbon.crypto.errors import SealedBoxError
from fedcarbon.crypto.sealing import open_sealed, seal

STATEMENT_CONTEXT = b"fedcarbon.v1.cbam-communication"
SEND_CONTEXT = b"fedcarbon.v1.cbam-exchange.send"
INBOX_CONTEXT = b"fedcarbon.v1.cbam-exchange.inbox"
KEY_CONTEXT = b"fedcarbon.v1.cbam-exchange.key"
LOG_ENTRY_LABEL = b"fedcarbon.v1.cbam-exchange\x00"
MAX_SEALED_BYTES = 1024 * 1024
"""A communication lists goods, not process data: a megabyte is far more than any needs."""


def _framed(*parts: bytes) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def exchange_aad(sender_id: str, recipient_id: str) -> bytes:
    return b"cbam-exchange" + _framed(sender_id.encode(), recipient_id.encode())


def message_id(sealed: bytes) -> str:
    """Hex SHA-256 of the sealed blob: the message's name everywhere."""
    return hashlib.sha256(sealed).hexdigest()


def log_entry(sealed: bytes) -> bytes:
    """What the transparency log records for a message: label and digest, no names."""
    return LOG_ENTRY_LABEL + hashlib.sha256(sealed).digest()


def send_message(sender_id: str, recipient_id: str, sealed: bytes, timestamp_ms: int) -> bytes:
    return _framed(
        sender_id.encode(),
        recipient_id.encode(),
        hashlib.sha256(sealed).digest(),
        timestamp_ms.to_bytes(8, "big", signed=True),
    )


def inbox_message(participant_id: str, timestamp_ms: int) -> bytes:
    return _framed(participant_id.encode(), timestamp_ms.to_bytes(8, "big", signed=True))


def key_message(participant_id: str, encryption_key: bytes) -> bytes:
    return _framed(participant_id.encode(), encryption_key)


def key_fingerprint(identity_key: bytes, encryption_key: bytes) -> str:
    """What an importer reads out to its operators: SHA-256 of both public keys, hex."""
    return hashlib.sha256(b"fedcarbon-exchange-key" + identity_key + encryption_key).hexdigest()


def identity_fingerprint(identity_key: bytes) -> str:
    """What an operator reads out to its importers: SHA-256 of its identity key, hex."""
    return hashlib.sha256(b"fedcarbon-identity-key" + identity_key).hexdigest()


def verify_key(participant_id: str, identity_key: bytes, encryption_key: bytes, sig: bytes) -> None:
    """The exchange key is the participant's: signed by its identity key."""
    try:
        signing.verify(
            identity_key, key_message(participant_id, encryption_key), sig, context=KEY_CONTEXT
        )
    except SignatureError as error:
        raise CommunicationError(f"exchange key of {participant_id!r}: {error}") from None


def _statement_message(statement: bytes, sender_id: str, recipient_id: str) -> bytes:
    return _framed(statement, sender_id.encode(), recipient_id.encode())


def seal_communication(
    communication: Communication,
    *,
    sender_id: str,
    recipient_id: str,
    sender_identity: Ed25519PrivateKey,
    recipient_encryption_key: bytes,
) -> bytes:
    """Sign the statement, then seal it to the importer's X25519 key."""
    statement = communication.to_json()
    signature = signing.sign(
        sender_identity,
        _statement_message(statement, sender_id, recipient_id),
        context=STATEMENT_CONTEXT,
    )
    inner = json.dumps(
        {
            "statement": base64.b64encode(statement).decode(),
            "sender": sender_id,
            "recipient": recipient_id,
            "signature": signature.hex(),
        },
        sort_keys=True,
    ).encode()
    sealed = seal(inner, recipient_encryption_key, exchange_aad(sender_id, recipient_id))
    if len(sealed) > MAX_SEALED_BYTES:
        raise CommunicationError(f"sealed communication is larger than {MAX_SEALED_BYTES} bytes")
    return sealed


@dataclass(frozen=True)
class OpenedCommunication:
    communication: Communication
    statement: bytes
    signature: bytes


def open_communication(
    sealed: bytes,
    recipient_key: X25519PrivateKey,
    *,
    sender_id: str,
    recipient_id: str,
    sender_identity_key: bytes,
) -> OpenedCommunication:
    """Open a sealed communication and check the operator's signature; errors say which."""
    where = f"message {message_id(sealed)[:16]} from {sender_id!r}"
    try:
        inner = open_sealed(sealed, recipient_key, exchange_aad(sender_id, recipient_id))
    except SealedBoxError as error:
        raise CommunicationError(f"{where}: {error}") from None
    try:
        data = json.loads(inner)
        statement = base64.b64decode(data["statement"], validate=True)
        signature = bytes.fromhex(data["signature"])
        named = (data["sender"], data["recipient"])
    except (ValueError, KeyError, TypeError) as error:
        raise CommunicationError(f"{where}: malformed inside ({error})") from None
    if named != (sender_id, recipient_id):
        raise CommunicationError(
            f"{where}: names sender {named[0]!r} and recipient {named[1]!r}, not the envelope's"
        )
    try:
        signing.verify(
            sender_identity_key,
            _statement_message(statement, sender_id, recipient_id),
            signature,
            context=STATEMENT_CONTEXT,
        )
    except SignatureError as error:
        raise CommunicationError(f"{where}: operator signature: {error}") from None
    return OpenedCommunication(Communication.from_json(statement, where), statement, signature)
