"""Shamir secret sharing over a prime field: t of n shares rebuild a value, t - 1 reveal nothing.

Shamir, "How to share a secret", Communications of the ACM 22(11), 1979. A secret s in Z_P is
the constant term of a random polynomial f of degree t - 1 over Z_P; party j (j = 1..n) gets
f(j). Any t points determine f, so f(0) = sum_j lambda_j f(j) with the Lagrange coefficients
lambda_j = prod_{i != j} i / (i - j) mod P; any t - 1 points are uniformly distributed whatever
s is (perfect secrecy).

Why fedcarbon uses it (docs/threshold.md): sharing is linear, so the sum of many parties'
shares for trustee j is trustee j's share of the sum. An agent splits each packed slot value
into n shares and encrypts share j under trustee j's own Paillier key; the coordinator adds
ciphertexts per trustee; each trustee decrypts only its aggregate, which is a share of the
cohort total; any t of those shares rebuild the total. No party ever holds a key that opens a
whole value, and no dealer ever exists.
"""

import secrets
from collections.abc import Mapping, Sequence

import gmpy2

from fedcarbon.crypto.errors import CryptoError


class InconsistentSharesError(CryptoError):
    """More than t shares that do not lie on one polynomial of degree t - 1."""


def field_prime(largest_secret: int) -> int:
    """The smallest prime above ``largest_secret``: the field every share of a campaign lives in.

    Deterministic, so every agent, trustee and the coordinator derive the same P from the
    campaign's terms. Totals are exact as long as the true total is below P.
    """
    if largest_secret < 1:
        raise CryptoError(f"the largest secret must be positive, got {largest_secret}")
    return int(gmpy2.next_prime(largest_secret))


def split(secret: int, threshold: int, parties: int, prime: int) -> list[int]:
    """Shares f(1), ..., f(parties) of ``secret`` with a uniformly random f of degree t - 1."""
    if not 1 <= threshold <= parties:
        raise CryptoError(f"threshold {threshold} must be between 1 and {parties}")
    if parties >= prime:
        raise CryptoError(f"{parties} parties need a field larger than {prime}")
    if not 0 <= secret < prime:
        raise CryptoError(f"secret {secret} is outside the field Z_{prime}")
    coefficients = [secret, *(secrets.randbelow(prime) for _ in range(threshold - 1))]
    return [evaluate(coefficients, x, prime) for x in range(1, parties + 1)]


def evaluate(coefficients: Sequence[int], x: int, prime: int) -> int:
    """f(x) mod P by Horner's rule (coefficients from the constant term up)."""
    value = 0
    for coefficient in reversed(coefficients):
        value = (value * x + coefficient) % prime
    return value


def lagrange_at(xs: Sequence[int], at: int, prime: int) -> list[int]:
    """Coefficients l_j with f(at) = sum_j l_j f(x_j) for any f of degree < len(xs)."""
    if len(set(xs)) != len(xs):
        raise CryptoError(f"share indices repeat: {list(xs)}")
    coefficients = []
    for j in xs:
        numerator, denominator = 1, 1
        for i in xs:
            if i != j:
                numerator = numerator * (at - i) % prime
                denominator = denominator * (j - i) % prime
        coefficients.append(numerator * pow(denominator, -1, prime) % prime)
    return coefficients


def reconstruct(points: Mapping[int, int], threshold: int, prime: int) -> int:
    """f(0) from at least t points {x: f(x)}; every extra point must lie on the same f.

    Extra points are checked rather than ignored: shares that disagree mean a contributor
    sent inconsistent shares (or a share was altered), and a total that depends on which
    trustees answered must not be released.
    """
    if len(points) < threshold:
        raise CryptoError(f"{len(points)} share(s) cannot rebuild a {threshold}-of-n secret")
    xs = sorted(points)
    basis = xs[:threshold]
    secret = sum(c * points[x] for c, x in zip(lagrange_at(basis, 0, prime), basis, strict=True))
    for extra in xs[threshold:]:
        coefficients = lagrange_at(basis, extra, prime)
        expected = sum(c * points[x] for c, x in zip(coefficients, basis, strict=True)) % prime
        if expected != points[extra] % prime:
            raise InconsistentSharesError(
                f"share {extra} does not lie on the polynomial of shares {basis}: the shares "
                "are inconsistent, so the total would depend on which trustees answered"
            )
    return secret % prime
