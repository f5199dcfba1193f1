"""Paillier key material in fedcarbon's formats.

The public key on the wire is just n (g = n + 1 is implied, as in phe). A single key
holder's private key is stored as JSON with p and q, readable by its owner only.
"""

import json
import os
from pathlib import Path

from phe import paillier

from fedcarbon.crypto.errors import CryptoError
from fedcarbon.crypto.vector import MIN_KEY_BITS


def generate_keypair(
    bits: int = MIN_KEY_BITS,
) -> tuple[paillier.PaillierPublicKey, paillier.PaillierPrivateKey]:
    """A single holder's key pair (phe's generator, gmpy2-accelerated)."""
    public, private = paillier.generate_paillier_keypair(n_length=bits)
    return public, private


def save_private_key(private: paillier.PaillierPrivateKey, path: Path) -> None:
    """Write p and q as JSON, mode 0600."""
    document = {
        "kind": "fedcarbon.paillier-private-key.v1",
        "p": str(private.p),
        "q": str(private.q),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)


def load_private_key(path: Path) -> paillier.PaillierPrivateKey:
    """Read a key written by save_private_key; refuse one that others can read."""
    document = json.loads(read_secret(path))
    if document.get("kind") != "fedcarbon.paillier-private-key.v1":
        raise CryptoError(f"{path}: not a fedcarbon Paillier private key")
    p, q = int(document["p"]), int(document["q"])
    return paillier.PaillierPrivateKey(paillier.PaillierPublicKey(p * q), p, q)


def write_secret(path: Path, data: bytes) -> None:
    """Write secret key material readable by the owner only (mode 0600).

    Written beside the file and swapped in (``os.replace``): a process killed mid-write
    leaves the old content or the new, never half of it (a trustee's remembered noise share).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def read_secret(path: Path) -> bytes:
    """Read secret key material; refuse a file that group or others can read."""
    if path.stat().st_mode & 0o077:
        raise CryptoError(f"{path}: secret key material is readable by group/others (chmod 600)")
    return path.read_bytes()
