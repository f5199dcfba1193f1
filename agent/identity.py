"""A participant's own keys, kept in its home directory with owner-only permissions.

- identity.pem: Ed25519, signs enrolment, submissions, trustee requests and shares;
- encryption.pem: X25519, named in the federation manifest and for sealed exchanges (HPKE).
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from agent.errors import ConfigError
from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError


def load_or_create_identity(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        try:
            return signing.load_private_key(path)
        except SignatureError as error:
            raise ConfigError(str(error)) from None
    key = signing.generate_signing_key()
    signing.save_private_key(key, path)
    return key


def load_or_create_encryption_key(path: Path) -> X25519PrivateKey:
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise ConfigError(f"{path}: readable by group/others (chmod 600 it)")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, X25519PrivateKey):
            raise ConfigError(f"{path}: not an X25519 private key")
        return key
    key = X25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def x25519_public_bytes(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
