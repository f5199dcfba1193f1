"""Sealed, signed communications: only the importer opens them, only the operator signs them."""

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fedcarbon.audit.signing import generate_signing_key, public_key_bytes, sign
from fedcarbon.cbam import envelope
from fedcarbon.cbam.communication import CommunicatedGood, Communication
from fedcarbon.cbam.errors import CommunicationError
from fedcarbon.crypto.sealing import seal

COMM = Communication(
    "IN-1", "Mill", "IN", "2026", (CommunicatedGood("HRC", "7208", "C", 1.8765432, 0.1, False, 0),)
)


def _raw(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.fixture
def parties():  # type: ignore[no-untyped-def]
    return generate_signing_key(), X25519PrivateKey.generate()


def _seal(operator, importer, sender="op", recipient="imp") -> bytes:  # type: ignore[no-untyped-def]
    return envelope.seal_communication(
        COMM,
        sender_id=sender,
        recipient_id=recipient,
        sender_identity=operator,
        recipient_encryption_key=_raw(importer),
    )


def test_importer_opens_and_verifies(parties) -> None:  # type: ignore[no-untyped-def]
    operator, importer = parties
    sealed = _seal(operator, importer)
    assert b"1.8765432" not in sealed and b"Mill" not in sealed
    opened = envelope.open_communication(
        sealed,
        importer,
        sender_id="op",
        recipient_id="imp",
        sender_identity_key=public_key_bytes(operator),
    )
    assert opened.communication == COMM


def test_another_key_cannot_open(parties) -> None:  # type: ignore[no-untyped-def]
    operator, importer = parties
    with pytest.raises(CommunicationError, match="does not open"):
        envelope.open_communication(
            _seal(operator, importer),
            X25519PrivateKey.generate(),
            sender_id="op",
            recipient_id="imp",
            sender_identity_key=public_key_bytes(operator),
        )


def test_relabelled_sender_does_not_open(parties) -> None:  # type: ignore[no-untyped-def]
    operator, importer = parties
    with pytest.raises(CommunicationError, match="does not open"):
        envelope.open_communication(
            _seal(operator, importer),
            importer,
            sender_id="someone-else",
            recipient_id="imp",
            sender_identity_key=public_key_bytes(operator),
        )


def test_wrong_signer_is_refused(parties) -> None:  # type: ignore[no-untyped-def]
    operator, importer = parties
    with pytest.raises(CommunicationError, match="operator signature"):
        envelope.open_communication(
            _seal(operator, importer),
            importer,
            sender_id="op",
            recipient_id="imp",
            sender_identity_key=public_key_bytes(generate_signing_key()),
        )


def test_inner_names_must_match_the_envelope(parties) -> None:  # type: ignore[no-untyped-def]
    operator, importer = parties
    # A statement sealed with the right associated data but naming another recipient inside.
    inner = b'{"recipient": "other", "sender": "op", "signature": "00", "statement": "e30="}'
    sealed = seal(inner, _raw(importer), envelope.exchange_aad("op", "imp"))
    with pytest.raises(CommunicationError, match="not the envelope's"):
        envelope.open_communication(
            sealed,
            importer,
            sender_id="op",
            recipient_id="imp",
            sender_identity_key=public_key_bytes(operator),
        )


def test_published_key_must_be_signed_by_the_identity() -> None:
    identity, other = generate_signing_key(), generate_signing_key()
    key = bytes(32)
    good = sign(identity, envelope.key_message("imp", key), context=envelope.KEY_CONTEXT)
    envelope.verify_key("imp", public_key_bytes(identity), key, good)
    with pytest.raises(CommunicationError, match="exchange key of 'imp'"):
        envelope.verify_key("imp", public_key_bytes(other), key, good)


def test_log_entry_names_no_one(parties) -> None:  # type: ignore[no-untyped-def]
    sealed = _seal(*parties, sender="nordstahl-1234", recipient="helix-5678")
    entry = envelope.log_entry(sealed)
    assert b"nordstahl" not in entry and b"helix" not in entry and len(entry) == 27 + 32
