"""The coordinator's database: SQLModel tables and the transactions that change them.

SQLite (WAL) is the embedded default; PostgreSQL works unchanged, and several coordinator
replicas may share one PostgreSQL: every invariant (one submission per participant and
campaign, one leaf per log index, one release per campaign) is a database constraint or a
compare-and-set, not process memory.

What is stored is ciphertexts, signatures, public keys and released aggregates: never a
participant's plaintext figure (privacy model, point 6).
"""

import time

from sqlalchemy import BigInteger, Engine, LargeBinary, UniqueConstraint, event
from sqlmodel import Column, Field, Session, SQLModel, create_engine, select

from fedcarbon.migrations import add_missing_columns
from fedcarbon.storage import watch


def now_ms() -> int:
    return int(time.time() * 1000)


class Participant(SQLModel, table=True):
    participant_id: str = Field(primary_key=True)
    organisation: str
    role: str
    identity_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    encryption_key: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    sector: str = ""
    region: str = ""
    size_band: str = ""
    enrolled_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)
    # "LEI:...", "VAT:..." or "CRN:...": the legal entity this participant claims to be; it
    # counts towards k only once attested (fedcarbon/federation/attestation.py).
    legal_id: str = ""


class AttestationRow(SQLModel, table=True):
    # Signed by a manifest trustee or registrar over the participant's exact enrolled record.
    participant_id: str = Field(primary_key=True)
    attester_key: bytes = Field(sa_column=Column(LargeBinary, primary_key=True))
    legal_id: str
    organisation: str
    identity_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)


class EnrolmentToken(SQLModel, table=True):
    # Only the SHA-256 of a token is kept: a database leak does not leak usable tokens.
    token_hash: str = Field(primary_key=True)
    role: str
    label: str = ""
    issued_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)
    used_unix_ms: int | None = Field(default=None, sa_type=BigInteger)
    used_by: str | None = None


class CampaignRow(SQLModel, table=True):
    campaign_id: str = Field(primary_key=True)
    # The campaign's terms as a serialised fedcarbon.v1.Campaign (digest-checked on read).
    definition: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(index=True)
    created_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)
    # The operator passed --allow-weak: below the default minimums (a test federation).
    weak_allowed: bool = False


class SubmissionRow(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "participant_id"),)
    submission_id: str = Field(primary_key=True)
    campaign_id: str = Field(index=True)
    participant_id: str
    entry: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    leaf_index: int
    accepted_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)


class LogLeaf(SQLModel, table=True):
    leaf_index: int = Field(primary_key=True)
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The entry's id: a SubmissionRow.submission_id, or a CohortEntryRow.entry_id.
    submission_id: str


class CohortEntryRow(SQLModel, table=True):
    # The cohort a campaign was closed with, as appended to the log (fedcarbon/cohorts.py).
    campaign_id: str = Field(primary_key=True)
    entry_id: str = Field(index=True)  # hex SHA-256 of the entry, as LogLeaf.submission_id
    entry: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    leaf_index: int


class AggregateRow(SQLModel, table=True):
    campaign_id: str = Field(primary_key=True)
    ciphertexts: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    count: int
    contributors: int
    contributor_ids: str  # JSON list, sorted
    digest: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)


class DecryptionShareRow(SQLModel, table=True):
    campaign_id: str = Field(primary_key=True)
    trustee_id: str = Field(primary_key=True)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    refusal: str = ""
    received_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)


class NoiseShareRow(SQLModel, table=True):
    # An encrypted noise vector from a trustee (differential privacy); opaque to the coordinator.
    campaign_id: str = Field(primary_key=True)
    trustee_id: str = Field(primary_key=True)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)


class IndicatorShareRow(SQLModel, table=True):
    # A trustee's signed openings of its non-zero indicators (counts, never figures).
    campaign_id: str = Field(primary_key=True)
    trustee_id: str = Field(primary_key=True)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    refusal: str = ""
    received_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)


class ResultSignatureRow(SQLModel, table=True):
    # A trustee's Ed25519 signature over a released result (fedcarbon.results.result_message).
    campaign_id: str = Field(primary_key=True)
    trustee_id: str = Field(primary_key=True)
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)


class ResultRow(SQLModel, table=True):
    campaign_id: str = Field(primary_key=True)
    # A serialised fedcarbon.v1.CampaignResult: released aggregates only.
    result: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    released_unix_ms: int = Field(default_factory=now_ms, sa_type=BigInteger)


# How long a writer waits for SQLite's lock before the request answers UNAVAILABLE.
SQLITE_BUSY_TIMEOUT_S = 10.0


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


# Columns added to existing tables since the first release, with the SQL default that fills
# them in rows written before (new tables are created by create_all).
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("participant", "legal_id", "VARCHAR NOT NULL DEFAULT ''"),
    ("campaignrow", "weak_allowed", "BOOLEAN NOT NULL DEFAULT FALSE"),
)


def migrate(engine: Engine) -> list[str]:
    """Add the columns that stores created by earlier versions lack; return what was added.

    Idempotent; runs at every start (open_engine), so `fedcarbon coordinator migrate` only
    makes it explicit. Replicas racing on PostgreSQL use ADD COLUMN IF NOT EXISTS.
    """
    return add_missing_columns(engine, ADDED_COLUMNS)


def open_engine(url: str) -> Engine:
    """Create the engine and the tables, migrate older stores; SQLite gets WAL and a timeout.

    A locked, unreachable, missing or corrupt database raises a StoreError naming it
    (fedcarbon/storage.py); the servicers answer UNAVAILABLE for it, the CLI one line.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    watch(engine)
    SQLModel.metadata.create_all(engine)
    migrate(engine)
    return engine


def leaf_hashes(session: Session, start: int = 0) -> list[bytes]:
    rows = session.exec(
        select(LogLeaf).where(LogLeaf.leaf_index >= start).order_by(LogLeaf.leaf_index)  # type: ignore[arg-type]
    ).all()
    return [row.leaf_hash for row in rows]
