"""The coordinator's transparency log: every accepted submission, RFC 9162-style.

Entries are typed: signed submissions (the serialised SignedSubmission) and, at each close,
the campaign's published cohort (fedcarbon/cohorts.py), which starts with its own prefix.

Leaves live in the database (table ``logleaf``); an in-memory ``MerkleTree`` mirrors them and
is topped up from the database before each answer, so several replicas sharing one database
serve the same log. Tree heads are signed with the coordinator's Ed25519 log key.
"""

import threading
import time
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from coordinator.errors import InvalidRequestError, NotFoundError
from coordinator.store import CohortEntryRow, LogLeaf, SubmissionRow, leaf_hashes
from fedcarbon.audit import signing
from fedcarbon.audit.merkle import MerkleTree, leaf_hash
from fedcarbon.audit.receipts import Receipt
from fedcarbon.audit.treehead import TreeHead, sign_tree_head

MAX_ENTRIES_PER_CALL = 1000
# Bytes of entries in one GetEntries answer. A submission entry with three trustees is about
# 8.4 KB, so 1,000 of them (8.4 MB) overran the server's send limit and a client's default
# 4 MiB receive limit: trustees and auditors could not read a log of 1,000 submissions. A
# shorter page is allowed by the API (clients ask again from where the page ended).
MAX_ENTRY_BYTES_PER_CALL = 3 * 1024 * 1024


class TransparencyLog:
    def __init__(self, engine: Engine, key: Ed25519PrivateKey, log_id: str) -> None:
        self._engine = engine
        self._key = key
        self.log_id = log_id
        self.public_key = signing.public_key_bytes(key)
        self._tree = MerkleTree()
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> int:
        """Catch up with leaves appended by this or another replica; return the size."""
        with self._lock, Session(self._engine) as session:
            self._tree.extend(leaf_hashes(session, start=self._tree.size))
            return self._tree.size

    @staticmethod
    def next_index(session: Session) -> int:
        """The index the next leaf takes (callers insert in the same transaction)."""
        highest = session.exec(select(func.max(LogLeaf.leaf_index))).one()
        return 0 if highest is None else int(highest) + 1

    @staticmethod
    def stage(session: Session, index: int, submission_id: str, entry: bytes) -> None:
        session.add(
            LogLeaf(leaf_index=index, leaf_hash=leaf_hash(entry), submission_id=submission_id)
        )

    def tree_head(self, tree_size: int | None = None) -> TreeHead:
        size = self.refresh() if tree_size is None else tree_size
        if size > self._tree.size:
            self.refresh()
        with self._lock:
            root = self._tree.root(size)
        return sign_tree_head(self._key, self.log_id, size, root, int(time.time() * 1000))

    def receipt(self, leaf_index: int, entry: bytes) -> Receipt:
        return self.receipts([(leaf_index, entry)])[0]

    def receipts(self, leaves: Sequence[tuple[int, bytes]]) -> list[Receipt]:
        """Receipts for (leaf index, entry) pairs, all under one freshly signed tree head:
        a batch of appends (coordinator/batching.py) pays one signature, not one each."""
        head = self.tree_head()
        with self._lock:
            proofs = [self._tree.inclusion_proof(index, head.tree_size) for index, _ in leaves]
        return [
            Receipt(entry=entry, leaf_index=index, tree_head=head, inclusion_proof=proof)
            for (index, entry), proof in zip(leaves, proofs, strict=True)
        ]

    def inclusion_proof(self, leaf_index: int, tree_size: int) -> list[bytes]:
        size = self.refresh()
        if not 0 <= leaf_index < tree_size <= size:
            raise NotFoundError(
                f"no leaf {leaf_index} in a tree of size {tree_size} (log size is {size})"
            )
        with self._lock:
            return self._tree.inclusion_proof(leaf_index, tree_size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        size = self.refresh()
        if not 0 < old_size <= new_size <= size:
            raise InvalidRequestError(
                f"need 0 < old_size <= new_size <= {size}, got {old_size} and {new_size}"
            )
        with self._lock:
            return self._tree.consistency_proof(old_size, new_size)

    def entries(self, start: int, end: int) -> list[bytes]:
        if not 0 <= start < end or end - start > MAX_ENTRIES_PER_CALL:
            raise InvalidRequestError(
                f"entries: need 0 <= start < end and at most {MAX_ENTRIES_PER_CALL} per call"
            )
        with Session(self._engine) as session:
            submitted = session.exec(
                select(LogLeaf.leaf_index, SubmissionRow.entry)
                .join(SubmissionRow, SubmissionRow.submission_id == LogLeaf.submission_id)  # type: ignore[arg-type]
                .where(LogLeaf.leaf_index >= start, LogLeaf.leaf_index < end)
            ).all()
            cohorts = session.exec(
                select(LogLeaf.leaf_index, CohortEntryRow.entry)
                .join(CohortEntryRow, CohortEntryRow.entry_id == LogLeaf.submission_id)  # type: ignore[arg-type]
                .where(LogLeaf.leaf_index >= start, LogLeaf.leaf_index < end)
            ).all()
        page: list[bytes] = []
        size = 0
        for _, entry in sorted([*submitted, *cohorts]):
            if page and size + len(entry) > MAX_ENTRY_BYTES_PER_CALL:
                break  # the rest on the next call: always at least one entry per page
            page.append(entry)
            size += len(entry)
        return page
