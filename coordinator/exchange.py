"""The Exchange service: CBAM communications carried from operators to importers, unread.

The coordinator checks who sends (an enrolled participant's Ed25519 signature over the
sealed blob's digest and a fresh timestamp) and to whom (an enrolled participant with a
published exchange key), stores the blob as it came, and appends its digest to the
transparency log, so the sender holds a receipt and the recipient can prove what it was sent.
It holds no key that opens a blob (fedcarbon/cbam/envelope.py): its database has ciphertext
and digests only (privacy model, point 6).

Log leaves share the ``submissionrow`` table with campaign submissions (the log reads its
entries from there); an exchange message's row has campaign id ``cbam-exchange/<message id>``,
which no campaign id can take (campaign ids have no ``/``).
"""

import logging
import threading
import time

import grpc
from sqlalchemy import BigInteger, Engine, LargeBinary
from sqlalchemy.exc import IntegrityError
from sqlmodel import Column, Field, Session, SQLModel, select

from coordinator.errors import (
    InvalidRequestError,
    NotFoundError,
    UnauthenticatedError,
    UnavailableError,
)
from coordinator.log import TransparencyLog
from coordinator.service import rpc
from coordinator.store import Participant, SubmissionRow, now_ms
from fedcarbon import serde
from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.cbam import envelope
from fedcarbon.submission import entry_id
from fedcarbon.v1 import exchange_pb2, exchange_pb2_grpc

log = logging.getLogger("fedcarbon.coordinator")

MAX_CLOCK_SKEW_MS = 5 * 60 * 1000
MAX_INBOX = 1000
_APPEND_RETRIES = 20
LOG_NAMESPACE = "cbam-exchange/"


class ExchangeKeyRow(SQLModel, table=True):
    participant_id: str = Field(primary_key=True)
    encryption_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    published_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)


class ExchangeMessageRow(SQLModel, table=True):
    # The sealed blob as the sender made it: opaque to the coordinator.
    message_id: str = Field(primary_key=True)
    sender_id: str
    recipient_id: str = Field(index=True)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    leaf_index: int
    received_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)


def _participant(
    engine: Engine,
    participant_id: str,
    role: str,
    missing: type[Exception] = UnauthenticatedError,
) -> Participant:
    with Session(engine) as session:
        found = session.get(Participant, participant_id)
    if found is None:
        raise missing(f"{role} {participant_id!r} is not an enrolled participant")
    return found


def _verify(key: bytes, message: bytes, signature: bytes, context: bytes, what: str) -> None:
    try:
        signing.verify(key, message, signature, context=context)
    except SignatureError as error:
        raise UnauthenticatedError(f"{what}: {error}") from None


def _fresh(timestamp_ms: int) -> None:
    if abs(time.time() * 1000 - timestamp_ms) > MAX_CLOCK_SKEW_MS:
        raise UnauthenticatedError("request timestamp is too far from now")


class ExchangeService(exchange_pb2_grpc.ExchangeServicer):
    def __init__(self, engine: Engine, log_: TransparencyLog) -> None:
        SQLModel.metadata.create_all(
            engine,
            tables=[ExchangeKeyRow.__table__, ExchangeMessageRow.__table__],  # type: ignore[attr-defined]
        )
        self._engine = engine
        self._log = log_
        self._lock = threading.Lock()

    @rpc
    def PublishKey(
        self, request: exchange_pb2.PublishKeyRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.PublishKeyResponse:
        who = _participant(self._engine, request.participant_id, "key owner")
        if len(request.encryption_public_key) != 32:
            raise InvalidRequestError("encryption_public_key must be 32 bytes (X25519)")
        _verify(
            who.identity_key,
            envelope.key_message(request.participant_id, request.encryption_public_key),
            request.signature,
            envelope.KEY_CONTEXT,
            "exchange key signature",
        )
        with Session(self._engine) as session:
            session.merge(
                ExchangeKeyRow(
                    participant_id=request.participant_id,
                    encryption_key=request.encryption_public_key,
                    signature=request.signature,
                )
            )
            session.commit()
        log.info("exchange key published", extra={"participant": request.participant_id})
        return exchange_pb2.PublishKeyResponse()

    @rpc
    def GetKey(
        self, request: exchange_pb2.GetKeyRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ExchangeKey:
        with Session(self._engine) as session:
            row = session.get(ExchangeKeyRow, request.participant_id)
            who = session.get(Participant, request.participant_id)
        if row is None or who is None:
            raise NotFoundError(f"{request.participant_id!r} has published no exchange key")
        return exchange_pb2.ExchangeKey(
            participant_id=request.participant_id,
            identity_public_key=who.identity_key,
            encryption_public_key=row.encryption_key,
            signature=row.signature,
        )

    @rpc
    def Send(
        self, request: exchange_pb2.SendRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.SendResponse:
        sender = _participant(self._engine, request.sender_id, "sender")
        _fresh(request.timestamp_ms)
        _verify(
            sender.identity_key,
            envelope.send_message(
                request.sender_id, request.recipient_id, request.sealed, request.timestamp_ms
            ),
            request.signature,
            envelope.SEND_CONTEXT,
            "send signature",
        )
        if not request.sealed or len(request.sealed) > envelope.MAX_SEALED_BYTES:
            raise InvalidRequestError(f"sealed must hold 1 to {envelope.MAX_SEALED_BYTES} bytes")
        _participant(self._engine, request.recipient_id, "recipient", NotFoundError)
        with Session(self._engine) as session:
            if session.get(ExchangeKeyRow, request.recipient_id) is None:
                raise NotFoundError(f"{request.recipient_id!r} has published no exchange key")
        mid = envelope.message_id(request.sealed)
        entry = envelope.log_entry(request.sealed)
        index, duplicate = self._append(request, mid, entry)
        log.info("exchange message accepted", extra={"leaf_index": index, "duplicate": duplicate})
        return exchange_pb2.SendResponse(
            message_id=mid,
            receipt=serde.receipt_to_proto(self._log.receipt(index, entry)),
            duplicate=duplicate,
        )

    def _existing(self, mid: str) -> ExchangeMessageRow | None:
        with Session(self._engine) as session:
            return session.get(ExchangeMessageRow, mid)

    def _append(
        self, request: exchange_pb2.SendRequest, mid: str, entry: bytes
    ) -> tuple[int, bool]:
        for _ in range(_APPEND_RETRIES):
            found = self._existing(mid)
            if found is not None:
                if (found.sender_id, found.recipient_id) != (
                    request.sender_id,
                    request.recipient_id,
                ):
                    raise InvalidRequestError(f"message {mid[:16]} was sent by someone else")
                return found.leaf_index, True
            with self._lock, Session(self._engine) as session:
                index = TransparencyLog.next_index(session)
                leaf_id = entry_id(entry)
                session.add(
                    SubmissionRow(
                        submission_id=leaf_id,
                        campaign_id=LOG_NAMESPACE + mid,
                        participant_id=request.sender_id,
                        entry=entry,
                        leaf_index=index,
                    )
                )
                session.add(
                    ExchangeMessageRow(
                        message_id=mid,
                        sender_id=request.sender_id,
                        recipient_id=request.recipient_id,
                        sealed=request.sealed,
                        leaf_index=index,
                    )
                )
                TransparencyLog.stage(session, index, leaf_id, entry)
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    continue  # another replica took this index, or the same message raced
                return index, False
        raise UnavailableError("could not append to the log after several attempts; try again")

    @rpc
    def Inbox(
        self, request: exchange_pb2.InboxRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.InboxResponse:
        who = _participant(self._engine, request.participant_id, "recipient")
        _fresh(request.timestamp_ms)
        _verify(
            who.identity_key,
            envelope.inbox_message(request.participant_id, request.timestamp_ms),
            request.signature,
            envelope.INBOX_CONTEXT,
            "inbox signature",
        )
        with Session(self._engine) as session:
            rows = session.exec(
                select(ExchangeMessageRow)
                .where(ExchangeMessageRow.recipient_id == request.participant_id)
                .order_by(ExchangeMessageRow.leaf_index)  # type: ignore[arg-type]
                .limit(MAX_INBOX)
            ).all()
            senders = {
                p.participant_id: p.identity_key
                for p in session.exec(
                    select(Participant).where(
                        Participant.participant_id.in_({r.sender_id for r in rows})  # type: ignore[attr-defined]
                    )
                ).all()
            }
        return exchange_pb2.InboxResponse(
            messages=[
                exchange_pb2.SealedMessage(
                    message_id=r.message_id,
                    sender_id=r.sender_id,
                    sender_identity_public_key=senders.get(r.sender_id, b""),
                    sealed=r.sealed,
                    leaf_index=r.leaf_index,
                    received_unix_ms=r.received_unix_ms,
                )
                for r in rows
            ]
        )
