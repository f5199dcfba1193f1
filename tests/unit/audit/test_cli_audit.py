"""`fedcarbon audit verify`: exit 0 with "valid" for honest evidence, exit 1 naming the failure."""

import dataclasses
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from fedcarbon.audit import signing
from fedcarbon.audit.cli import app, load_log_key
from fedcarbon.audit.errors import AuditFormatError
from fedcarbon.audit.merkle import MerkleTree, leaf_hash
from fedcarbon.audit.receipts import (
    ConsistencyProof,
    LogExport,
    Receipt,
    issue_receipt,
)
from fedcarbon.audit.treehead import TreeHead, sign_tree_head

LOG_ID = "demo-log"
ENTRIES = [f"submission-{i}".encode() for i in range(9)]
runner = CliRunner()


@dataclasses.dataclass
class Log:
    key: Ed25519PrivateKey
    tree: MerkleTree
    directory: Path

    @property
    def key_hex(self) -> str:
        return signing.public_key_bytes(self.key).hex()

    def head(self, size: int, timestamp_ms: int) -> TreeHead:
        return sign_tree_head(self.key, LOG_ID, size, self.tree.root(size), timestamp_ms)

    def write(self, name: str, text: str) -> str:
        path = self.directory / name
        path.write_text(text)
        return str(path)


@pytest.fixture
def log(tmp_path: Path) -> Log:
    tree = MerkleTree()
    for entry in ENTRIES:
        tree.append_entry(entry)
    return Log(signing.generate_signing_key(), tree, tmp_path)


@pytest.fixture
def receipt(log: Log) -> Receipt:
    return issue_receipt(log.tree, ENTRIES[3], 3, log.head(len(ENTRIES), 1_000))


def verify_receipt_file(log: Log, receipt: Receipt, *extra: str) -> tuple[int, str, str]:
    path = log.write("receipt.json", receipt.to_json())
    result = runner.invoke(app, ["verify", "receipt", path, "--log-key", log.key_hex, *extra])
    return result.exit_code, result.stdout, result.stderr


def test_valid_receipt_exits_zero_with_valid_table(log: Log, receipt: Receipt) -> None:
    code, out, _ = verify_receipt_file(log, receipt)
    assert (code, "valid receipt" in out) == (0, True)


def test_valid_receipt_json_output_says_valid(log: Log, receipt: Receipt) -> None:
    code, out, _ = verify_receipt_file(log, receipt, "--json")
    assert (code, json.loads(out)["valid"], json.loads(out)["leaf_index"]) == (0, True, 3)


def test_receipt_with_changed_entry_byte_is_rejected(log: Log, receipt: Receipt) -> None:
    altered = dataclasses.replace(receipt, entry=b"S" + receipt.entry[1:])
    code, _, err = verify_receipt_file(log, altered)
    assert (code, "inclusion_proof" in err) == (1, True)


def test_receipt_with_changed_index_is_rejected(log: Log, receipt: Receipt) -> None:
    code, _, err = verify_receipt_file(log, dataclasses.replace(receipt, leaf_index=2))
    assert (code, "invalid receipt (inclusion_proof)" in err) == (1, True)


def test_receipt_with_changed_root_is_rejected(log: Log, receipt: Receipt) -> None:
    head = dataclasses.replace(receipt.tree_head, root_hash=leaf_hash(b"forged"))
    code, _, err = verify_receipt_file(log, dataclasses.replace(receipt, tree_head=head))
    assert (code, "tree_head_signature" in err) == (1, True)


def test_receipt_under_wrong_key_is_rejected(log: Log, receipt: Receipt) -> None:
    path = log.write("receipt.json", receipt.to_json())
    other = signing.public_key_bytes(signing.generate_signing_key()).hex()
    result = runner.invoke(app, ["verify", "receipt", path, "--log-key", other])
    assert (result.exit_code, "signature" in result.stderr) == (1, True)


def test_rejected_receipt_json_output_names_check(log: Log, receipt: Receipt) -> None:
    code, out, _ = verify_receipt_file(log, dataclasses.replace(receipt, leaf_index=2), "--json")
    assert (code, json.loads(out)) == (
        1,
        {
            "valid": False,
            "kind": "receipt",
            "check": "inclusion_proof",
            "error": json.loads(out)["error"],
        },
    )


def test_hand_edited_receipt_text_is_rejected(log: Log, receipt: Receipt) -> None:
    text = receipt.to_json().replace('"leaf_index": 3', '"leaf_index": 4')
    path = log.write("receipt.json", text)
    result = runner.invoke(app, ["verify", "receipt", path, "--log-key", log.key_hex])
    assert result.exit_code == 1


def test_missing_receipt_file_is_a_clean_error(log: Log) -> None:
    missing = str(log.directory / "nope.json")
    result = runner.invoke(app, ["verify", "receipt", missing, "--log-key", log.key_hex])
    assert (result.exit_code, "cannot read receipt file" in result.stderr) == (1, True)


def test_malformed_receipt_names_field(log: Log) -> None:
    path = log.write("receipt.json", '{"format": "fedcarbon.receipt.v1"}')
    result = runner.invoke(app, ["verify", "receipt", path, "--log-key", log.key_hex])
    assert (result.exit_code, "missing field(s)" in result.stderr) == (1, True)


def test_bad_log_key_is_a_clean_error(log: Log, receipt: Receipt) -> None:
    path = log.write("receipt.json", receipt.to_json())
    result = runner.invoke(app, ["verify", "receipt", path, "--log-key", "not-a-key"])
    assert (result.exit_code, "--log-key" in result.stderr) == (1, True)


def test_log_export_verifies(log: Log) -> None:
    export = LogExport(LOG_ID, signing.public_key_bytes(log.key), list(ENTRIES), log.head(9, 1_000))
    path = log.write("log.json", export.to_json())
    result = runner.invoke(app, ["verify", "log", path, "--log-key", log.key_hex])
    assert (result.exit_code, "valid log" in result.stdout) == (0, True)


def test_log_export_with_altered_entry_is_rejected(log: Log) -> None:
    entries = [*ENTRIES[:4], b"altered", *ENTRIES[5:]]
    export = LogExport(LOG_ID, signing.public_key_bytes(log.key), entries, log.head(9, 1_000))
    path = log.write("log.json", export.to_json())
    result = runner.invoke(app, ["verify", "log", path])
    assert (result.exit_code, "root_hash" in result.stderr) == (1, True)


def write_consistency(log: Log, old: int, new: int) -> list[str]:
    old_head = log.write("old.json", log.head(old, 1_000).to_json())
    new_head = log.write("new.json", log.head(new, 2_000).to_json())
    proof = ConsistencyProof(old, new, log.tree.consistency_proof(old, new))
    return [old_head, new_head, "--proof", log.write("proof.json", proof.to_json())]


def test_consistent_heads_verify(log: Log) -> None:
    args = ["verify", "consistency", *write_consistency(log, 3, 9), "--log-key", log.key_hex]
    result = runner.invoke(app, args)
    assert (result.exit_code, "valid consistency" in result.stdout) == (0, True)


def test_rewritten_history_fails_consistency(log: Log) -> None:
    files = write_consistency(log, 3, 9)
    rewritten = MerkleTree(leaf_hash(e) for e in [b"rewritten", *ENTRIES[1:3]])
    forged = sign_tree_head(log.key, LOG_ID, 3, rewritten.root(), 1_000)
    Path(files[0]).write_text(forged.to_json())
    result = runner.invoke(app, ["verify", "consistency", *files, "--log-key", log.key_hex])
    assert (result.exit_code, "(consistency_proof)" in result.stderr) == (1, True)


def test_proof_for_other_sizes_is_rejected(log: Log) -> None:
    files = write_consistency(log, 3, 9)
    Path(files[3]).write_text(ConsistencyProof(4, 9, log.tree.consistency_proof(4, 9)).to_json())
    result = runner.invoke(app, ["verify", "consistency", *files, "--log-key", log.key_hex])
    assert (result.exit_code, "proof_sizes" in result.stderr) == (1, True)


def test_log_key_from_pem_file(log: Log) -> None:
    pem = log.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = log.directory / "log.pub.pem"
    path.write_bytes(pem)
    assert load_log_key(str(path)) == signing.public_key_bytes(log.key)


def test_log_key_from_raw_file(log: Log) -> None:
    path = log.directory / "log.pub"
    path.write_bytes(signing.public_key_bytes(log.key))
    assert load_log_key(str(path)) == signing.public_key_bytes(log.key)


def test_log_key_from_hex_file(log: Log) -> None:
    path = log.directory / "log.pub.hex"
    path.write_text(log.key_hex + "\n")
    assert load_log_key(str(path)) == signing.public_key_bytes(log.key)


def test_log_key_of_wrong_length_is_refused() -> None:
    with pytest.raises(AuditFormatError, match="64 hex characters"):
        load_log_key("ab" * 31)


def test_verify_help_explains_exit_codes() -> None:
    result = runner.invoke(app, ["verify", "--help"])
    assert "Exit code 0 means valid" in result.stdout


def test_error_naming_a_list_position_is_printed_verbatim(log: Log, receipt: Receipt) -> None:
    text = receipt.to_json().replace(receipt.inclusion_proof[0].hex(), "zz" * 32)
    path = log.write("receipt.json", text)
    result = runner.invoke(app, ["verify", "receipt", path, "--log-key", log.key_hex])
    assert "receipt.inclusion_proof[0]: not valid hex" in result.stderr
