"""Sealing a key share to its trustee: HPKE (RFC 9180) with X25519, HKDF-SHA256, ChaCha20-Poly1305.

The key ceremony hands each trustee's share to the coordinator for delivery; the coordinator
must not be able to read it. Each share is therefore encrypted to the trustee's own X25519
public key with HPKE in base mode (RFC 9180, Section 5.1.1, single-shot API of Section 6.1),
cipher suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305, as implemented by
``cryptography`` (>= 47). The associated data (campaign id and trustee index) is bound
through HPKE's ``info`` parameter, which enters the key schedule (RFC 9180, Section 5.1): a
blob opened under any other campaign or trustee derives a different key and fails
authentication, as does any change to a single byte.

Blob layout: ``MAGIC`` (4 bytes) || enc (32 bytes, the ephemeral X25519 key) || ciphertext+tag.
"""

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from fedcarbon.crypto.errors import KeyMaterialFormatError, SealedBoxError
from fedcarbon.crypto.threshold import KeyShare, share_matches_public_key

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


def key_share_aad(campaign_id: str, trustee_index: int) -> bytes:
    """Associated data binding a sealed share to one campaign and one trustee index."""
    campaign = campaign_id.encode("utf-8")
    return (
        b"key-share"
        + len(campaign).to_bytes(4, "big")
        + campaign
        + trustee_index.to_bytes(4, "big")
    )


def seal_key_share(share: KeyShare, recipient_public_raw: bytes, campaign_id: str) -> bytes:
    """Seal trustee ``share.index``'s share of campaign ``campaign_id`` to its X25519 key."""
    return seal(share.to_bytes(), recipient_public_raw, key_share_aad(campaign_id, share.index))


def open_key_share(
    blob: bytes,
    recipient_private: X25519PrivateKey | bytes,
    campaign_id: str,
    trustee_index: int,
) -> KeyShare:
    """Open a sealed share as trustee ``trustee_index`` of ``campaign_id``, parse and check it.

    Checks the share against the verification key v_i its public key commits to.
    """
    try:
        plaintext = open_sealed(blob, recipient_private, key_share_aad(campaign_id, trustee_index))
    except SealedBoxError as exc:
        raise SealedBoxError(
            f"key share for trustee {trustee_index} of campaign {campaign_id!r}: {exc}"
        ) from exc
    share = KeyShare.from_bytes(plaintext)
    if share.index != trustee_index:
        raise KeyMaterialFormatError(
            f"sealed share for trustee {trustee_index} holds index {share.index}"
        )
    if not share_matches_public_key(share):
        raise KeyMaterialFormatError(
            f"sealed share for trustee {trustee_index} of campaign {campaign_id!r} does not "
            "match its verification key v_i in the public key"
        )
    return share
