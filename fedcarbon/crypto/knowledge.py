"""Non-interactive proof of plaintext knowledge (PoPK) for a Paillier ciphertext.

Why: an agent's ciphertext is multiplied into the campaign aggregate unseen. A malicious
participant (or a coordinator colluding with one trustee) could otherwise submit a ciphertext
built homomorphically from OTHER agents' ciphertexts -- the product of the inverses of
everyone else's, or a victim's ciphertext raised to 2^L to shift it above the packed slots --
and so isolate the victim's figure after decryption. Someone who only holds others'
ciphertexts does not know their plaintext and randomness, so cannot produce this proof.

Protocol (Paillier with g = n + 1 as phe uses, Damgård-Jurik with s = 1). Statement: the prover
knows (m, r), m in Z_n, r in Z_n^*, with c = (1 + n)^m r^n mod n^2. This is the standard
Sigma protocol for an n-th-residuosity-style homomorphism, the "proof of plaintext knowledge"
used for the Paillier instantiation in Cramer, Damgård, Nielsen, "Multiparty Computation from
Threshold Homomorphic Encryption" (EUROCRYPT 2001) and built from the primitives of Damgård,
Jurik, "A Generalisation, a Simplification and Some Applications of Paillier's Probabilistic
Public-Key System" (PKC 2001):

    Prover:   x <- Z_n,  u <- Z_n^*,  a = (1 + n)^x u^n mod n^2
              e = H(domain || context || n || c || a) mod 2^128
              z = x + e m mod n,  v = u r^e mod n
    Verifier: (1 + n)^z v^n == a c^e (mod n^2)

Completeness: with q = floor((x + e m) / n), (1 + n)^(x + e m) = (1 + n)^z ((1 + n)^q)^n and
((1 + n)^q)^n = (1 + q n)^n = 1 mod n^2; also (y + k n)^n = y^n mod n^2, so v can be reduced
mod n. Special soundness: two accepting answers to challenges e != e' for the same a give
(1 + n)^(z - z') (v / v')^n = c^(e - e'); since |e - e'| < 2^128 is far below the prime factors
of n, e - e' is invertible mod n and (m, r) can be extracted. Honest-verifier zero knowledge:
pick z, v at random and set a = (1 + n)^z v^n c^-e. Fiat-Shamir (SHA-256, Fiat and Shamir,
CRYPTO 1986) makes it non-interactive; the context (signer, campaign, slot index) is hashed
in, so a proof cannot be replayed for another agent, campaign or vector position.

What it does NOT prove: anything about the VALUE of m. A prover who knows an out-of-range m
(negative, i.e. near n, or larger than a packed slot) can encrypt it and prove knowledge
honestly. That is only caught grossly, after decryption, by ``packing.out_of_range``; a
range proof would be needed to catch it before aggregation. It also does not prove that m is
the prover's true figure, only that the prover knows it.
"""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import gmpy2
from phe import paillier

from fedcarbon.crypto.errors import EncodingError, ProofFormatError

CHALLENGE_BITS = 128
"""Length of the Fiat-Shamir challenge e: soundness error 2^-128, far below n's prime factors."""

PROOF_DOMAIN = b"fedcarbon.v1.plaintext-knowledge"
"""Domain separator of the Fiat-Shamir hash: a transcript can never be replayed elsewhere."""

INDEX_BYTES = 4
"""Width of the big-endian vector index appended to the context by ``encrypt_with_proofs``."""


def _byte_length(value: int) -> int:
    return (value.bit_length() + 7) // 8


@dataclass(frozen=True)
class PlaintextKnowledgeProof:
    """Fiat-Shamir proof (commitment a, responses z, v) of knowing (m, r) behind c.

    Wire format (``to_bytes``): fixed width, big-endian, concatenated, no header:
    ``a`` in ``len(n^2)`` bytes, then ``z`` in ``len(n)`` bytes, then ``v`` in ``len(n)``
    bytes, where ``len(x) = ceil(bitlength(x) / 8)``. The width is fixed per key, so a
    vector of proofs can be cut without separators.
    """

    a: int
    z: int
    v: int

    def to_bytes(self, n: int) -> bytes:
        """Serialise to the fixed-width layout above (2048-bit n: 512 + 256 + 256 bytes)."""
        n_len = _byte_length(n)
        nsq_len = _byte_length(n * n)
        try:
            return (
                self.a.to_bytes(nsq_len, "big")
                + self.z.to_bytes(n_len, "big")
                + self.v.to_bytes(n_len, "big")
            )
        except OverflowError as exc:
            raise ProofFormatError(f"proof component does not fit the key's width: {exc}") from exc

    @classmethod
    def from_bytes(cls, blob: bytes, n: int) -> "PlaintextKnowledgeProof":
        """Parse the fixed-width layout; a wrong length raises ``ProofFormatError``."""
        n_len = _byte_length(n)
        nsq_len = _byte_length(n * n)
        expected = nsq_len + 2 * n_len
        if len(blob) != expected:
            raise ProofFormatError(
                f"plaintext-knowledge proof has {len(blob)} bytes, expected {expected} "
                f"({nsq_len} for a, {n_len} each for z and v)"
            )
        return cls(
            a=int.from_bytes(blob[:nsq_len], "big"),
            z=int.from_bytes(blob[nsq_len : nsq_len + n_len], "big"),
            v=int.from_bytes(blob[nsq_len + n_len :], "big"),
        )


def _encode(value: int) -> bytes:
    """Length-prefixed big-endian encoding, so no two transcripts hash the same bytes."""
    raw = value.to_bytes(max(1, _byte_length(value)), "big")
    return len(raw).to_bytes(4, "big") + raw


def _challenge(n: int, c: int, a: int, context: bytes) -> int:
    """e = SHA-256(domain || len-prefixed context || n || c || a), truncated to 128 bits."""
    digest = hashlib.sha256()
    digest.update(len(PROOF_DOMAIN).to_bytes(4, "big") + PROOF_DOMAIN)
    digest.update(len(context).to_bytes(4, "big") + context)
    digest.update(_encode(n))
    digest.update(_encode(c))
    digest.update(_encode(a))
    return int.from_bytes(digest.digest(), "big") >> (256 - CHALLENGE_BITS)


def _is_unit(value: int, modulus: int, n: int) -> bool:
    """0 < value < modulus and gcd(value, n) = 1 (a unit of Z_modulus when modulus is n or n^2)."""
    return 0 < value < modulus and gmpy2.gcd(value, n) == 1


def _random_unit(n: int) -> int:
    """Uniform element of Z_n^* (rejection sampling; a non-unit would factor n anyway)."""
    while True:
        candidate = secrets.randbelow(n)
        if candidate > 0 and gmpy2.gcd(candidate, n) == 1:
            return candidate


def prove_plaintext_knowledge(
    n: int, c: int, m: int, r: int, context: bytes
) -> PlaintextKnowledgeProof:
    """Prove knowledge of (m, r) with c = (1 + n)^m r^n mod n^2, bound to ``context``.

    The caller must pass the very m and r used to encrypt; a wrong pair yields a proof that
    does not verify (it is not checked here, to keep proving one pass).
    """
    if not 0 <= m < n:
        raise EncodingError(f"plaintext must satisfy 0 <= m < n to be proven, got {m}")
    if not _is_unit(r, n, n):
        raise EncodingError("randomness r must be a unit of Z_n (0 < r < n, gcd(r, n) = 1)")
    n_mpz = gmpy2.mpz(n)
    nsquare = n_mpz * n_mpz
    x = secrets.randbelow(n)
    u = _random_unit(n)
    # (1 + n)^x = 1 + x n mod n^2, so no exponentiation is needed for the g-part.
    a = int((1 + x * n_mpz) * gmpy2.powmod(u, n_mpz, nsquare) % nsquare)
    e = _challenge(n, c, a, context)
    z = (x + e * m) % n
    v = int(u * gmpy2.powmod(r, e, n_mpz) % n_mpz)
    return PlaintextKnowledgeProof(a=a, z=z, v=v)


def verify_plaintext_knowledge(
    n: int, c: int, proof: PlaintextKnowledgeProof, context: bytes
) -> bool:
    """True iff ``proof`` shows knowledge of c's plaintext under ``context``; never raises."""
    n_mpz = gmpy2.mpz(n)
    nsquare = n_mpz * n_mpz
    if not _is_unit(c, nsquare, n):
        return False
    if not _is_unit(proof.a, nsquare, n):
        return False
    if not 0 <= proof.z < n:
        return False
    if not _is_unit(proof.v, n, n):
        return False
    e = _challenge(n, c, proof.a, context)
    left = (1 + proof.z * n_mpz) * gmpy2.powmod(proof.v, n_mpz, nsquare) % nsquare
    right = proof.a * gmpy2.powmod(c, e, nsquare) % nsquare
    return bool(left == right)


def slot_context(context: bytes, index: int) -> bytes:
    """Context of slot ``index``: ``context || index`` (4 bytes, big-endian)."""
    return context + index.to_bytes(INDEX_BYTES, "big")


def encrypt_with_proofs(
    moduli: Sequence[int], plaintexts: Sequence[int], context: bytes
) -> tuple[list[int], list[PlaintextKnowledgeProof]]:
    """Encrypt plaintext i under modulus i (g = n + 1); prove it under ``slot_context(context, i)``.

    Binding the index stops a relay from swapping proofs (and ciphertexts) between positions,
    and so between trustees' blocks. The context should name the signer and campaign.
    """
    if len(moduli) != len(plaintexts):
        raise EncodingError(f"{len(plaintexts)} plaintexts for {len(moduli)} positions")
    ciphertexts: list[int] = []
    proofs: list[PlaintextKnowledgeProof] = []
    for index, (plaintext, n) in enumerate(zip(plaintexts, moduli, strict=True)):
        m = int(plaintext)
        if not 0 <= m < n:
            raise EncodingError(f"plaintext {index} must satisfy 0 <= m < n, got {m}")
        r = _random_unit(n)
        c = int(paillier.PaillierPublicKey(n).raw_encrypt(m, r_value=r))
        ciphertexts.append(c)
        proofs.append(prove_plaintext_knowledge(n, c, m, r, slot_context(context, index)))
    return ciphertexts, proofs


def verify_vector(
    moduli: Sequence[int],
    ciphertexts: Sequence[int],
    proofs: Sequence[PlaintextKnowledgeProof],
    context: bytes,
) -> list[int]:
    """Indices whose proofs fail (empty list: all verify); a count mismatch raises."""
    if not len(ciphertexts) == len(proofs) == len(moduli):
        raise ProofFormatError(
            f"{len(ciphertexts)} ciphertexts, {len(proofs)} plaintext-knowledge proofs and "
            f"{len(moduli)} positions"
        )
    return [
        index
        for index, (n, c, proof) in enumerate(zip(moduli, ciphertexts, proofs, strict=True))
        if not verify_plaintext_knowledge(n, c, proof, slot_context(context, index))
    ]
