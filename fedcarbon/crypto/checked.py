"""Check a vector of received ciphertexts once, and hand the checked values on.

``vector.from_bytes`` checks each ciphertext with its own gcd, and today the same blob is
checked again by the proof check and at close (issue 14 measured aggregation with checks at
6.4x the bare multiplications). Here the checks are done once per ciphertext, cheaply:

- width and range (0 < c < n^2) per ciphertext: a comparison each;
- "unit of Z_{n^2}" for the whole vector with ONE gcd: prod c_i mod n is coprime to n iff
  every c_i is, because a prime p | n divides the product iff it divides some factor. Only
  if that fails are the ciphertexts tested one by one, to name the bad index.

The returned ``CheckedCiphertexts`` is what the proof check (``shortproof.batch_verify``,
which needs only the range check: its equation cannot hold for a non-unit c) and the
aggregation (``vector.add_vectors``, unchecked) take, so nothing is decoded or checked twice.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import gmpy2

from fedcarbon.crypto.errors import InvalidCiphertextError
from fedcarbon.crypto.vector import ciphertext_length


@dataclass(frozen=True)
class CheckedCiphertexts:
    """Ciphertexts that passed ``check_ciphertexts`` for modulus n: units of Z_{n^2}."""

    n: int
    values: tuple[int, ...]


def check_values(values: Sequence[int], n: int, *, where: str = "ciphertext") -> CheckedCiphertexts:
    """Range-check each value and unit-check all with one gcd; errors name ``where`` and index."""
    nsquare = n * n
    n_mpz = gmpy2.mpz(n)
    product = gmpy2.mpz(1)
    for index, c in enumerate(values):
        if not 0 < c < nsquare:
            raise InvalidCiphertextError(f"{where} {index} is out of range (must be 0 < c < n^2)")
        product = product * c % n_mpz
    if gmpy2.gcd(product, n_mpz) != 1:
        for index, c in enumerate(values):
            if gmpy2.gcd(c, n_mpz) != 1:
                raise InvalidCiphertextError(f"{where} {index} is not coprime to n")
    return CheckedCiphertexts(n=n, values=tuple(int(c) for c in values))


def check_ciphertexts(
    blobs: Sequence[bytes], n: int, *, expected: int, where: str = "ciphertext"
) -> CheckedCiphertexts:
    """Decode fixed-width big-endian blobs (``vector.to_bytes``) and check them once."""
    if len(blobs) != expected:
        raise InvalidCiphertextError(f"expected {expected} {where}s, got {len(blobs)}")
    width = ciphertext_length(n)
    values = []
    for index, blob in enumerate(blobs):
        if len(blob) != width:
            raise InvalidCiphertextError(f"{where} {index} has {len(blob)} bytes, expected {width}")
        values.append(int.from_bytes(blob, "big"))
    return check_values(values, n, where=where)
