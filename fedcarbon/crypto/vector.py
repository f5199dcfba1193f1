"""Vectors of raw Paillier ciphertexts: encrypt, check, serialise and add.

Encryption is phe's ``raw_encrypt`` (g = n + 1, c = (1 + n m) r^n mod n^2; Paillier,
"Public-Key Cryptosystems Based on Composite Degree Residuosity Classes", EUROCRYPT 1999,
with the g = n + 1 simplification of Damgard-Jurik 2001). Addition of plaintexts is
multiplication of ciphertexts modulo n^2, done here with gmpy2 on the raw integers.
"""

import hashlib
from collections.abc import Iterable, Sequence

import gmpy2
from phe import paillier

from fedcarbon.crypto.errors import InvalidCiphertextError

# 2048-bit moduli give about 112-bit security (NIST SP 800-57 Part 1, Table 2).
MIN_KEY_BITS = 2048


def ciphertext_length(n: int) -> int:
    """Bytes of a serialised ciphertext: the byte length of n^2, fixed per key."""
    return ((n * n).bit_length() + 7) // 8


def encrypt_vector(public_key: paillier.PaillierPublicKey, plaintexts: Sequence[int]) -> list[int]:
    """Encrypt each non-negative plaintext < n with fresh randomness."""
    return [int(public_key.raw_encrypt(int(m))) for m in plaintexts]


def check_ciphertext(c: int, n: int, *, index: int) -> None:
    """Refuse anything that is not a unit of Z_{n^2}: 0 < c < n^2 and gcd(c, n) = 1.

    A value outside that group would not be a Paillier ciphertext; a value sharing a factor
    with n would even reveal the factorisation.
    """
    if not 0 < c < n * n:
        raise InvalidCiphertextError(f"ciphertext {index} is out of range (must be 0 < c < n^2)")
    if gmpy2.gcd(c, n) != 1:
        raise InvalidCiphertextError(f"ciphertext {index} is not coprime to n")


def to_bytes(ciphertexts: Iterable[int], n: int) -> list[bytes]:
    """Fixed-width big-endian encoding, so lengths leak nothing about values."""
    width = ciphertext_length(n)
    return [c.to_bytes(width, "big") for c in ciphertexts]


def from_bytes(blobs: Sequence[bytes], n: int, *, expected: int) -> list[int]:
    """Decode and check a vector received from the network."""
    if len(blobs) != expected:
        raise InvalidCiphertextError(f"expected {expected} ciphertexts, got {len(blobs)}")
    width = ciphertext_length(n)
    values = []
    for index, blob in enumerate(blobs):
        if len(blob) != width:
            raise InvalidCiphertextError(
                f"ciphertext {index} has {len(blob)} bytes, expected {width}"
            )
        c = int.from_bytes(blob, "big")
        check_ciphertext(c, n, index=index)
        values.append(c)
    return values


def add_vectors(vectors: Iterable[Sequence[int]], n: int) -> list[int]:
    """Homomorphic sum: the element-wise product of ciphertext vectors modulo n^2."""
    n_square = gmpy2.mpz(n) * n
    total: list[gmpy2.mpz] | None = None
    for vector in vectors:
        if total is None:
            total = [gmpy2.mpz(c) for c in vector]
            continue
        if len(vector) != len(total):
            raise InvalidCiphertextError(
                f"cannot add vectors of lengths {len(total)} and {len(vector)}"
            )
        total = [(acc * c) % n_square for acc, c in zip(total, vector, strict=True)]
    if total is None:
        raise InvalidCiphertextError("no ciphertext vectors to add")
    return [int(c) for c in total]


def digest(ciphertexts: Sequence[bytes]) -> bytes:
    """SHA-256 over length-prefixed ciphertexts: names an aggregate unambiguously."""
    hasher = hashlib.sha256(b"fedcarbon.v1.aggregate\x00")
    for blob in ciphertexts:
        hasher.update(len(blob).to_bytes(4, "big"))
        hasher.update(blob)
    return hasher.digest()
