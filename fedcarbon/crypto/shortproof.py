"""Proof of plaintext knowledge for short-exponent (DJN) ciphertexts, one by one or in batch.

Statement: the prover knows m in Z_n and an integer alpha with c = (1 + n)^m h_s^alpha mod n^2
(``shortexp``). A Sigma protocol for a homomorphism with an integer response for alpha, as
for proofs over groups of unknown order (the h_s-power part: Damgård, Jurik, Nielsen 2010,
section on proofs for the h_s variant; integer responses: Fujisaki and Okamoto, CRYPTO 1997),
made non-interactive with Fiat-Shamir (Fiat and Shamir, CRYPTO 1986) over a context like
``knowledge.py``'s:

    Prover:   x <- Z_n,  beta <- [0, 2^COMMIT_BITS),  a = (1 + n)^x h_s^beta mod n^2
              e = H(domain || context || n || h_s || c || a) mod 2^CHALLENGE_BITS
              z = x + e m mod n,   w = beta + e alpha   (an integer, never reduced)
    Verifier: 0 <= z < n, 0 <= w < 2^RESPONSE_BITS, and (1 + n)^z h_s^w == a c^e (mod n^2)

Cost: the prover's h_s^beta has COMMIT_BITS = 704 bits (precomputable in a
``RandomnessPool``); the verifier's h_s^w has 705 bits and c^e 128, about 0.4 of a full
2048-bit exponentiation modulo n^2, where ``knowledge.py`` needs v^n with the full n.

Completeness: (1 + n)^(x + e m) = (1 + n)^z because (1 + n) has order n modulo n^2, and
h_s^(beta + e alpha) = h_s^beta (h_s^alpha)^e, so both sides equal a c^e.

Soundness (what is proven is the plaintext). Write every unit of Z_{n^2} as (1 + n)^u y^n
(Paillier 1999) and let pi map it to u in Z_n: pi is a homomorphism and pi(h_s) = 0 once
``shortexp.check_key`` accepted the key (h_s is an n-th residue). An accepting proof gives
z = pi(a) + e pi(c) mod n. Two accepting answers for the same a and challenges e != e' give
pi(c) = (z - z') / (e - e') mod n, where e - e' is invertible since |e - e'| < 2^128 is far
below n's prime factors: a prover that can answer two challenges knows m = pi(c) (special
soundness; with Fiat-Shamir in the random-oracle model via the forking lemma, Pointcheval and
Stern, J. Cryptology 2000). No assumption about w or the order of h_s is needed for m.
The check also implies that a and c are units: the left side is a unit, so a c^e is one.

Zero knowledge (statistical, honest verifier): z is uniform in Z_n; w = beta + e alpha with
beta uniform in [0, 2^COMMIT_BITS) and e alpha < 2^(CHALLENGE_BITS + EXPONENT_BITS) is within
statistical distance 2^-STATISTICAL_BITS of uniform; a simulator picks z, w so and sets
a = (1 + n)^z h_s^w c^-e.

Batch verification (Bellare, Garay, Rabin, "Fast batch verification for modular
exponentiation and digital signatures", EUROCRYPT 1998, small-exponent test): the verifier
draws t_i in [0, 2^BATCH_BITS) itself and checks one equation,

    (1 + n)^(sum t_i z_i) h_s^(sum t_i w_i) == prod (a_i c_i^e_i)^t_i   (mod n^2).

The right side is one multi-exponentiation over all a_i and c_i (``multiexp``, Pippenger's
method), the left side one fixed-base power of h_s: per proof that is a fraction of
``verify``'s cost (docs/benchmarks.md).

Z_{n^2}^* has elements of small order (-1 at least), so this does not prove that each single
equation holds exactly (Boyd and Pavlovski, ASIACRYPT 2000): a proof off by a factor -1 passes
half the time. What it does prove is what soundness uses. Applying pi to the batch equation
gives sum t_i d_i = 0 mod n with d_i = z_i - pi(a_i) - e_i pi(c_i); if some d_j != 0 mod n it
is non-zero modulo a prime factor p of n, and for any fixed other t_i at most one t_j below
2^BATCH_BITS < p satisfies the sum: a batch with a prover whose plaintext equation fails
passes with probability at most 2^-BATCH_BITS. Small-order factors are n-th residues
(their order is prime to n), so pi ignores them and they cannot hide a wrong plaintext.
When the batch check fails, every proof is checked alone to name the bad ones.
"""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import gmpy2

from fedcarbon.crypto.errors import EncodingError, ProofFormatError
from fedcarbon.crypto.knowledge import slot_context
from fedcarbon.crypto.multiexp import multi_power
from fedcarbon.crypto.randomness import RandomnessPool
from fedcarbon.crypto.shortexp import (
    EXPONENT_BITS,
    ShortExponentKey,
    encrypt,
    encrypt_with_mask,
    hs_power,
)

CHALLENGE_BITS = 128
"""Fiat-Shamir challenge length: soundness error 2^-128 per proof."""

STATISTICAL_BITS = 128
"""Slack of the integer response: the proof leaks at most 2^-128 (statistical distance)."""

COMMIT_BITS = EXPONENT_BITS + CHALLENGE_BITS + STATISTICAL_BITS
"""Length of beta, the commitment exponent: 704 bits with the defaults."""

RESPONSE_BITS = COMMIT_BITS + 1
"""An honest w = beta + e alpha < 2^COMMIT_BITS + 2^(CHALLENGE_BITS + EXPONENT_BITS)."""

BATCH_BITS = 64
"""Length of the batch weights t_i: a batch with a bad proof passes with probability 2^-64."""

PROOF_DOMAIN = b"fedcarbon.v1.djn-plaintext-knowledge"
"""Fiat-Shamir domain separator, distinct from ``knowledge.PROOF_DOMAIN``."""


def _byte_length(value: int) -> int:
    return (value.bit_length() + 7) // 8


RESPONSE_BYTES = (RESPONSE_BITS + 7) // 8
"""Width of w on the wire (89 bytes with the defaults)."""


@dataclass(frozen=True)
class ShortExponentProof:
    """Fiat-Shamir proof (a, z, w) of knowing (m, alpha) behind a short-exponent ciphertext.

    Wire format (``to_bytes``): fixed width, big-endian, no header: a in ``len(n^2)`` bytes,
    z in ``len(n)`` bytes, w in ``RESPONSE_BYTES`` bytes (2048-bit n: 512 + 256 + 89 bytes).
    """

    a: int
    z: int
    w: int

    def to_bytes(self, key: ShortExponentKey) -> bytes:
        try:
            return (
                self.a.to_bytes(_byte_length(key.nsquare), "big")
                + self.z.to_bytes(_byte_length(key.n), "big")
                + self.w.to_bytes(RESPONSE_BYTES, "big")
            )
        except OverflowError as exc:
            raise ProofFormatError(f"proof component does not fit the key's width: {exc}") from exc

    @classmethod
    def from_bytes(cls, blob: bytes, key: ShortExponentKey) -> "ShortExponentProof":
        """Parse the fixed-width layout; a wrong length raises ``ProofFormatError``."""
        a_len, z_len = _byte_length(key.nsquare), _byte_length(key.n)
        expected = a_len + z_len + RESPONSE_BYTES
        if len(blob) != expected:
            raise ProofFormatError(
                f"short-exponent proof has {len(blob)} bytes, expected {expected} "
                f"({a_len} for a, {z_len} for z, {RESPONSE_BYTES} for w)"
            )
        return cls(
            a=int.from_bytes(blob[:a_len], "big"),
            z=int.from_bytes(blob[a_len : a_len + z_len], "big"),
            w=int.from_bytes(blob[a_len + z_len :], "big"),
        )


@dataclass(frozen=True)
class ProofItem:
    """One ciphertext with its proof and the exact context the proof was made for."""

    c: int
    proof: ShortExponentProof
    context: bytes


def _encode(value: int) -> bytes:
    raw = value.to_bytes(max(1, _byte_length(value)), "big")
    return len(raw).to_bytes(4, "big") + raw


def _challenge(key: ShortExponentKey, c: int, a: int, context: bytes) -> int:
    """e = SHA-256(domain || context || n || h_s || c || a), each length-prefixed, to 128 bits."""
    digest = hashlib.sha256()
    digest.update(len(PROOF_DOMAIN).to_bytes(4, "big") + PROOF_DOMAIN)
    digest.update(len(context).to_bytes(4, "big") + context)
    for value in (key.n, key.hs, c, a):
        digest.update(_encode(value))
    return int.from_bytes(digest.digest(), "big") >> (256 - CHALLENGE_BITS)


def prove(
    key: ShortExponentKey,
    c: int,
    m: int,
    alpha: int,
    context: bytes,
    *,
    commitment: tuple[int, int] | None = None,
) -> ShortExponentProof:
    """Prove knowledge of (m, alpha) with c = (1 + n)^m h_s^alpha, bound to ``context``.

    ``commitment`` is a fresh (beta, h_s^beta) pair with beta < 2^COMMIT_BITS, e.g. from a
    ``RandomnessPool(key, COMMIT_BITS)``; then proving costs no exponentiation. A wrong
    (m, alpha) gives a proof that does not verify (not checked here).
    """
    if not 0 <= m < key.n:
        raise EncodingError(f"plaintext must satisfy 0 <= m < n to be proven, got {m}")
    if not 0 <= alpha < 1 << EXPONENT_BITS:
        raise EncodingError(f"alpha must satisfy 0 <= alpha < 2^{EXPONENT_BITS}")
    nsquare = gmpy2.mpz(key.nsquare)
    if commitment is None:
        beta = secrets.randbits(COMMIT_BITS)
        mask = hs_power(key, beta)
    else:
        beta, mask = commitment
        if not 0 <= beta < 1 << COMMIT_BITS:
            raise EncodingError(f"commitment exponent must satisfy 0 <= beta < 2^{COMMIT_BITS}")
    x = secrets.randbelow(key.n)
    # (1 + n)^x = 1 + x n mod n^2: no exponentiation for the (1 + n)-part.
    a = int((1 + x * gmpy2.mpz(key.n)) * mask % nsquare)
    e = _challenge(key, c, a, context)
    return ShortExponentProof(a=a, z=(x + e * m) % key.n, w=beta + e * alpha)


def _in_range(key: ShortExponentKey, c: int, proof: ShortExponentProof) -> bool:
    nsquare = key.nsquare
    return (
        0 < c < nsquare
        and 0 < proof.a < nsquare
        and 0 <= proof.z < key.n
        and 0 <= proof.w < 1 << RESPONSE_BITS
    )


def verify(key: ShortExponentKey, c: int, proof: ShortExponentProof, context: bytes) -> bool:
    """True iff the proof verifies alone (exact equation); never raises on bad values."""
    if not _in_range(key, c, proof):
        return False
    nsquare = gmpy2.mpz(key.nsquare)
    e = _challenge(key, c, proof.a, context)
    left = (1 + proof.z * gmpy2.mpz(key.n)) * hs_power(key, proof.w) % nsquare
    right = proof.a * gmpy2.powmod(c, e, nsquare) % nsquare
    return bool(left == right)


def batch_verify(key: ShortExponentKey, items: Sequence[ProofItem]) -> list[int]:
    """Indices of items whose proofs fail (empty: all pass), by the small-exponent test.

    Out-of-range items are named without entering the batch; if the batch equation fails,
    each remaining item is verified alone. Soundness is argued in the module docstring.
    """
    bad = [i for i, item in enumerate(items) if not _in_range(key, item.c, item.proof)]
    excluded = set(bad)
    candidates = [i for i in range(len(items)) if i not in excluded]
    if len(candidates) <= 1:
        bad += [
            i for i in candidates if not verify(key, items[i].c, items[i].proof, items[i].context)
        ]
        return sorted(bad)
    n = gmpy2.mpz(key.n)
    nsquare = n * n
    z_sum = gmpy2.mpz(0)
    w_sum = gmpy2.mpz(0)
    bases: list[int] = []
    exponents: list[int] = []
    for i in candidates:
        item = items[i]
        t = secrets.randbits(BATCH_BITS)
        e = _challenge(key, item.c, item.proof.a, item.context)
        z_sum += t * item.proof.z
        w_sum += t * item.proof.w
        bases += (item.proof.a, item.c)
        exponents += (t, t * e)
    # prod (a_i c_i^e_i)^t_i = prod a_i^t_i c_i^(t_i e_i), by one multi-exponentiation.
    right = multi_power(bases, exponents, key.nsquare)
    left = (1 + (z_sum % n) * n) * hs_power(key, w_sum) % nsquare
    if left != right:
        bad += [
            i for i in candidates if not verify(key, items[i].c, items[i].proof, items[i].context)
        ]
    return sorted(bad)


def encrypt_and_prove(
    key: ShortExponentKey,
    plaintexts: Sequence[int],
    context: bytes,
    *,
    masks: RandomnessPool | None = None,
    commitments: RandomnessPool | None = None,
) -> tuple[list[int], list[ShortExponentProof]]:
    """Encrypt each plaintext and prove it, slot i under ``knowledge.slot_context(context, i)``.

    With pools (``RandomnessPool(key)`` for ``masks``, ``RandomnessPool(key, COMMIT_BITS)`` for
    ``commitments``) the online cost is a few multiplications and a hash per plaintext.
    """
    for pool, bits, name in (
        (masks, EXPONENT_BITS, "masks"),
        (commitments, COMMIT_BITS, "commitments"),
    ):
        if pool is not None and (pool.key != key or pool.bits != bits):
            raise EncodingError(
                f"{name} pool is for another key or exponent length (needs {bits} bits)"
            )
    ciphertexts: list[int] = []
    proofs: list[ShortExponentProof] = []
    for index, plaintext in enumerate(plaintexts):
        m = int(plaintext)
        if not 0 <= m < key.n:
            raise EncodingError(f"plaintext {index} must satisfy 0 <= m < n, got {m}")
        if masks is None:
            c, alpha = encrypt(key, m)
        else:
            alpha, mask = masks.take()
            c = encrypt_with_mask(key, m, mask)
        commitment = commitments.take() if commitments is not None else None
        ciphertexts.append(c)
        proofs.append(prove(key, c, m, alpha, slot_context(context, index), commitment=commitment))
    return ciphertexts, proofs


def vector_items(
    ciphertexts: Sequence[int], proofs: Sequence[ShortExponentProof], context: bytes
) -> list[ProofItem]:
    """``batch_verify`` items of one vector, slot contexts as ``encrypt_and_prove`` makes them."""
    if len(ciphertexts) != len(proofs):
        raise ProofFormatError(
            f"{len(ciphertexts)} ciphertexts but {len(proofs)} plaintext-knowledge proofs"
        )
    return [
        ProofItem(c=c, proof=proof, context=slot_context(context, index))
        for index, (c, proof) in enumerate(zip(ciphertexts, proofs, strict=True))
    ]


def proofs_from_bytes(
    blobs: Sequence[bytes], key: ShortExponentKey, *, expected: int
) -> list[ShortExponentProof]:
    """Parse one proof per ciphertext; a wrong count or width names the proof's index."""
    if len(blobs) != expected:
        raise ProofFormatError(f"expected {expected} plaintext-knowledge proofs, got {len(blobs)}")
    proofs = []
    for index, blob in enumerate(blobs):
        try:
            proofs.append(ShortExponentProof.from_bytes(blob, key))
        except ProofFormatError as error:
            raise ProofFormatError(f"proof {index}: {error}") from None
    return proofs


def batch_verify_groups(key: ShortExponentKey, groups: Sequence[Sequence[ProofItem]]) -> list[int]:
    """Indices of groups (e.g. submissions) with at least one failing proof, in one batch.

    All groups' items go through a single ``batch_verify``, so a window of many submissions
    costs one small-exponent test; on failure the individual checks name the bad groups.
    """
    flat: list[ProofItem] = []
    owner: list[int] = []
    for group_index, group in enumerate(groups):
        flat.extend(group)
        owner.extend([group_index] * len(group))
    return sorted({owner[i] for i in batch_verify(key, flat)})
