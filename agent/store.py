"""The agent's local SQLite store: its enrolment, receipts, privacy budget spending.

This database stays on the participant's premises; it may hold the participant's own
figures (what it submitted), which never leave the machine in plaintext.
"""

import json
import os
import time
from typing import Any

from sqlalchemy import BigInteger, Engine, LargeBinary, event
from sqlmodel import Column, Field, Session, SQLModel, create_engine, select

from fedcarbon.audit.receipts import Receipt
from fedcarbon.audit.treehead import TreeHead
from fedcarbon.federation.errors import ManifestError
from fedcarbon.federation.manifest import Manifest, manifest_from_json
from fedcarbon.migrations import add_missing_columns
from fedcarbon.storage import watch


class Enrolment(SQLModel, table=True):
    participant_id: str = Field(primary_key=True)
    coordinator: str
    role: str
    log_id: str
    log_public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    enrolled_unix_ms: int = Field(sa_type=BigInteger)
    # The legal identifier this participant enrolled with (what attesters vouch for).
    legal_id: str = ""


class PinnedManifest(SQLModel, table=True):
    """The federation manifest this agent accepts key holders from (one row).

    Pinned by the supplier from a file it chose (`agent init --manifest`, `agent manifest
    update`); the coordinator has no way to change it.
    """

    slot: int = Field(default=1, primary_key=True)
    fingerprint: str
    document: str
    pinned_unix_ms: int = Field(sa_type=BigInteger)


class ManifestChange(SQLModel, table=True):
    """Every pin or change of the manifest, with old and new fingerprints (an audit trail)."""

    id: int | None = Field(default=None, primary_key=True)
    old_fingerprint: str
    new_fingerprint: str
    source: str
    changed_unix_ms: int = Field(sa_type=BigInteger)


class SubmissionRecord(SQLModel, table=True):
    campaign_id: str = Field(primary_key=True)
    submission_id: str
    leaf_index: int
    receipt_json: str
    # What was encrypted, kept locally so the participant can always see what it sent.
    values_json: str
    submitted_unix_ms: int = Field(sa_type=BigInteger)


class PendingSubmission(SQLModel, table=True):
    """A signed submission kept before it is sent: a retry after a lost reply resends these
    exact bytes, which the coordinator recognises as the same submission (counted once)."""

    campaign_id: str = Field(primary_key=True)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    values_json: str


class BudgetSpend(SQLModel, table=True):
    """One campaign this agent contributed to, for its privacy ledger (epsilon 0 = no noise)."""

    campaign_id: str = Field(primary_key=True)
    period: str
    kind: str = "benchmark"
    epsilon: float
    delta: float
    spent_unix_ms: int = Field(sa_type=BigInteger)


class ExactCampaign(SQLModel, table=True):
    """An exact (epsilon 0) campaign this agent joined: its differencing ledger.

    ``cohort_json`` is filled from the campaign's cohort entry in the log once it is closed;
    until then the invitation list (if any) stands in for the cohort.
    """

    campaign_id: str = Field(primary_key=True)
    campaign_digest: str
    metrics_json: str
    period: str
    audience: str
    invited_json: str
    cohort_json: str | None = None
    joined_unix_ms: int = Field(sa_type=BigInteger)


class SeenHead(SQLModel, table=True):
    """A signed tree head of the coordinator's log seen here or gossiped to this trustee.

    ``verified`` marks heads already proved to be a prefix of a head the coordinator showed
    this party (fedcarbon/audit/gossip.py), so each head is proved once.
    """

    log_key: str = Field(primary_key=True)  # hex raw Ed25519 log key
    tree_size: int = Field(primary_key=True, sa_type=BigInteger)
    root_hash: str = Field(primary_key=True)
    head_json: str
    verified: bool = False
    seen_unix_ms: int = Field(sa_type=BigInteger)


def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Columns added to existing tables since the first release (new tables come from create_all).
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("enrolment", "legal_id", "VARCHAR NOT NULL DEFAULT ''"),
)


def migrate(engine: Engine) -> list[str]:
    """Add the columns an older store lacks; idempotent, run by open_store at every start."""
    return add_missing_columns(engine, ADDED_COLUMNS)


def open_store(url: str) -> Engine:
    """Open (creating if needed) the agent's store, readable by its owner only.

    It holds the participant's own submitted figures in plaintext, so the file is 0600. A
    corrupt, locked or full store raises a StoreError naming the file (fedcarbon/storage.py).
    """
    engine = watch(create_engine(url, connect_args={"check_same_thread": False}))
    event.listen(engine, "connect", _pragmas)
    SQLModel.metadata.create_all(engine)
    migrate(engine)
    path = engine.url.database
    if path and os.path.exists(path):
        os.chmod(path, 0o600)
    return engine


def pending(engine: Engine, campaign_id: str) -> PendingSubmission | None:
    with Session(engine) as session:
        return session.get(PendingSubmission, campaign_id)


def save_pending(engine: Engine, row: PendingSubmission) -> None:
    with Session(engine) as session:
        session.merge(row)
        session.commit()


def clear_pending(engine: Engine, campaign_id: str) -> None:
    with Session(engine) as session:
        row = session.get(PendingSubmission, campaign_id)
        if row is not None:
            session.delete(row)
            session.commit()


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


def exact_campaigns(engine: Engine) -> list[ExactCampaign]:
    with Session(engine) as session:
        return list(session.exec(select(ExactCampaign)).all())


def record_exact_campaign(engine: Engine, row: ExactCampaign) -> None:
    """Add a joined campaign to the ledger (kept as first recorded) or fill in its cohort."""
    with Session(engine) as session:
        existing = session.get(ExactCampaign, row.campaign_id)
        if existing is None:
            session.add(row)
        elif row.cohort_json is not None and existing.cohort_json is None:
            existing.cohort_json = row.cohort_json
            session.add(existing)
        session.commit()


def remember_heads(engine: Engine, log_key: bytes, heads: list[TreeHead]) -> None:
    """Keep each (size, root) of the log once, with the first signed head seen for it."""
    with Session(engine) as session:
        for head in heads:
            key = (log_key.hex(), head.tree_size, head.root_hash.hex())
            if session.get(SeenHead, key) is None:
                session.add(
                    SeenHead(
                        log_key=key[0],
                        tree_size=key[1],
                        root_hash=key[2],
                        head_json=head.to_json(),
                        seen_unix_ms=int(time.time() * 1000),
                    )
                )
                session.flush()
        session.commit()


def seen_heads(
    engine: Engine, log_key: bytes, *, sizes: set[int] | None = None, latest: int = 0
) -> list[SeenHead]:
    """Heads of the given sizes, plus the ``latest`` largest ones."""
    with Session(engine) as session:
        base = select(SeenHead).where(SeenHead.log_key == log_key.hex())
        found = {}
        if sizes:
            for row in session.exec(base.where(SeenHead.tree_size.in_(sizes))).all():  # type: ignore[attr-defined]
                found[(row.tree_size, row.root_hash)] = row
        if latest:
            query = base.order_by(SeenHead.tree_size.desc()).limit(latest)  # type: ignore[attr-defined]
            for row in session.exec(query).all():
                found[(row.tree_size, row.root_hash)] = row
        return list(found.values())


def unverified_heads(engine: Engine, log_key: bytes) -> list[SeenHead]:
    """Heads not yet proved consistent, and the largest one that was (the checkpoint)."""
    with Session(engine) as session:
        base = select(SeenHead).where(SeenHead.log_key == log_key.hex())
        rows = list(session.exec(base.where(SeenHead.verified == False)).all())  # noqa: E712
        checkpoint = session.exec(
            base.where(SeenHead.verified == True).order_by(SeenHead.tree_size.desc())  # type: ignore[attr-defined]  # noqa: E712
        ).first()
        return rows + ([checkpoint] if checkpoint is not None else [])


def mark_verified(engine: Engine, log_key: bytes, heads: list[TreeHead]) -> None:
    with Session(engine) as session:
        for head in heads:
            row = session.get(SeenHead, (log_key.hex(), head.tree_size, head.root_hash.hex()))
            if row is not None and not row.verified:
                row.verified = True
                session.add(row)
        session.commit()


def pinned_manifest(engine: Engine) -> Manifest | None:
    """The pinned manifest, its signatures verified again (the store could be tampered with)."""
    with Session(engine) as session:
        row = session.get(PinnedManifest, 1)
    if row is None:
        return None
    manifest = manifest_from_json(row.document, "the pinned manifest in agent.sqlite")
    if manifest.fingerprint != row.fingerprint:
        raise ManifestError("the pinned manifest does not match its recorded fingerprint")
    return manifest


def pin_manifest(engine: Engine, manifest: Manifest, source: str, when_ms: int) -> str:
    """Pin ``manifest`` (already verified) and log the change; return the old fingerprint."""
    with Session(engine) as session:
        row = session.get(PinnedManifest, 1)
        old = row.fingerprint if row else ""
        session.merge(
            PinnedManifest(
                slot=1,
                fingerprint=manifest.fingerprint,
                document=manifest.to_json(),
                pinned_unix_ms=when_ms,
            )
        )
        session.add(
            ManifestChange(
                old_fingerprint=old,
                new_fingerprint=manifest.fingerprint,
                source=source,
                changed_unix_ms=when_ms,
            )
        )
        session.commit()
    return old


def manifest_changes(engine: Engine) -> list[ManifestChange]:
    with Session(engine) as session:
        query = select(ManifestChange).order_by(ManifestChange.id)  # type: ignore[arg-type]
        return list(session.exec(query).all())
