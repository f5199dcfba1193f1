"""Product of many powers, prod b_i^e_i mod m, by Pippenger's bucket method.

Batch verification (``shortproof.batch_verify``) needs prod (a_i c_i^e_i)^t_i over a whole
batch: computed one power at a time that is about 200 squarings per proof inside
``powmod``. Pippenger's method (N. Pippenger, "On the evaluation of powers and monomials",
SIAM J. Comput. 9 (1980); the bucket form as in Bernstein, Doumen, Lange, Oosterwijk,
"Faster batch forgery identification", INDOCRYPT 2012, section 4) shares the squarings among
all bases: cut every exponent into c-bit digits; for each digit position, from the top, square
the accumulator c times, drop each base into the bucket of its digit (one multiplication),
and fold the buckets with a running product (2 (2^c - 1) multiplications), which gives
prod_j B_j^j. For N bases and l-bit exponents that is about (l / c) (N + 2^(c+1)) + l
multiplications instead of about 1.2 N l; the window c is chosen per call to minimise it.
"""

from collections.abc import Sequence

import gmpy2

MAX_WINDOW = 10
"""Largest digit width tried (1,024 buckets): enough for batches of several thousand."""


def _window(count: int, bits: int) -> int:
    """The digit width c minimising (bits / c) (count + 2^(c + 1))."""
    best, best_cost = 1, float("inf")
    for c in range(1, MAX_WINDOW + 1):
        cost = -(-bits // c) * (count + (1 << (c + 1)))
        if cost < best_cost:
            best, best_cost = c, cost
    return best


def multi_power(bases: Sequence[int], exponents: Sequence[int], modulus: int) -> gmpy2.mpz:
    """prod bases[i]^exponents[i] mod modulus; exponents must be non-negative."""
    if len(bases) != len(exponents):
        raise ValueError(f"{len(bases)} bases but {len(exponents)} exponents")
    m = gmpy2.mpz(modulus)
    pairs = []
    for index, (base, exponent) in enumerate(zip(bases, exponents, strict=True)):
        if exponent < 0:
            raise ValueError(f"exponent {index} is negative")
        if exponent:
            pairs.append((gmpy2.mpz(base) % m, int(exponent)))
    if not pairs:
        return gmpy2.mpz(1) % m
    bits = max(exponent.bit_length() for _, exponent in pairs)
    c = _window(len(pairs), bits)
    mask = (1 << c) - 1
    windows = -(-bits // c)
    digits = [[(exponent >> (c * w)) & mask for w in range(windows)] for _, exponent in pairs]
    result = gmpy2.mpz(1)
    for w in range(windows - 1, -1, -1):
        if result != 1:
            for _ in range(c):
                result = result * result % m
        buckets: list[gmpy2.mpz | None] = [None] * (mask + 1)
        for (base, _), row in zip(pairs, digits, strict=True):
            digit = row[w]
            if digit:
                held = buckets[digit]
                buckets[digit] = base if held is None else held * base % m
        running: gmpy2.mpz | None = None
        total: gmpy2.mpz | None = None
        for digit in range(mask, 0, -1):
            held = buckets[digit]
            if held is not None:
                running = held if running is None else running * held % m
            if running is not None:
                total = running if total is None else total * running % m
        if total is not None:
            result = result * total % m
    return result
