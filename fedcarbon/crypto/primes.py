"""Safe primes p = 2p' + 1 (p' prime), the factors threshold Paillier moduli need.

Shoup's threshold RSA ("Practical Threshold Signatures", EUROCRYPT 2000, Section 2) and the
Damgård-Jurik threshold Paillier scheme built on it (PKC 2001, Section 4.1) take n = pq with
p = 2p' + 1 and q = 2q' + 1, so that the squares of Z*_{n^2} form a cyclic group of order
n p' q' with no small subgroups: that is what makes the share-correctness proofs sound.

Search: pick a random odd p' with its top two bits set, sieve a window of odd candidates
p' + 2k against every small prime r, striking k where r divides p' or 2p' + 1, then test the
survivors with a base-2 Fermat test on p' and p (cheap, kills almost all), and finally
``gmpy2.is_prime`` (Baillie-PSW plus 40 random-base Miller-Rabin rounds) on both. With p'
prime, Pocklington's criterion makes 2^(p-1) = 1 (mod p) a proof that p is prime.

Expected time (one core, gmpy2 2.3): a 512-bit safe prime takes tens of milliseconds, a
1024-bit one (half a 2048-bit modulus) 0.1-1 s, as the sieve leaves about 1 candidate in 300
for the exponentiations; a whole 2048-bit key ceremony has a median near 1.2 s. The count
of candidates examined is roughly geometric with mean ``expected_candidates(bits)`` (about
190 000 odd p' at 1024 bits, from the Hardy-Littlewood density of Sophie Germain primes), so
an unlucky search can take several times the mean; ``benchmarks/bench_threshold.py``
measures it on the machine at hand.
"""

import math
import random
import secrets
from collections.abc import Callable
from functools import cache

import gmpy2
import numpy as np

from fedcarbon.crypto.errors import KeyParameterError

ProgressCallback = Callable[[int], None]
"""Called with the number of candidates p' examined so far (cumulative)."""

SIEVE_PRIME_BOUND = 1 << 16
"""Candidates with a factor below this (in p' or in 2p'+1) never reach a primality test."""

SIEVE_WINDOW = 1 << 14
"""Odd candidates p' sieved at once; progress is reported once per window."""

MILLER_RABIN_ROUNDS = 64
"""``reps`` of GMP's mpz_probab_prime_p (via ``gmpy2.is_prime``): since GMP 6.2 a Baillie-PSW
test plus reps - 24 random-base Miller-Rabin rounds, so an error below 4^-40 even before BPSW
(which has no known counterexample)."""

MIN_SAFE_PRIME_BITS = 32
"""Below this the sieve's small primes could be the candidates themselves; tests only."""

_TWIN_PRIME_CONSTANT = 0.6601618158468696
"""C2 of Hardy-Littlewood; density of Sophie Germain primes near N is 2 C2 / (ln N ln 2N)."""


@cache
def _sieve_primes() -> np.ndarray:
    """Odd primes below SIEVE_PRIME_BOUND (Eratosthenes), cached."""
    flags = np.ones(SIEVE_PRIME_BOUND, dtype=bool)
    flags[:2] = False
    for r in range(2, math.isqrt(SIEVE_PRIME_BOUND) + 1):
        if flags[r]:
            flags[r * r :: r] = False
    primes = np.nonzero(flags)[0]
    return primes[primes > 2].astype(np.int64)


def expected_candidates(bits: int) -> int:
    """Mean number of odd p' a search for a ``bits``-bit safe prime examines.

    Used by progress bars as the expected total. Hardy-Littlewood: a random integer near N is
    a Sophie Germain prime with probability about 2 C2 / (ln N ln 2N); odd ones twice that.
    """
    ln_n = (bits - 1) * math.log(2)
    return max(1, round(ln_n * (ln_n + math.log(2)) / (4 * _TWIN_PRIME_CONSTANT)))


def is_safe_prime(p: int, rounds: int = MILLER_RABIN_ROUNDS) -> bool:
    """True when p and (p - 1) / 2 are both (probable) primes."""
    if p < 5 or p % 2 == 0:
        return False
    return bool(gmpy2.is_prime(p, rounds)) and bool(gmpy2.is_prime((p - 1) // 2, rounds))


def _window_survivors(start: int) -> np.ndarray:
    """Offsets k in [0, SIEVE_WINDOW) with no small factor in p' = start + 2k nor in 2p' + 1."""
    alive = np.ones(SIEVE_WINDOW, dtype=bool)
    start_mpz = gmpy2.mpz(start)
    for r_np in _sieve_primes():
        r = int(r_np)
        a = int(start_mpz % r)
        half = (r + 1) // 2  # 2^-1 mod r
        # r | p'      <=>  a + 2k = 0          <=>  k = -a / 2        (mod r)
        # r | 2p' + 1  <=>  a + 2k = -1/2       <=>  k = (-1/2 - a) / 2 (mod r)
        alive[(-a * half) % r :: r] = False
        alive[((-half - a) * half) % r :: r] = False
    return np.nonzero(alive)[0]


def _passes_fermat(p_prime: gmpy2.mpz) -> bool:
    """Base-2 Fermat tests on p' and p = 2p' + 1: cheap filter before Miller-Rabin."""
    p = 2 * p_prime + 1
    return bool(gmpy2.powmod(2, p_prime - 1, p_prime) == 1) and bool(gmpy2.powmod(2, p - 1, p) == 1)


def generate_safe_prime(
    bits: int,
    rng: random.Random | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> int:
    """A random safe prime p = 2p' + 1 of exactly ``bits`` bits, with its top two bits set.

    The top two bits make a product of two such primes exactly ``2 * bits`` long.

    Args:
        bits: length of p; 1024 for a 2048-bit Paillier modulus.
        rng: source of randomness; the OS CSPRNG (``secrets.SystemRandom``) by default.
            Pass a seeded ``random.Random`` only in tests.
        progress: called after each sieve window with the cumulative candidates examined.
    """
    if bits < MIN_SAFE_PRIME_BITS:
        raise KeyParameterError(f"safe prime size {bits} bits is below {MIN_SAFE_PRIME_BITS}")
    source = rng if rng is not None else secrets.SystemRandom()
    sub_bits = bits - 1
    top = (1 << (sub_bits - 1)) | (1 << (sub_bits - 2))
    limit = 1 << sub_bits
    examined = 0
    while True:
        start = source.getrandbits(sub_bits) | top | 1
        for k in _window_survivors(start):
            p_prime = gmpy2.mpz(start + 2 * int(k))
            if p_prime >= limit:
                break
            if not _passes_fermat(p_prime):
                continue
            if gmpy2.is_prime(p_prime, MILLER_RABIN_ROUNDS) and gmpy2.is_prime(
                2 * p_prime + 1, MILLER_RABIN_ROUNDS
            ):
                if progress is not None:
                    progress(examined + int(k) + 1)
                return int(2 * p_prime + 1)
        examined += SIEVE_WINDOW
        if progress is not None:
            progress(examined)
