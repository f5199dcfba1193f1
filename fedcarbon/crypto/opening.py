"""Verifiable Paillier decryption by opening: the key owner reveals (m, r), anyone checks it.

With g = n + 1 (phe's convention) a ciphertext is c = (1 + n)^m r^n mod n^2. Whoever holds the
factorisation can recover not only m but also r: c mod n = r^n mod n, and since
gcd(n, phi(n)) = 1 for n = pq with p, q of equal size, x -> x^n is a permutation of Z_n^*
whose inverse is x -> x^(n^-1 mod phi(n)) (Paillier, EUROCRYPT 1999, section 4, which uses
the same fact to build the trapdoor permutation of scheme 3; Damgård-Jurik, PKC 2001,
section 3 recovers r the same way). Publishing (m, r) lets anyone check
(1 + m n) r^n = c (mod n^2): a decryption that cannot lie, without a zero-knowledge proof.

It is only ever done for an aggregate ciphertext. Its r is the product of the contributors'
(and noise shares') random units, which says nothing about any single one of them.
"""

from dataclasses import dataclass

import gmpy2
from phe import paillier

from fedcarbon.crypto.errors import CryptoError


@dataclass(frozen=True, slots=True)
class Opening:
    """A plaintext and the randomness that, together, re-create the ciphertext exactly."""

    plaintext: int
    randomness: int

    def to_bytes(self, n: int) -> bytes:
        width = (n.bit_length() + 7) // 8
        return self.plaintext.to_bytes(width, "big") + self.randomness.to_bytes(width, "big")

    @classmethod
    def from_bytes(cls, blob: bytes, n: int) -> "Opening":
        width = (n.bit_length() + 7) // 8
        if len(blob) != 2 * width:
            raise CryptoError(f"an opening is {2 * width} bytes for this key, got {len(blob)}")
        return cls(int.from_bytes(blob[:width], "big"), int.from_bytes(blob[width:], "big"))


def open_ciphertext(private: paillier.PaillierPrivateKey, ciphertext: int) -> Opening:
    """Decrypt ``ciphertext`` and recover its randomness (the key owner only)."""
    n = gmpy2.mpz(private.public_key.n)
    nsquare = n * n
    if not 0 < ciphertext < nsquare or gmpy2.gcd(ciphertext, n) != 1:
        raise CryptoError("not a ciphertext of this key (outside Z*_{n^2})")
    m = int(private.raw_decrypt(ciphertext))
    phi = (gmpy2.mpz(private.p) - 1) * (gmpy2.mpz(private.q) - 1)
    r = gmpy2.powmod(ciphertext % n, gmpy2.invert(n, phi), n)
    return Opening(m, int(r))


def verify_opening(n: int, ciphertext: int, opening: Opening) -> bool:
    """True iff (1 + m n) r^n = c (mod n^2) with m in Z_n and r a unit of Z_n; never raises."""
    n_mpz = gmpy2.mpz(n)
    nsquare = n_mpz * n_mpz
    m, r = opening.plaintext, opening.randomness
    if not (0 <= m < n and 0 < r < n) or gmpy2.gcd(r, n_mpz) != 1:
        return False
    return bool((1 + m * n_mpz) * gmpy2.powmod(r, n_mpz, nsquare) % nsquare == ciphertext)
