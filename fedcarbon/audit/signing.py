"""Ed25519 identity keys and domain-separated signatures (RFC 8032).

Every signature in fedcarbon covers ``context || 0x00 || message``: the context names the
kind of object ("fedcarbon.v1.submission", "fedcarbon.v1.tree-head", ...), so a signature made
for one kind can never be replayed as another.
"""

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from fedcarbon.audit.errors import SignatureError

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


def generate_signing_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key from the OS CSPRNG."""
    return Ed25519PrivateKey.generate()


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key, as it travels on the wire."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _framed(message: bytes, context: bytes) -> bytes:
    if b"\x00" in context:
        raise ValueError("signature context must not contain NUL bytes")
    return context + b"\x00" + message


def sign(key: Ed25519PrivateKey, message: bytes, *, context: bytes) -> bytes:
    """Sign ``message`` under a domain-separation ``context``."""
    return key.sign(_framed(message, context))


def verify(public_key_raw: bytes, message: bytes, signature: bytes, *, context: bytes) -> None:
    """Check a signature; raise SignatureError saying why it failed."""
    if len(public_key_raw) != PUBLIC_KEY_BYTES:
        raise SignatureError(
            f"public key must be {PUBLIC_KEY_BYTES} bytes, got {len(public_key_raw)}"
        )
    if len(signature) != SIGNATURE_BYTES:
        raise SignatureError(f"signature must be {SIGNATURE_BYTES} bytes, got {len(signature)}")
    try:
        Ed25519PublicKey.from_public_bytes(public_key_raw).verify(
            signature, _framed(message, context)
        )
    except InvalidSignature:
        raise SignatureError(
            f"signature does not verify for context {context.decode(errors='replace')!r}"
        ) from None


def save_private_key(key: Ed25519PrivateKey, path: Path) -> None:
    """Write the key as PKCS#8 PEM, readable by the owner only (mode 0600)."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a PEM key written by save_private_key; refuse a key others can read."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise SignatureError(f"{path}: private key is readable by group/others (chmod 600 it)")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"{path}: not an Ed25519 private key")
    return key
