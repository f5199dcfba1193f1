"""Signed tree heads: deterministic encoding, signatures that reject any altered field."""

import dataclasses
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon.audit import signing
from fedcarbon.audit.errors import AuditFormatError, TreeHeadError
from fedcarbon.audit.merkle import leaf_hash
from fedcarbon.audit.treehead import (
    TREE_HEAD_CONTEXT,
    TreeHead,
    sign_tree_head,
    tree_head_signing_input,
    verify_tree_head,
)

ROOT = leaf_hash(b"root")
TIMESTAMP_MS = 1_764_000_000_000


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return signing.generate_signing_key()


@pytest.fixture(scope="module")
def head(key: Ed25519PrivateKey) -> TreeHead:
    return sign_tree_head(key, "campaign-log", 42, ROOT, TIMESTAMP_MS)


def test_signed_tree_head_verifies(key: Ed25519PrivateKey, head: TreeHead) -> None:
    verify_tree_head(head, signing.public_key_bytes(key))


@pytest.mark.parametrize(
    "change",
    [
        {"log_id": "other-log"},
        {"tree_size": 43},
        {"root_hash": leaf_hash(b"other root")},
        {"timestamp_ms": TIMESTAMP_MS + 1},
    ],
    ids=["log_id", "tree_size", "root_hash", "timestamp_ms"],
)
def test_altered_field_fails_signature(
    key: Ed25519PrivateKey, head: TreeHead, change: dict[str, object]
) -> None:
    altered = dataclasses.replace(head, **change)  # type: ignore[arg-type]
    with pytest.raises(TreeHeadError) as caught:
        verify_tree_head(altered, signing.public_key_bytes(key))
    assert caught.value.check == "tree_head_signature"


def test_altered_signature_fails(key: Ed25519PrivateKey, head: TreeHead) -> None:
    bad = bytes([head.signature[0] ^ 1]) + head.signature[1:]
    with pytest.raises(TreeHeadError, match="signature"):
        verify_tree_head(dataclasses.replace(head, signature=bad), signing.public_key_bytes(key))


def test_other_key_fails(head: TreeHead) -> None:
    other = signing.public_key_bytes(signing.generate_signing_key())
    with pytest.raises(TreeHeadError, match="campaign-log"):
        verify_tree_head(head, other)


def test_signature_over_another_context_is_refused(key: Ed25519PrivateKey, head: TreeHead) -> None:
    message = head.signing_input()
    foreign = signing.sign(key, message, context=b"fedcarbon.v1.submission")
    with pytest.raises(TreeHeadError):
        verify_tree_head(
            dataclasses.replace(head, signature=foreign), signing.public_key_bytes(key)
        )


def test_signing_input_layout_is_versioned_and_big_endian() -> None:
    encoded = tree_head_signing_input("log", 7, ROOT, 9)
    assert encoded == b"\x01\x01\x03log" + struct.pack(">QQ", 9, 7) + ROOT


def test_signature_covers_context_and_signing_input(key: Ed25519PrivateKey, head: TreeHead) -> None:
    signing.verify(
        signing.public_key_bytes(key),
        head.signing_input(),
        head.signature,
        context=TREE_HEAD_CONTEXT,
    )


def test_json_round_trip(head: TreeHead) -> None:
    assert TreeHead.from_json(head.to_json()) == head


def test_json_is_deterministic(head: TreeHead) -> None:
    assert head.to_json() == TreeHead.from_json(head.to_json()).to_json()


def test_json_hex_encodes_root_and_signature(head: TreeHead) -> None:
    assert f'"root_hash": "{ROOT.hex()}"' in head.to_json()


def test_json_with_short_root_names_field(head: TreeHead) -> None:
    text = head.to_json().replace(ROOT.hex(), ROOT.hex()[:-2])
    with pytest.raises(AuditFormatError, match=r"tree_head\.root_hash: expected 32 bytes"):
        TreeHead.from_json(text)


def test_json_with_wrong_format_tag_is_refused(head: TreeHead) -> None:
    text = head.to_json().replace("fedcarbon.tree-head.v1", "fedcarbon.tree-head.v9")
    with pytest.raises(AuditFormatError, match=r"tree_head\.format"):
        TreeHead.from_json(text)


def test_json_with_negative_size_is_refused(head: TreeHead) -> None:
    text = head.to_json().replace('"tree_size": 42', '"tree_size": -1')
    with pytest.raises(AuditFormatError, match=r"tree_head\.tree_size"):
        TreeHead.from_json(text)


def test_json_with_unknown_field_is_refused(head: TreeHead) -> None:
    text = head.to_json().replace("{", '{"extra": 1,', 1)
    with pytest.raises(AuditFormatError, match="unknown field"):
        TreeHead.from_json(text)


def test_log_id_longer_than_255_bytes_cannot_be_signed(key: Ed25519PrivateKey) -> None:
    with pytest.raises(AuditFormatError, match="log_id"):
        sign_tree_head(key, "x" * 256, 1, ROOT, 0)
