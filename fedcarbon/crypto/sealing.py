"""Sealed boxes to a party's X25519 key: HPKE (RFC 9180), X25519, HKDF-SHA256, ChaCha20-Poly1305.

Whatever one party sends another through the coordinator, which must not read it, is
encrypted to the recipient's own X25519 public key with HPKE in base mode (RFC 9180,
Section 5.1.1, single-shot API of Section 6.1), cipher suite DHKEM(X25519, HKDF-SHA256) /
HKDF-SHA256 / ChaCha20-Poly1305, as implemented by ``cryptography`` (>= 47). The associated
data (what the box is for) is bound through HPKE's ``info`` parameter, which enters the key
schedule (RFC 9180, Section 5.1): a blob opened under any other binding derives a different
key and fails authentication, as does any change to a single byte.

Blob layout: ``MAGIC`` (4 bytes) || enc (32 bytes, the ephemeral X25519 key) || ciphertext+tag.
"""

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from fedcarbon.crypto.errors import SealedBoxError

MAGIC = b"FCS\x01"
"""Names the format (fedcarbon sealed box, version 1) so old or foreign blobs fail clearly."""

INFO_LABEL = b"fedcarbon/v1/sealed-box"
"""Prefix of HPKE's info: domain separation from any other use of the trustee's key."""

_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_ENC_LENGTH = 32


def _info(aad: bytes) -> bytes:
    return INFO_LABEL + len(aad).to_bytes(4, "big") + aad


def seal(plaintext: bytes, recipient_public_raw: bytes, aad: bytes) -> bytes:
    """Encrypt ``plaintext`` so only the holder of the X25519 private key can open it.

    Args:
        plaintext: the secret, e.g. ``KeyShare.to_bytes()``.
        recipient_public_raw: the recipient's X25519 public key, 32 raw bytes.
        aad: context the blob is bound to; ``open_sealed`` must be given the same bytes.
    """
    if len(recipient_public_raw) != _ENC_LENGTH:
        raise SealedBoxError(
            f"recipient public key must be 32 raw X25519 bytes, got {len(recipient_public_raw)}"
        )
    recipient = X25519PublicKey.from_public_bytes(recipient_public_raw)
    return MAGIC + _SUITE.encrypt(plaintext, recipient, info=_info(aad))


def open_sealed(blob: bytes, recipient_private: X25519PrivateKey | bytes, aad: bytes) -> bytes:
    """Decrypt a ``seal`` blob; raises SealedBoxError on a wrong key, wrong aad or tampering."""
    if isinstance(recipient_private, bytes):
        if len(recipient_private) != _ENC_LENGTH:
            raise SealedBoxError("recipient private key must be 32 raw X25519 bytes")
        recipient_private = X25519PrivateKey.from_private_bytes(recipient_private)
    if not blob.startswith(MAGIC):
        raise SealedBoxError(f"not a fedcarbon sealed box (starts with {blob[:4]!r})")
    if len(blob) < len(MAGIC) + _ENC_LENGTH + 16:
        raise SealedBoxError(f"sealed box is truncated ({len(blob)} bytes)")
    try:
        return _SUITE.decrypt(blob[len(MAGIC) :], recipient_private, info=_info(aad))
    except (InvalidTag, ValueError) as exc:
        raise SealedBoxError(
            "sealed box does not open: wrong trustee key, wrong campaign or trustee binding, "
            "or the blob was altered"
        ) from exc
