"""The JSON encoding shared by tree heads, receipts, proofs and log exports.

One rule set for every audit object, so a verifier can be written from docs/transparency-log.md
alone: hashes, keys and signatures are lowercase hex; log entries (opaque bytes) are standard
padded base64 (RFC 4648 section 4); integers are JSON numbers; every object carries a "format"
tag with a version; keys are sorted, so the same object always serialises to the same text.
Decoding is strict and every error names the field path that was wrong.
"""

import base64
import binascii
import json
from collections.abc import Mapping, Sequence

from fedcarbon.audit.errors import AuditFormatError

UINT64_MAX = 2**64 - 1  # sizes and timestamps travel as unsigned 64-bit integers when signed

JsonObject = dict[str, object]


def dumps(obj: Mapping[str, object]) -> str:
    """Deterministic JSON text: sorted keys, two-space indent, ASCII only."""
    return json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=True)


def loads(text: str | bytes, what: str) -> JsonObject:
    """Parse `text` as one JSON object, naming `what` in the error if it is not."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise AuditFormatError(f"{what}: not valid JSON ({err})") from None
    return as_object(value, what)


def as_object(value: object, path: str) -> JsonObject:
    """`value` as a JSON object with string keys, or an error naming `path`."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise AuditFormatError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def check_keys(obj: Mapping[str, object], expected: Sequence[str], path: str) -> None:
    """Refuse missing or unknown keys, so a wrong or hand-edited file is caught early."""
    missing = [k for k in expected if k not in obj]
    unknown = sorted(k for k in obj if k not in expected)
    if missing:
        raise AuditFormatError(f"{path}: missing field(s) {', '.join(missing)}")
    if unknown:
        raise AuditFormatError(f"{path}: unknown field(s) {', '.join(unknown)}")


def check_format(obj: Mapping[str, object], expected: str, path: str) -> None:
    """Check the object's "format" tag (type and version)."""
    found = obj.get("format")
    if found != expected:
        raise AuditFormatError(f"{path}.format: expected {expected!r}, got {found!r}")


def get_int(obj: Mapping[str, object], key: str, path: str, *, minimum: int = 0) -> int:
    """An integer field in [minimum, 2**64 - 1]; booleans are refused."""
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise AuditFormatError(f"{path}.{key}: expected an integer, got {value!r}")
    if not minimum <= value <= UINT64_MAX:
        raise AuditFormatError(f"{path}.{key}: {value} is outside [{minimum}, 2**64 - 1]")
    return value


def get_str(obj: Mapping[str, object], key: str, path: str) -> str:
    """A non-empty string field."""
    value = obj[key]
    if not isinstance(value, str) or not value:
        raise AuditFormatError(f"{path}.{key}: expected a non-empty string, got {value!r}")
    return value


def decode_hex(value: object, path: str, *, size: int | None = None) -> bytes:
    """Hex text to bytes, optionally of an exact byte length."""
    if not isinstance(value, str):
        raise AuditFormatError(f"{path}: expected a hex string, got {type(value).__name__}")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise AuditFormatError(f"{path}: not valid hex") from None
    if size is not None and len(raw) != size:
        raise AuditFormatError(f"{path}: expected {size} bytes, got {len(raw)}")
    return raw


def get_hex(obj: Mapping[str, object], key: str, path: str, *, size: int | None = None) -> bytes:
    """A hex-encoded bytes field."""
    return decode_hex(obj[key], f"{path}.{key}", size=size)


def decode_base64(value: object, path: str) -> bytes:
    """Standard padded base64 text to bytes; anything else is refused."""
    if not isinstance(value, str):
        raise AuditFormatError(f"{path}: expected a base64 string, got {type(value).__name__}")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise AuditFormatError(f"{path}: not valid base64") from None


def encode_base64(raw: bytes) -> str:
    """Bytes to standard padded base64 text."""
    return base64.b64encode(raw).decode("ascii")


def get_hex_list(obj: Mapping[str, object], key: str, path: str, *, size: int) -> list[bytes]:
    """A list of fixed-size hex values (proof hashes)."""
    value = obj[key]
    if not isinstance(value, list):
        raise AuditFormatError(f"{path}.{key}: expected a list, got {type(value).__name__}")
    return [decode_hex(item, f"{path}.{key}[{i}]", size=size) for i, item in enumerate(value)]
