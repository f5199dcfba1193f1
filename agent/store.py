"""The agent's local SQLite store: its enrolment, receipts, privacy budget spending.

This database stays on the participant's premises; it may hold the participant's own
figures (what it submitted), which never leave the machine in plaintext.
"""

import json
from typing import Any

from sqlalchemy import BigInteger, Engine, LargeBinary, event
from sqlmodel import Column, Field, Session, SQLModel, create_engine, select

from fedcarbon.audit.receipts import Receipt


class Enrolment(SQLModel, table=True):
    participant_id: str = Field(primary_key=True)
    coordinator: str
    role: str
    log_id: str
    log_public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    enrolled_unix_ms: int = Field(sa_type=BigInteger)


class SubmissionRecord(SQLModel, table=True):
    campaign_id: str = Field(primary_key=True)
    submission_id: str
    leaf_index: int
    receipt_json: str
    # What was encrypted, kept locally so the participant can always see what it sent.
    values_json: str
    submitted_unix_ms: int = Field(sa_type=BigInteger)


class BudgetSpend(SQLModel, table=True):
    """One campaign this agent contributed to, for its privacy ledger (epsilon 0 = no noise)."""

    campaign_id: str = Field(primary_key=True)
    period: str
    kind: str = "benchmark"
    epsilon: float
    delta: float
    spent_unix_ms: int = Field(sa_type=BigInteger)


def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_store(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _pragmas)
    SQLModel.metadata.create_all(engine)
    return engine


def enrolment(engine: Engine) -> Enrolment | None:
    with Session(engine) as session:
        return session.exec(select(Enrolment)).first()


def save_submission(
    engine: Engine, campaign_id: str, receipt: Receipt, values: dict[str, Any], when_ms: int
) -> None:
    from fedcarbon.submission import entry_id

    with Session(engine) as session:
        session.merge(
            SubmissionRecord(
                campaign_id=campaign_id,
                submission_id=entry_id(receipt.entry),
                leaf_index=receipt.leaf_index,
                receipt_json=receipt.to_json(),
                values_json=json.dumps(values, sort_keys=True, default=str),
                submitted_unix_ms=when_ms,
            )
        )
        session.commit()


def submissions(engine: Engine) -> list[SubmissionRecord]:
    with Session(engine) as session:
        query = select(SubmissionRecord).order_by(
            SubmissionRecord.submitted_unix_ms  # type: ignore[arg-type]
        )
        return list(session.exec(query).all())


def spent(engine: Engine) -> list[BudgetSpend]:
    with Session(engine) as session:
        return list(session.exec(select(BudgetSpend)).all())


def record_spend(engine: Engine, spend: BudgetSpend) -> None:
    with Session(engine) as session:
        if session.get(BudgetSpend, spend.campaign_id) is None:
            session.add(spend)
            session.commit()
