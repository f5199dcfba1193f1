"""Receipts, consistency evidence and log exports: verify when honest, name the failure when not."""

import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon.audit import signing
from fedcarbon.audit.errors import (
    AuditFormatError,
    ConsistencyError,
    LogExportError,
    ReceiptError,
)
from fedcarbon.audit.merkle import MerkleTree, leaf_hash
from fedcarbon.audit.receipts import (
    ConsistencyEvidence,
    ConsistencyProof,
    LogExport,
    Receipt,
    issue_receipt,
    prove_consistency,
    verify_consistency_evidence,
    verify_log_export,
    verify_receipt,
)
from fedcarbon.audit.treehead import TreeHead, sign_tree_head

LOG_ID = "benchmark-2025-q1"
ENTRIES = [f"submission-{i}".encode() for i in range(13)]


@dataclasses.dataclass
class Log:
    key: Ed25519PrivateKey
    tree: MerkleTree

    @property
    def public_key(self) -> bytes:
        return signing.public_key_bytes(self.key)

    def head(self, size: int, timestamp_ms: int = 1_000) -> TreeHead:
        return sign_tree_head(self.key, LOG_ID, size, self.tree.root(size), timestamp_ms)


@pytest.fixture(scope="module")
def log() -> Log:
    tree = MerkleTree()
    for entry in ENTRIES:
        tree.append_entry(entry)
    return Log(signing.generate_signing_key(), tree)


@pytest.fixture(scope="module")
def receipt(log: Log) -> Receipt:
    return issue_receipt(log.tree, ENTRIES[5], 5, log.head(len(ENTRIES)))


def check_of(error: pytest.ExceptionInfo[ReceiptError]) -> str:
    return error.value.check


def test_issued_receipt_verifies(log: Log, receipt: Receipt) -> None:
    verify_receipt(receipt, log.public_key, log_id=LOG_ID)


def test_receipt_under_an_older_head_verifies(log: Log) -> None:
    verify_receipt(issue_receipt(log.tree, ENTRIES[2], 2, log.head(3)), log.public_key)


def test_receipt_with_altered_entry_fails_inclusion(log: Log, receipt: Receipt) -> None:
    altered = dataclasses.replace(receipt, entry=receipt.entry + b"x")
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(altered, log.public_key)
    assert check_of(caught) == "inclusion_proof"


def test_receipt_with_altered_index_fails_inclusion(log: Log, receipt: Receipt) -> None:
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(dataclasses.replace(receipt, leaf_index=4), log.public_key)
    assert check_of(caught) == "inclusion_proof"


def test_receipt_with_index_beyond_tree_names_range(log: Log, receipt: Receipt) -> None:
    with pytest.raises(ReceiptError, match="leaf_index 13 is out of range for tree_size 13"):
        verify_receipt(dataclasses.replace(receipt, leaf_index=13), log.public_key)


def test_receipt_with_altered_root_fails_signature(log: Log, receipt: Receipt) -> None:
    head = dataclasses.replace(receipt.tree_head, root_hash=leaf_hash(b"forged"))
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(dataclasses.replace(receipt, tree_head=head), log.public_key)
    assert check_of(caught) == "tree_head_signature"


def test_receipt_with_altered_proof_fails_inclusion(log: Log, receipt: Receipt) -> None:
    proof = [leaf_hash(b"forged"), *receipt.inclusion_proof[1:]]
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(dataclasses.replace(receipt, inclusion_proof=proof), log.public_key)
    assert check_of(caught) == "inclusion_proof"


def test_receipt_under_wrong_key_fails_signature(receipt: Receipt) -> None:
    other = signing.public_key_bytes(signing.generate_signing_key())
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(receipt, other)
    assert check_of(caught) == "tree_head_signature"


def test_receipt_from_another_log_id_is_refused(log: Log, receipt: Receipt) -> None:
    with pytest.raises(ReceiptError, match="expected log 'other'"):
        verify_receipt(receipt, log.public_key, log_id="other")


def test_receipt_re_signed_by_log_for_a_forged_root_fails_inclusion(log: Log) -> None:
    forged_head = sign_tree_head(log.key, LOG_ID, 13, leaf_hash(b"forged"), 1)
    receipt = Receipt(ENTRIES[5], 5, forged_head, log.tree.inclusion_proof(5, 13))
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(receipt, log.public_key)
    assert check_of(caught) == "inclusion_proof"


def test_log_refuses_to_issue_receipt_for_unlogged_entry(log: Log) -> None:
    with pytest.raises(ReceiptError, match="not the one logged at leaf_index 5"):
        issue_receipt(log.tree, b"never logged", 5, log.head(13))


def test_receipt_json_round_trip(receipt: Receipt) -> None:
    assert Receipt.from_json(receipt.to_json()) == receipt


def test_receipt_json_is_deterministic(receipt: Receipt) -> None:
    assert Receipt.from_json(receipt.to_json()).to_json() == receipt.to_json()


def test_receipt_json_with_bad_proof_hex_names_path(receipt: Receipt) -> None:
    text = receipt.to_json().replace(receipt.inclusion_proof[1].hex(), "zz" * 32)
    with pytest.raises(AuditFormatError, match=r"receipt\.inclusion_proof\[1\]: not valid hex"):
        Receipt.from_json(text)


def test_receipt_json_with_bad_base64_entry_names_path(receipt: Receipt) -> None:
    text = receipt.to_json().replace('"entry": "', '"entry": "!', 1)
    with pytest.raises(AuditFormatError, match=r"receipt\.entry: not valid base64"):
        Receipt.from_json(text)


def test_receipt_json_that_is_not_json_is_refused() -> None:
    with pytest.raises(AuditFormatError, match="receipt: not valid JSON"):
        Receipt.from_json("{not json")


def test_consistency_evidence_verifies(log: Log) -> None:
    evidence = prove_consistency(log.tree, log.head(5, 1_000), log.head(13, 2_000))
    verify_consistency_evidence(evidence, log.public_key)


def test_consistency_evidence_with_rewritten_old_tree_fails(log: Log) -> None:
    rewritten = MerkleTree(leaf_hash(e) for e in [b"rewritten", *ENTRIES[1:5]])
    old = sign_tree_head(log.key, LOG_ID, 5, rewritten.root(), 1_000)
    evidence = ConsistencyEvidence(old, log.head(13, 2_000), log.tree.consistency_proof(5, 13))
    with pytest.raises(ConsistencyError) as caught:
        verify_consistency_evidence(evidence, log.public_key)
    assert caught.value.check == "consistency_proof"


def test_consistency_evidence_with_heads_of_two_logs_fails(log: Log) -> None:
    other = sign_tree_head(log.key, "other-log", 13, log.tree.root(13), 2_000)
    evidence = ConsistencyEvidence(log.head(5), other, log.tree.consistency_proof(5, 13))
    with pytest.raises(ConsistencyError, match="different logs"):
        verify_consistency_evidence(evidence, log.public_key)


def test_consistency_evidence_with_shrinking_log_fails(log: Log) -> None:
    evidence = ConsistencyEvidence(log.head(13), log.head(5), [])
    with pytest.raises(ConsistencyError) as caught:
        verify_consistency_evidence(evidence, log.public_key)
    assert caught.value.check == "tree_size_order"


def test_consistency_evidence_with_time_running_backwards_fails(log: Log) -> None:
    evidence = prove_consistency(log.tree, log.head(5, 2_000), log.head(13, 1_000))
    with pytest.raises(ConsistencyError) as caught:
        verify_consistency_evidence(evidence, log.public_key)
    assert caught.value.check == "timestamp_order"


def test_consistency_evidence_with_unsigned_new_head_fails(log: Log) -> None:
    evidence = prove_consistency(log.tree, log.head(5), log.head(13))
    forged = dataclasses.replace(evidence.new, tree_size=14)
    with pytest.raises(ConsistencyError, match="new tree head"):
        verify_consistency_evidence(dataclasses.replace(evidence, new=forged), log.public_key)


def test_consistency_parts_refuse_proof_for_other_sizes(log: Log) -> None:
    proof = ConsistencyProof(4, 13, log.tree.consistency_proof(4, 13))
    with pytest.raises(ConsistencyError, match="proof is for sizes 4 -> 13"):
        ConsistencyEvidence.from_parts(log.head(5), log.head(13), proof)


def test_consistency_evidence_json_round_trip(log: Log) -> None:
    evidence = prove_consistency(log.tree, log.head(5), log.head(13))
    assert ConsistencyEvidence.from_json(evidence.to_json()) == evidence


def test_consistency_proof_json_round_trip(log: Log) -> None:
    proof = ConsistencyProof(5, 13, log.tree.consistency_proof(5, 13))
    assert ConsistencyProof.from_json(proof.to_json()) == proof


def export_of(log: Log) -> LogExport:
    return LogExport(LOG_ID, log.public_key, list(ENTRIES), log.head(len(ENTRIES)))


def test_log_export_verifies(log: Log) -> None:
    verify_log_export(export_of(log), log.public_key)


def test_log_export_with_altered_entry_fails_root(log: Log) -> None:
    export = export_of(log)
    export.entries[7] = b"altered"
    with pytest.raises(LogExportError) as caught:
        verify_log_export(export)
    assert caught.value.check == "root_hash"


def test_log_export_with_dropped_entry_fails_size(log: Log) -> None:
    export = export_of(log)
    del export.entries[-1]
    with pytest.raises(
        LogExportError, match="has 12 entries but its signed tree head says tree_size 13"
    ):
        verify_log_export(export)


def test_log_export_with_substituted_key_fails_pinned_key(log: Log) -> None:
    impostor = signing.generate_signing_key()
    head = sign_tree_head(impostor, LOG_ID, 13, log.tree.root(), 1)
    export = LogExport(LOG_ID, signing.public_key_bytes(impostor), list(ENTRIES), head)
    with pytest.raises(LogExportError) as caught:
        verify_log_export(export, log.public_key)
    assert caught.value.check == "public_key"


def test_log_export_with_bad_signature_fails(log: Log) -> None:
    export = export_of(log)
    head = dataclasses.replace(export.tree_head, timestamp_ms=5)
    with pytest.raises(LogExportError) as caught:
        verify_log_export(dataclasses.replace(export, tree_head=head))
    assert caught.value.check == "tree_head_signature"


def test_log_export_json_round_trip(log: Log) -> None:
    export = export_of(log)
    assert LogExport.from_json(export.to_json()) == export
