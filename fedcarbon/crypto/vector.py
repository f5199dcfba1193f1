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


def to_bytes(ciphertexts: Iterable[int], moduli: Sequence[int]) -> list[bytes]:
    """Fixed-width big-endian encoding (width of n^2 per position), so lengths leak nothing."""
    values = list(ciphertexts)
    if len(values) != len(moduli):
        raise InvalidCiphertextError(f"{len(values)} ciphertexts for {len(moduli)} positions")
    return [c.to_bytes(ciphertext_length(n), "big") for c, n in zip(values, moduli, strict=True)]


def from_bytes(blobs: Sequence[bytes], moduli: Sequence[int]) -> list[int]:
    """Decode and check a vector received from the network; position i is under moduli[i]."""
    if len(blobs) != len(moduli):
        raise InvalidCiphertextError(f"expected {len(moduli)} ciphertexts, got {len(blobs)}")
    values = []
    for index, (blob, n) in enumerate(zip(blobs, moduli, strict=True)):
        width = ciphertext_length(n)
        if len(blob) != width:
            raise InvalidCiphertextError(
                f"ciphertext {index} has {len(blob)} bytes, expected {width}"
            )
        c = int.from_bytes(blob, "big")
        check_ciphertext(c, n, index=index)
        values.append(c)
    return values


def add_vectors(vectors: Iterable[Sequence[int]], moduli: Sequence[int]) -> list[int]:
    """Homomorphic sum: the element-wise product of ciphertext vectors, modulo n_i^2 at i."""
    squares = [gmpy2.mpz(n) * n for n in moduli]
    total: list[gmpy2.mpz] | None = None
    for vector in vectors:
        if len(vector) != len(squares):
            raise InvalidCiphertextError(
                f"cannot add a vector of length {len(vector)} to {len(squares)} positions"
            )
        if total is None:
            total = [gmpy2.mpz(c) for c in vector]
            continue
        total = [(acc * c) % sq for acc, c, sq in zip(total, vector, squares, strict=True)]
    if total is None:
        raise InvalidCiphertextError("no ciphertext vectors to add")
    return [int(c) for c in total]


def split_concatenated(blob: bytes, moduli: Sequence[int]) -> list[bytes]:
    """Cut a stored concatenation of fixed-width ciphertexts back into its positions."""
    blobs, offset = [], 0
    for n in moduli:
        width = ciphertext_length(n)
        blobs.append(blob[offset : offset + width])
        offset += width
    if offset != len(blob):
        raise InvalidCiphertextError(f"{len(blob)} stored bytes for {offset} expected")
    return blobs


def digest(ciphertexts: Sequence[bytes]) -> bytes:
    """SHA-256 over length-prefixed ciphertexts: names an aggregate unambiguously."""
    hasher = hashlib.sha256(b"fedcarbon.v1.aggregate\x00")
    for blob in ciphertexts:
        hasher.update(len(blob).to_bytes(4, "big"))
        hasher.update(blob)
    return hasher.digest()
