"""Powers of one fixed base from a precomputed table: the DJN h_s of a campaign key.

Every short-exponent operation raises the same h_s to a fresh exponent (encryption: 448 bits,
proof commitment and check: 705 bits). With the table T[j][d] = base^(d 256^j) mod m for
every byte position j and byte value d, base^e is the product of T[j][e_j] over the bytes e_j
of e: one multiplication per byte and no squaring (Brickell, Gordon, McCurley, Wilson, "Fast
exponentiation with precomputation", EUROCRYPT 1992, with a full table per window). A
705-bit exponent then costs 89 multiplications modulo n^2 instead of about 850 inside
``powmod``: 5 to 9x faster on the project machine (docs/benchmarks.md).

Cost of the table: 255 entries per byte of the longest exponent, each an element of Z_{n^2}
(512 bytes at 2048-bit n): about 13 MB and 25,000 multiplications for ``MAX_BITS``, once per
key and process. It pays off after a few dozen exponentiations, so it is built on request
(``precompute``), by the coordinator and trustees that verify many proofs under one key, and
by an agent that fills a randomness pool; a one-off encryption uses ``powmod``.
"""

import threading
from collections import OrderedDict

import gmpy2

WINDOW_BITS = 8
"""One table row per exponent byte, so the digits are the exponent's own bytes."""

MAX_BITS = 800
"""Longest exponent served from the table: covers a batch's sum of t_i w_i (about 785 bits)."""

MAX_TABLES = 8
"""Tables kept per process (least recently used dropped): a few campaign keys at once."""


class FixedBase:
    """base^e mod modulus for 0 <= e < 2^max_bits by table look-up; longer e use ``powmod``."""

    def __init__(self, base: int, modulus: int, max_bits: int = MAX_BITS) -> None:
        self.base = gmpy2.mpz(base)
        self.modulus = gmpy2.mpz(modulus)
        self.max_bits = max_bits
        rows: list[list[gmpy2.mpz]] = []
        power = self.base % self.modulus
        for _ in range((max_bits + WINDOW_BITS - 1) // WINDOW_BITS):
            row = [gmpy2.mpz(1), power]
            for _ in range(2, 1 << WINDOW_BITS):
                row.append(row[-1] * power % self.modulus)
            rows.append(row)
            power = row[-1] * power % self.modulus
        self._rows = rows

    def power(self, exponent: int) -> gmpy2.mpz:
        """base^exponent mod modulus; a negative exponent is refused with ``ValueError``."""
        if exponent < 0:
            raise ValueError("fixed-base exponent must be non-negative")
        if exponent.bit_length() > self.max_bits:
            return gmpy2.powmod(self.base, exponent, self.modulus)
        modulus = self.modulus
        result = gmpy2.mpz(1)
        digits = int(exponent).to_bytes((exponent.bit_length() + 7) // 8, "little")
        for row, digit in zip(self._rows, digits, strict=False):
            if digit:
                result = result * row[digit] % modulus
        return result


_tables: OrderedDict[tuple[int, int], FixedBase] = OrderedDict()
_lock = threading.Lock()


def precompute(base: int, modulus: int) -> FixedBase:
    """The table for (base, modulus), built once per process and kept (``MAX_TABLES`` at most)."""
    with _lock:
        table = _tables.get((base, modulus))
        if table is not None:
            _tables.move_to_end((base, modulus))
            return table
    table = FixedBase(base, modulus)
    with _lock:
        _tables[(base, modulus)] = table
        while len(_tables) > MAX_TABLES:
            _tables.popitem(last=False)
    return table


def forget(base: int, modulus: int) -> None:
    """Drop the table for (base, modulus), e.g. when a campaign is over (no-op if none)."""
    with _lock:
        _tables.pop((base, modulus), None)


def cached(base: int, modulus: int) -> FixedBase | None:
    """The table if ``precompute`` built it in this process, else None (never builds one)."""
    with _lock:
        return _tables.get((base, modulus))


def power(base: int, exponent: int, modulus: int) -> gmpy2.mpz:
    """base^exponent mod modulus: from a precomputed table if there is one, else ``powmod``."""
    table = cached(base, modulus)
    if table is None:
        return gmpy2.powmod(base, exponent, modulus)
    return table.power(exponent)
