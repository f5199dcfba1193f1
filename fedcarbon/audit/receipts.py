"""What the transparency log hands out, and how anyone checks it without trusting the log.

Three pieces of evidence, each a small dataclass with a deterministic JSON form
(docs/transparency-log.md) and a verify function that raises a `VerificationError` subclass
whose `check` attribute names exactly what failed:

- `Receipt`: an agent's proof that its submission is entry `leaf_index` of the log, i.e. an
  RFC 9162 inclusion proof (section 2.1.3) bound to a signed tree head.
- `ConsistencyEvidence`: two signed tree heads of one log plus an RFC 9162 consistency proof
  (section 2.1.4) that the older tree is a prefix of the newer: the log only appended.
- `LogExport`: every entry of the log and its signed tree head; recomputing the Merkle Tree
  Hash (RFC 9162 section 2.1.1) from the entries must give the signed root.
"""

from dataclasses import dataclass

from fedcarbon.audit import encoding, merkle
from fedcarbon.audit.errors import (
    AuditFormatError,
    ConsistencyError,
    LogExportError,
    ReceiptError,
    TreeHeadError,
    VerificationError,
)
from fedcarbon.audit.signing import PUBLIC_KEY_BYTES
from fedcarbon.audit.treehead import TreeHead, verify_tree_head

RECEIPT_FORMAT = "fedcarbon.receipt.v1"
CONSISTENCY_PROOF_FORMAT = "fedcarbon.consistency-proof.v1"
CONSISTENCY_EVIDENCE_FORMAT = "fedcarbon.consistency.v1"
LOG_EXPORT_FORMAT = "fedcarbon.log-export.v1"


def _check_head(head: TreeHead, key: bytes, error: type[VerificationError], role: str) -> None:
    """Verify a tree head's signature, re-raising as `error` so callers catch one type."""
    try:
        verify_tree_head(head, key)
    except TreeHeadError as err:
        raise error(f"{role}: {err}", check=err.check) from err


@dataclass(frozen=True)
class Receipt:
    """Proof that `entry` is leaf `leaf_index` of the log whose signed head is `tree_head`."""

    entry: bytes
    leaf_index: int
    tree_head: TreeHead
    inclusion_proof: list[bytes]

    def to_dict(self) -> encoding.JsonObject:
        """The JSON object form."""
        return {
            "format": RECEIPT_FORMAT,
            "entry": encoding.encode_base64(self.entry),
            "leaf_index": self.leaf_index,
            "tree_head": self.tree_head.to_dict(),
            "inclusion_proof": [p.hex() for p in self.inclusion_proof],
        }

    def to_json(self) -> str:
        """Deterministic JSON text."""
        return encoding.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, obj: object, path: str = "receipt") -> "Receipt":
        """Decode the JSON object form; errors name the field path."""
        data = encoding.as_object(obj, path)
        fields = ("format", "entry", "leaf_index", "tree_head", "inclusion_proof")
        encoding.check_keys(data, fields, path)
        encoding.check_format(data, RECEIPT_FORMAT, path)
        return cls(
            entry=encoding.decode_base64(data["entry"], f"{path}.entry"),
            leaf_index=encoding.get_int(data, "leaf_index", path),
            tree_head=TreeHead.from_dict(data["tree_head"], f"{path}.tree_head"),
            inclusion_proof=encoding.get_hex_list(
                data, "inclusion_proof", path, size=merkle.HASH_SIZE
            ),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "Receipt":
        """Parse JSON text written by `to_json`."""
        return cls.from_dict(encoding.loads(text, "receipt"))


def verify_receipt(
    receipt: Receipt, log_public_key_raw: bytes, *, log_id: str | None = None
) -> None:
    """Check a receipt against the log's public key (and, if given, the expected log id).

    Order: tree-head signature, log id, index range, then RFC 9162 section 2.1.3.2 inclusion
    of HASH(0x00 || entry) at `leaf_index` under the signed root.

    Raises:
        ReceiptError: `check` is one of "tree_head_format", "tree_head_signature", "log_id",
            "leaf_index_out_of_range", "inclusion_proof".
    """
    head = receipt.tree_head
    _check_head(head, log_public_key_raw, ReceiptError, "receipt")
    if log_id is not None and head.log_id != log_id:
        raise ReceiptError(
            f"receipt is from log {head.log_id!r}, expected log {log_id!r}", check="log_id"
        )
    if not 0 <= receipt.leaf_index < head.tree_size:
        raise ReceiptError(
            f"receipt leaf_index {receipt.leaf_index} is out of range for tree_size "
            f"{head.tree_size}",
            check="leaf_index_out_of_range",
        )
    if not merkle.verify_inclusion(
        merkle.leaf_hash(receipt.entry),
        receipt.leaf_index,
        head.tree_size,
        receipt.inclusion_proof,
        head.root_hash,
    ):
        raise ReceiptError(
            f"receipt inclusion proof for leaf_index {receipt.leaf_index} does not lead to the "
            f"signed root {head.root_hash.hex()} of tree_size {head.tree_size} (the entry, the "
            "index or the proof was altered)",
            check="inclusion_proof",
        )


@dataclass(frozen=True)
class ConsistencyProof:
    """A bare RFC 9162 consistency proof between two tree sizes, as served by the log."""

    old_size: int
    new_size: int
    proof: list[bytes]

    def to_dict(self) -> encoding.JsonObject:
        """The JSON object form."""
        return {
            "format": CONSISTENCY_PROOF_FORMAT,
            "old_size": self.old_size,
            "new_size": self.new_size,
            "proof": [p.hex() for p in self.proof],
        }

    def to_json(self) -> str:
        """Deterministic JSON text."""
        return encoding.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, obj: object, path: str = "consistency_proof") -> "ConsistencyProof":
        """Decode the JSON object form; errors name the field path."""
        data = encoding.as_object(obj, path)
        encoding.check_keys(data, ("format", "old_size", "new_size", "proof"), path)
        encoding.check_format(data, CONSISTENCY_PROOF_FORMAT, path)
        return cls(
            old_size=encoding.get_int(data, "old_size", path),
            new_size=encoding.get_int(data, "new_size", path),
            proof=encoding.get_hex_list(data, "proof", path, size=merkle.HASH_SIZE),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "ConsistencyProof":
        """Parse JSON text written by `to_json`."""
        return cls.from_dict(encoding.loads(text, "consistency_proof"))


@dataclass(frozen=True)
class ConsistencyEvidence:
    """Two signed heads of one log and the proof that `old` is a prefix of `new`."""

    old: TreeHead
    new: TreeHead
    proof: list[bytes]

    @classmethod
    def from_parts(
        cls, old: TreeHead, new: TreeHead, proof: ConsistencyProof
    ) -> "ConsistencyEvidence":
        """Join two tree-head files and a proof file, refusing a proof made for other sizes."""
        if (proof.old_size, proof.new_size) != (old.tree_size, new.tree_size):
            raise ConsistencyError(
                f"proof is for sizes {proof.old_size} -> {proof.new_size}, but the tree heads "
                f"have sizes {old.tree_size} -> {new.tree_size}",
                check="proof_sizes",
            )
        return cls(old, new, list(proof.proof))

    def to_dict(self) -> encoding.JsonObject:
        """The JSON object form."""
        return {
            "format": CONSISTENCY_EVIDENCE_FORMAT,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "proof": [p.hex() for p in self.proof],
        }

    def to_json(self) -> str:
        """Deterministic JSON text."""
        return encoding.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, obj: object, path: str = "consistency") -> "ConsistencyEvidence":
        """Decode the JSON object form; errors name the field path."""
        data = encoding.as_object(obj, path)
        encoding.check_keys(data, ("format", "old", "new", "proof"), path)
        encoding.check_format(data, CONSISTENCY_EVIDENCE_FORMAT, path)
        return cls(
            old=TreeHead.from_dict(data["old"], f"{path}.old"),
            new=TreeHead.from_dict(data["new"], f"{path}.new"),
            proof=encoding.get_hex_list(data, "proof", path, size=merkle.HASH_SIZE),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "ConsistencyEvidence":
        """Parse JSON text written by `to_json`."""
        return cls.from_dict(encoding.loads(text, "consistency"))


def verify_consistency_evidence(evidence: ConsistencyEvidence, log_public_key_raw: bytes) -> None:
    """Check that both heads are signed by the log and that the log only appended between them.

    Raises:
        ConsistencyError: `check` is one of "tree_head_format", "tree_head_signature",
            "log_id", "tree_size_order", "timestamp_order", "consistency_proof".
    """
    old, new = evidence.old, evidence.new
    _check_head(old, log_public_key_raw, ConsistencyError, "old tree head")
    _check_head(new, log_public_key_raw, ConsistencyError, "new tree head")
    if old.log_id != new.log_id:
        raise ConsistencyError(
            f"tree heads are from different logs: {old.log_id!r} and {new.log_id!r}",
            check="log_id",
        )
    if old.tree_size > new.tree_size:
        raise ConsistencyError(
            f"old tree head has size {old.tree_size}, larger than the new one's {new.tree_size}",
            check="tree_size_order",
        )
    if old.timestamp_ms > new.timestamp_ms:
        raise ConsistencyError(
            f"old tree head is timestamped {old.timestamp_ms} ms, after the new one's "
            f"{new.timestamp_ms} ms",
            check="timestamp_order",
        )
    if not merkle.verify_consistency(
        old.tree_size, new.tree_size, old.root_hash, new.root_hash, evidence.proof
    ):
        raise ConsistencyError(
            f"consistency proof does not show tree {old.tree_size} (root {old.root_hash.hex()}) "
            f"is a prefix of tree {new.tree_size} (root {new.root_hash.hex()}) in log "
            f"{old.log_id!r}",
            check="consistency_proof",
        )


@dataclass(frozen=True)
class LogExport:
    """A whole log: its id, its public key, every entry in order, and its signed tree head."""

    log_id: str
    public_key: bytes
    entries: list[bytes]
    tree_head: TreeHead

    def to_dict(self) -> encoding.JsonObject:
        """The JSON object form."""
        return {
            "format": LOG_EXPORT_FORMAT,
            "log_id": self.log_id,
            "public_key": self.public_key.hex(),
            "entries": [encoding.encode_base64(e) for e in self.entries],
            "tree_head": self.tree_head.to_dict(),
        }

    def to_json(self) -> str:
        """Deterministic JSON text."""
        return encoding.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, obj: object, path: str = "log") -> "LogExport":
        """Decode the JSON object form; errors name the field path."""
        data = encoding.as_object(obj, path)
        encoding.check_keys(data, ("format", "log_id", "public_key", "entries", "tree_head"), path)
        encoding.check_format(data, LOG_EXPORT_FORMAT, path)
        entries = data["entries"]
        if not isinstance(entries, list):
            raise AuditFormatError(f"{path}.entries: expected a list")
        return cls(
            log_id=encoding.get_str(data, "log_id", path),
            public_key=encoding.get_hex(data, "public_key", path, size=PUBLIC_KEY_BYTES),
            entries=[
                encoding.decode_base64(e, f"{path}.entries[{i}]") for i, e in enumerate(entries)
            ],
            tree_head=TreeHead.from_dict(data["tree_head"], f"{path}.tree_head"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "LogExport":
        """Parse JSON text written by `to_json`."""
        return cls.from_dict(encoding.loads(text, "log"))

    def leaf_hashes(self) -> list[bytes]:
        """HASH(0x00 || entry) for every entry, in log order."""
        return [merkle.leaf_hash(e) for e in self.entries]


def verify_log_export(export: LogExport, trusted_public_key: bytes | None = None) -> None:
    """Recompute the log's root from its entries and check the signed tree head over it.

    Without `trusted_public_key` the signature is checked against the key inside the export,
    which proves the file is self-consistent but not *whose* log it is; pass the key you
    obtained out of band to pin it.

    Raises:
        LogExportError: `check` is one of "public_key", "log_id", "tree_size", "root_hash",
            "tree_head_format", "tree_head_signature".
    """
    head = export.tree_head
    if trusted_public_key is not None and trusted_public_key != export.public_key:
        raise LogExportError(
            f"log {export.log_id!r} carries public key {export.public_key.hex()}, not the "
            f"trusted key {trusted_public_key.hex()}",
            check="public_key",
        )
    if head.log_id != export.log_id:
        raise LogExportError(
            f"log export is for log {export.log_id!r} but its tree head is for {head.log_id!r}",
            check="log_id",
        )
    if head.tree_size != len(export.entries):
        raise LogExportError(
            f"log {export.log_id!r} has {len(export.entries)} entries but its signed tree head "
            f"says tree_size {head.tree_size}",
            check="tree_size",
        )
    root = merkle.MerkleTree(export.leaf_hashes()).root()
    if root != head.root_hash:
        raise LogExportError(
            f"log {export.log_id!r}: the {len(export.entries)} entries hash to root {root.hex()}"
            f", but the signed tree head says {head.root_hash.hex()}",
            check="root_hash",
        )
    _check_head(head, export.public_key, LogExportError, f"log {export.log_id!r}")


def issue_receipt(
    tree: merkle.MerkleTree, entry: bytes, leaf_index: int, head: TreeHead
) -> Receipt:
    """The receipt for `entry` at `leaf_index`, proved against the signed `head` (log side).

    Refuses to issue a receipt the agent would reject: the entry must be the logged leaf and
    the head must cover it.
    """
    if not 0 <= leaf_index < head.tree_size <= tree.size:
        raise ReceiptError(
            f"cannot issue a receipt for leaf_index {leaf_index} under a tree head of size "
            f"{head.tree_size} (log size {tree.size})",
            check="leaf_index_out_of_range",
        )
    if tree.leaf(leaf_index) != merkle.leaf_hash(entry):
        raise ReceiptError(
            f"entry is not the one logged at leaf_index {leaf_index}", check="inclusion_proof"
        )
    return Receipt(entry, leaf_index, head, tree.inclusion_proof(leaf_index, head.tree_size))


def prove_consistency(tree: merkle.MerkleTree, old: TreeHead, new: TreeHead) -> ConsistencyEvidence:
    """Consistency evidence between two heads this log signed (log side)."""
    if not old.tree_size <= new.tree_size <= tree.size:
        raise ConsistencyError(
            f"cannot prove sizes {old.tree_size} -> {new.tree_size} on a log of size {tree.size}",
            check="tree_size_order",
        )
    return ConsistencyEvidence(old, new, tree.consistency_proof(old.tree_size, new.tree_size))
