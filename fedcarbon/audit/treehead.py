"""Signed tree heads: the log's signed statement "my tree of N entries has this root".

Modelled on RFC 6962 section 3.5 (TreeHeadSignature) and RFC 9162 sections 4.9-4.10
(TreeHeadDataV2, SignedTreeHeadDataV2):
the log signs a fixed binary structure, never the JSON, so the signature does not depend on
how a file was pretty-printed. Our structure, version 1, all integers big-endian:

    version         u8    = 1
    signature_type  u8    = 1  (tree head, as RFC 6962's tree_hash)
    log_id_length   u8, then log_id as UTF-8 (1..255 bytes)
    timestamp_ms    u64   milliseconds since the Unix epoch
    tree_size       u64
    root_hash       32 bytes (SHA-256 Merkle Tree Hash)

It is signed with Ed25519 under the domain-separation context ``fedcarbon.v1.tree-head``
(see fedcarbon.audit.signing), so no other signed object can be passed off as a tree head.
"""

import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon.audit import encoding, signing
from fedcarbon.audit.errors import AuditFormatError, SignatureError, TreeHeadError
from fedcarbon.audit.merkle import HASH_SIZE

TREE_HEAD_CONTEXT = b"fedcarbon.v1.tree-head"
TREE_HEAD_VERSION = 1
SIGNATURE_TYPE_TREE_HEAD = 1
TREE_HEAD_FORMAT = "fedcarbon.tree-head.v1"
MAX_LOG_ID_BYTES = 255
_FIELDS = ("format", "log_id", "tree_size", "root_hash", "timestamp_ms", "signature")


def tree_head_signing_input(
    log_id: str, tree_size: int, root_hash: bytes, timestamp_ms: int
) -> bytes:
    """The exact bytes a tree-head signature covers (structure in the module docstring)."""
    log_id_raw = log_id.encode("utf-8")
    if not 1 <= len(log_id_raw) <= MAX_LOG_ID_BYTES:
        raise AuditFormatError(f"log_id: must be 1..{MAX_LOG_ID_BYTES} UTF-8 bytes")
    if len(root_hash) != HASH_SIZE:
        raise AuditFormatError(f"root_hash: expected {HASH_SIZE} bytes, got {len(root_hash)}")
    for name, value in (("tree_size", tree_size), ("timestamp_ms", timestamp_ms)):
        if not 0 <= value <= encoding.UINT64_MAX:
            raise AuditFormatError(f"{name}: {value} is outside [0, 2**64 - 1]")
    return (
        struct.pack(">BBB", TREE_HEAD_VERSION, SIGNATURE_TYPE_TREE_HEAD, len(log_id_raw))
        + log_id_raw
        + struct.pack(">QQ", timestamp_ms, tree_size)
        + root_hash
    )


@dataclass(frozen=True)
class TreeHead:
    """A log's signed commitment to its first `tree_size` entries."""

    log_id: str
    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    signature: bytes

    def signing_input(self) -> bytes:
        """The bytes `signature` covers."""
        return tree_head_signing_input(
            self.log_id, self.tree_size, self.root_hash, self.timestamp_ms
        )

    def to_dict(self) -> encoding.JsonObject:
        """The JSON object form (for embedding in receipts and exports)."""
        return {
            "format": TREE_HEAD_FORMAT,
            "log_id": self.log_id,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp_ms": self.timestamp_ms,
            "signature": self.signature.hex(),
        }

    def to_json(self) -> str:
        """Deterministic JSON text."""
        return encoding.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, obj: object, path: str = "tree_head") -> "TreeHead":
        """Decode the JSON object form; errors name the field path."""
        data = encoding.as_object(obj, path)
        encoding.check_keys(data, _FIELDS, path)
        encoding.check_format(data, TREE_HEAD_FORMAT, path)
        return cls(
            log_id=encoding.get_str(data, "log_id", path),
            tree_size=encoding.get_int(data, "tree_size", path),
            root_hash=encoding.get_hex(data, "root_hash", path, size=HASH_SIZE),
            timestamp_ms=encoding.get_int(data, "timestamp_ms", path),
            signature=encoding.get_hex(data, "signature", path, size=signing.SIGNATURE_BYTES),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "TreeHead":
        """Parse JSON text written by `to_json`."""
        return cls.from_dict(encoding.loads(text, "tree_head"))


def sign_tree_head(
    key: Ed25519PrivateKey, log_id: str, tree_size: int, root_hash: bytes, timestamp_ms: int
) -> TreeHead:
    """Sign the log's current size and root with the log's Ed25519 key."""
    message = tree_head_signing_input(log_id, tree_size, root_hash, timestamp_ms)
    signature = signing.sign(key, message, context=TREE_HEAD_CONTEXT)
    return TreeHead(log_id, tree_size, root_hash, timestamp_ms, signature)


def verify_tree_head(head: TreeHead, log_public_key_raw: bytes) -> None:
    """Check the tree head's signature against the log's raw 32-byte Ed25519 public key.

    Raises:
        TreeHeadError: with check "tree_head_format" or "tree_head_signature".
    """
    try:
        message = head.signing_input()
    except AuditFormatError as err:
        raise TreeHeadError(
            f"tree head of log {head.log_id!r} is malformed: {err}", check="tree_head_format"
        ) from err
    try:
        signing.verify(log_public_key_raw, message, head.signature, context=TREE_HEAD_CONTEXT)
    except SignatureError as err:
        raise TreeHeadError(
            f"tree head of log {head.log_id!r} at size {head.tree_size}: signature is not "
            f"valid for this log key ({err})",
            check="tree_head_signature",
        ) from err
