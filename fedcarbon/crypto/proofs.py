"""Non-interactive proof that two discrete logarithms are equal, in the group Z*_N.

A trustee proves its decryption share is honest by showing log_{c^4}(c_i^2) = log_v(v_i)
without revealing the exponent. This is the Chaum-Pedersen protocol ("Wallet Databases with
Observers", CRYPTO '92) in the form Shoup uses over an RSA modulus of unknown order
("Practical Threshold Signatures", EUROCRYPT 2000, Section 4.2) and Damgård-Jurik adopt for
threshold Paillier (PKC 2001, Section 4.1, "Share decryption"): since the group order is
secret, the response z = r + e x is computed over the integers and r is drawn long enough
to hide e x statistically. Fiat-Shamir turns it non-interactive: e = SHA-256 of a
domain-separated, length-prefixed transcript of every public value and the commitments.

Prover, knowing x with h = g^x and H = G^x (mod N):
    r <- [0, 2^(secret_bits + 256 + 128)),  a = g^r,  b = G^r,
    e = H(domain, context, N, g, h, G, H, a, b),  z = r + e x.
Verifier: a = g^z h^-e,  b = G^z H^-e  (mod N),  accept iff e = H(..., a, b).
"""

import hashlib
import secrets
from dataclasses import dataclass

import gmpy2

CHALLENGE_BITS = 256
"""Length of the Fiat-Shamir challenge e (SHA-256 output); soundness error 2^-256."""

STATISTICAL_HIDING_BITS = 128
"""Extra length of r over e * x, so z = r + e x leaks at most 2^-128 about x (Shoup 2000)."""

PROOF_DOMAIN = b"fedcarbon/v1/equal-discrete-logs/chaum-pedersen-shoup/sha256"
"""Domain separator of the Fiat-Shamir hash: a transcript can never be replayed elsewhere."""


@dataclass(frozen=True)
class EqualLogProof:
    """Fiat-Shamir proof (challenge e, response z) that log_g(h) = log_G(H) mod N."""

    e: int
    z: int


def _encode(value: int) -> bytes:
    """Length-prefixed big-endian encoding, so no two transcripts hash the same bytes."""
    raw = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return len(raw).to_bytes(4, "big") + raw


def _challenge(modulus: int, context: bytes, elements: tuple[int, ...]) -> int:
    """e = SHA-256(domain || context || N || g || h || G || H || a || b) as an integer."""
    digest = hashlib.sha256()
    digest.update(_encode(len(PROOF_DOMAIN)) + PROOF_DOMAIN)
    digest.update(_encode(len(context)) + context)
    digest.update(_encode(modulus))
    for element in elements:
        digest.update(_encode(element))
    return int.from_bytes(digest.digest(), "big")


def response_bits(secret_bits: int) -> int:
    """Bit length bound of r (and, up to one bit, of z) for a secret below 2^secret_bits."""
    return secret_bits + CHALLENGE_BITS + STATISTICAL_HIDING_BITS


def prove_equal_logs(
    modulus: int,
    g: int,
    h: int,
    big_g: int,
    big_h: int,
    secret: int,
    *,
    secret_bits: int,
    context: bytes,
) -> EqualLogProof:
    """Prove h = g^secret and H = G^secret (mod N) for one secret; see the module docstring.

    Args:
        modulus: N, here n^2 of the Paillier key.
        g, h, big_g, big_h: the two bases and their powers.
        secret: the common exponent, 0 <= secret < 2^secret_bits.
        secret_bits: public bound on the secret's length; sets the length of r.
        context: bytes binding the proof to its use (key fingerprint, trustee, ciphertext).
    """
    n_mpz = gmpy2.mpz(modulus)
    r = secrets.randbits(response_bits(secret_bits))
    a = int(gmpy2.powmod(g, r, n_mpz))
    b = int(gmpy2.powmod(big_g, r, n_mpz))
    e = _challenge(modulus, context, (g, h, big_g, big_h, a, b))
    return EqualLogProof(e=e, z=r + e * secret)


def verify_equal_logs(
    modulus: int,
    g: int,
    h: int,
    big_g: int,
    big_h: int,
    proof: EqualLogProof,
    *,
    secret_bits: int,
    context: bytes,
) -> bool:
    """True iff ``proof`` shows log_g(h) = log_G(H) mod N; h and H must be units mod N."""
    if not 0 <= proof.e < (1 << CHALLENGE_BITS):
        return False
    if not 0 <= proof.z < (1 << (response_bits(secret_bits) + 1)):
        return False
    n_mpz = gmpy2.mpz(modulus)
    if gmpy2.gcd(h, n_mpz) != 1 or gmpy2.gcd(big_h, n_mpz) != 1:
        return False
    a = gmpy2.powmod(g, proof.z, n_mpz) * gmpy2.powmod(h, -proof.e, n_mpz) % n_mpz
    b = gmpy2.powmod(big_g, proof.z, n_mpz) * gmpy2.powmod(big_h, -proof.e, n_mpz) % n_mpz
    return _challenge(modulus, context, (g, h, big_g, big_h, int(a), int(b))) == proof.e
