"""Enrolment: single-use tokens issued by the operator, redeemed once with an identity key."""

import hashlib
import secrets

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from coordinator.errors import ConflictError, InvalidRequestError, UnauthenticatedError
from coordinator.store import EnrolmentToken, Participant, now_ms
from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.federation.errors import LegalIdError
from fedcarbon.federation.legal_id import normalise_legal_id
from fedcarbon.submission import ENROL_CONTEXT, enrolment_message
from fedcarbon.tls import TlsError, check_client_key, enrolment_common_name

ROLES = ("supplier", "buyer", "trustee")
TOKEN_BYTES = 24  # 192 bits: not guessable, short enough to paste


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_id(token: str) -> str:
    """A token's public name: the first 16 hex digits of its stored hash (names no secret).

    The invite's enrolment certificate carries it as CN ``enrol:<token id>``.
    """
    return _hash(token)[:16]


def issue_tokens(engine: Engine, role: str, count: int = 1, label: str = "") -> list[str]:
    """New single-use tokens; only their hashes are stored."""
    if role not in ROLES:
        raise InvalidRequestError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not 1 <= count <= 10_000:
        raise InvalidRequestError(f"count must be between 1 and 10000, got {count}")
    tokens = [f"fct_{secrets.token_urlsafe(TOKEN_BYTES)}" for _ in range(count)]
    with Session(engine) as session:
        for token in tokens:
            session.add(EnrolmentToken(token_hash=_hash(token), role=role, label=label))
        session.commit()
    return tokens


def new_participant_id() -> str:
    """A random id, ``p-`` + 16 hex digits (64 bits): it names no organisation.

    Participant ids appear in the public transparency log (submissions, cohorts), so they must
    not be derived from the organisation's name (privacy model point 8).
    """
    return f"p-{secrets.token_hex(8)}"


def enrol(
    engine: Engine,
    *,
    token: str,
    organisation: str,
    identity_key: bytes,
    signature: bytes,
    encryption_key: bytes = b"",
    sector: str = "",
    region: str = "",
    size_band: str = "",
    legal_id: str = "",
    tls_public_key: bytes = b"",
    peer_common_name: str | None = None,
) -> Participant:
    """Redeem a token: proof of key possession first, then a compare-and-set on the token.

    ``legal_id`` must be canonical (fedcarbon/federation/legal_id.py), as the agent signs it:
    it is what attesters check and what k counts once per legal entity.

    ``peer_common_name`` (over TLS: the CN of the client certificate the call came with) must
    be the invite's enrolment certificate of this very token, so a token alone, or another
    token's certificate, enrols nobody.
    """
    if not organisation.strip():
        raise InvalidRequestError("organisation is required")
    if legal_id:
        try:
            canonical = normalise_legal_id(legal_id)
        except LegalIdError as error:
            raise InvalidRequestError(str(error)) from None
        if canonical != legal_id:
            raise InvalidRequestError(f"legal_id {legal_id!r} must be sent as {canonical!r}")
    if encryption_key and len(encryption_key) != 32:
        raise InvalidRequestError("encryption_public_key must be 32 bytes (X25519)")
    if peer_common_name is not None:  # over TLS: a client certificate is what enrolment yields
        if not tls_public_key:
            raise InvalidRequestError(
                "tls_public_key is required: this coordinator serves TLS and answers "
                "enrolment with a client certificate for your own key"
            )
        try:
            check_client_key(tls_public_key)
        except TlsError as error:
            raise InvalidRequestError(str(error)) from None
    try:
        message = enrolment_message(
            token, organisation, encryption_key, sector, region, size_band, legal_id, tls_public_key
        )
        signing.verify(identity_key, message, signature, context=ENROL_CONTEXT)
    except SignatureError as error:
        raise UnauthenticatedError(f"enrolment signature: {error}") from None
    if peer_common_name is not None and peer_common_name != enrolment_common_name(token_id(token)):
        raise UnauthenticatedError(
            f"the client certificate ({peer_common_name!r}) is not the enrolment certificate "
            "of this token: enrol with the invite the token came in"
        )
    participant_id = new_participant_id()
    with Session(engine) as session:
        row = session.get(EnrolmentToken, _hash(token))
        if row is None:
            raise UnauthenticatedError("unknown enrolment token")
        already = session.exec(
            select(Participant).where(Participant.identity_key == identity_key)
        ).first()
        if already is not None:
            if row.used_by == already.participant_id:
                # The same signed request again (its reply was lost, the agent resent it):
                # answer as the first time, so a retry is safe.
                return already
            raise ConflictError(f"identity key already enrolled as {already.participant_id}")
        claimed = session.exec(
            update(EnrolmentToken)
            .where(EnrolmentToken.token_hash == row.token_hash)  # type: ignore[arg-type]
            .where(EnrolmentToken.used_unix_ms.is_(None))  # type: ignore[union-attr]
            .values(used_unix_ms=now_ms(), used_by=participant_id)
        )
        if claimed.rowcount != 1:
            raise ConflictError("enrolment token was already used")
        participant = Participant(
            participant_id=participant_id,
            organisation=organisation.strip(),
            role=row.role,
            identity_key=identity_key,
            encryption_key=encryption_key,
            sector=sector,
            region=region,
            size_band=size_band,
            legal_id=legal_id,
        )
        session.add(participant)
        session.commit()
        session.refresh(participant)
        return participant


def list_participants(engine: Engine) -> list[Participant]:
    with Session(engine) as session:
        return list(session.exec(select(Participant).order_by(Participant.participant_id)).all())


def list_trustees(engine: Engine) -> list[Participant]:
    with Session(engine) as session:
        query = select(Participant).where(Participant.role == "trustee")
        return list(session.exec(query.order_by(Participant.participant_id)).all())
