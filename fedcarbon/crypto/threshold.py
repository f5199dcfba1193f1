"""Threshold Paillier decryption, t of n trustees: Damgård-Jurik with s = 1 (Shoup-style).

Construction: I. Damgård and M. Jurik, "A Generalisation, a Simplification and Some
Applications of Paillier's Probabilistic Public-Key System", PKC 2001, LNCS 1992, pp. 119-136,
Section 4.1 ("Threshold Variant"), with s = 1, i.e. plain Paillier with g = n + 1 exactly as
``phe`` encrypts. It applies V. Shoup's threshold RSA ("Practical Threshold Signatures",
EUROCRYPT 2000, LNCS 1807) to Paillier; Fouque, Poupard and Stern (FC 2000) give the same
scheme for s = 1.

Key generation (a trusted dealer, see ``generate_threshold_key``):
    n = pq, p = 2p' + 1, q = 2q' + 1 safe primes; m = p'q';
    d with d = 0 (mod m) and d = 1 (mod n);
    f(X) = d + a_1 X + ... + a_{t-1} X^{t-1} over Z_{nm}, a_j uniform; s_i = f(i);
    v a random square generating the squares of Z*_{n^2};  v_i = v^(Delta s_i),  Delta = l!.
Share decryption by trustee i:  c_i = c^(2 Delta s_i) mod n^2, plus a proof that
    log_{c^4}(c_i^2) = log_v(v_i)  (``fedcarbon.crypto.proofs``).
Combining t valid shares S:
    c' = prod_{i in S} c_i^(2 mu_i) mod n^2,  mu_i = Delta prod_{j in S, j != i} j / (j - i),
    plaintext = L(c') * (4 Delta^2)^-1 mod n,  L(u) = (u - 1) / n.
The combining coefficient is the one of Shoup (Section 2) and Fouque-Poupard-Stern; the
printed Damgård-Jurik formula has -i where -i' is meant (a known erratum, discussed at
https://crypto.stackexchange.com/questions/59636). Tests check the identities above.
"""

import hashlib
import json
import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import gmpy2
from phe import paillier

from fedcarbon.crypto.errors import (
    InvalidCiphertextError,
    InvalidPartialDecryptionError,
    KeyMaterialFormatError,
    KeyParameterError,
    NotEnoughSharesError,
)
from fedcarbon.crypto.primes import MIN_SAFE_PRIME_BITS, ProgressCallback, generate_safe_prime
from fedcarbon.crypto.proofs import EqualLogProof, prove_equal_logs, verify_equal_logs

MIN_KEY_BITS = 2048
"""Smallest modulus accepted without ``allow_insecure_size``: 112-bit security (NIST SP
800-57 Part 1, Table 2) and the floor DESIGN.md sets for campaigns."""

MAX_PARTIES = 100
"""Upper bound on l: Delta = l! enters every exponent, and a key read from the wire must not
make verification arbitrarily slow (100! has 525 bits)."""

FORMAT_VERSION = 1
"""Version of the JSON wire format of every object in this module."""

_PUBLIC_KEY_TYPE = "fedcarbon.threshold_paillier.public_key"
_KEY_SHARE_TYPE = "fedcarbon.threshold_paillier.key_share"
_PARTIAL_TYPE = "fedcarbon.threshold_paillier.partial_decryption"


# --------------------------------------------------------------------------- wire helpers


def _canonical(obj: dict[str, Any]) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, integers as lower-case hex strings."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _parse(data: bytes | str, expected_type: str) -> dict[str, Any]:
    """Decode JSON and check its type tag and version; errors name the object and field."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise KeyMaterialFormatError(f"{expected_type}: not valid JSON ({exc})") from exc
    if not isinstance(obj, dict):
        raise KeyMaterialFormatError(f"{expected_type}: expected a JSON object")
    if obj.get("type") != expected_type:
        raise KeyMaterialFormatError(f"{expected_type}.type: got {obj.get('type')!r}")
    if obj.get("version") != FORMAT_VERSION:
        raise KeyMaterialFormatError(
            f"{expected_type}.version: got {obj.get('version')!r}, expected {FORMAT_VERSION}"
        )
    return obj


def _hex(value: int) -> str:
    return format(value, "x")


def _int_from_hex(obj: dict[str, Any], field: str, where: str) -> int:
    raw = obj.get(field)
    if not isinstance(raw, str):
        raise KeyMaterialFormatError(f"{where}.{field}: expected a hex string, got {raw!r}")
    return _hex_value(raw, f"{where}.{field}")


def _hex_value(raw: object, path: str) -> int:
    if not isinstance(raw, str) or not raw or raw.startswith(("-", "+", "0x")):
        raise KeyMaterialFormatError(f"{path}: expected a non-negative hex string")
    try:
        return int(raw, 16)
    except ValueError as exc:
        raise KeyMaterialFormatError(f"{path}: {raw[:20]!r} is not hexadecimal") from exc


def _small_int(obj: dict[str, Any], field: str, where: str) -> int:
    raw = obj.get(field)
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise KeyMaterialFormatError(f"{where}.{field}: expected an integer, got {raw!r}")
    return raw


# --------------------------------------------------------------------------- key objects


@dataclass(frozen=True)
class ThresholdPublicKey:
    """Public part of a t-of-l threshold Paillier key (Damgård-Jurik 2001, Section 4.1).

    Attributes:
        n: the Paillier modulus pq (safe primes); encryption is phe's, with g = n + 1.
        n_parties: l, the number of trustees holding a share.
        threshold: t, how many trustees must cooperate to decrypt.
        v: verification base, a square generating the squares of Z*_{n^2}.
        verification_keys: v_i = v^(Delta s_i) mod n^2 for trustees i = 1..l, in order.
    """

    n: int
    n_parties: int
    threshold: int
    v: int
    verification_keys: tuple[int, ...]

    def __post_init__(self) -> None:
        if not 1 <= self.n_parties <= MAX_PARTIES:
            raise KeyParameterError(f"n_parties={self.n_parties} outside 1..{MAX_PARTIES}")
        if not 1 <= self.threshold <= self.n_parties:
            raise KeyParameterError(
                f"threshold t={self.threshold} must be between 1 and n_parties={self.n_parties}"
            )
        if len(self.verification_keys) != self.n_parties:
            raise KeyParameterError(
                f"{len(self.verification_keys)} verification keys for {self.n_parties} trustees"
            )
        if self.n < 3 or self.n % 2 == 0:
            raise KeyParameterError(f"modulus n must be odd and > 2, got {self.n}")
        n_square = self.n * self.n
        for name, value in [("v", self.v)] + [
            (f"verification_keys[{i}]", vk) for i, vk in enumerate(self.verification_keys)
        ]:
            if not 0 < value < n_square or math.gcd(value, self.n) != 1:
                raise KeyParameterError(f"public key {name} is not a unit modulo n^2")

    @cached_property
    def nsquare(self) -> int:
        """n^2, the ciphertext modulus."""
        return self.n * self.n

    @cached_property
    def delta(self) -> int:
        """Delta = l!, which clears every denominator of the Lagrange coefficients."""
        return math.factorial(self.n_parties)

    @cached_property
    def paillier(self) -> paillier.PaillierPublicKey:
        """The same key as phe sees it: agents encrypt with it (g = n + 1)."""
        return paillier.PaillierPublicKey(self.n)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical serialisation, hex: names the key in logs and proofs."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def verification_key(self, index: int) -> int:
        """v_i for the 1-based trustee ``index``."""
        if not 1 <= index <= self.n_parties:
            raise KeyParameterError(f"trustee index {index} outside 1..{self.n_parties}")
        return self.verification_keys[index - 1]

    def _to_obj(self) -> dict[str, Any]:
        return {
            "type": _PUBLIC_KEY_TYPE,
            "version": FORMAT_VERSION,
            "n": _hex(self.n),
            "n_parties": self.n_parties,
            "threshold": self.threshold,
            "v": _hex(self.v),
            "verification_keys": [_hex(vk) for vk in self.verification_keys],
        }

    @classmethod
    def _from_obj(cls, obj: dict[str, Any], where: str) -> "ThresholdPublicKey":
        raw_keys = obj.get("verification_keys")
        if not isinstance(raw_keys, list):
            raise KeyMaterialFormatError(f"{where}.verification_keys: expected a list")
        try:
            return cls(
                n=_int_from_hex(obj, "n", where),
                n_parties=_small_int(obj, "n_parties", where),
                threshold=_small_int(obj, "threshold", where),
                v=_int_from_hex(obj, "v", where),
                verification_keys=tuple(
                    _hex_value(raw, f"{where}.verification_keys[{i}]")
                    for i, raw in enumerate(raw_keys)
                ),
            )
        except KeyParameterError as exc:
            raise KeyMaterialFormatError(f"{where}: {exc}") from exc

    def to_bytes(self) -> bytes:
        """Canonical, versioned JSON (UTF-8): equal keys give equal bytes."""
        return _canonical(self._to_obj())

    @classmethod
    def from_bytes(cls, data: bytes | str) -> "ThresholdPublicKey":
        """Parse ``to_bytes`` output; raises KeyMaterialFormatError naming the bad field."""
        return cls._from_obj(_parse(data, _PUBLIC_KEY_TYPE), "public_key")


@dataclass(frozen=True, repr=False)
class KeyShare:
    """Trustee ``index``'s secret share s_i = f(i) of the decryption exponent d.

    Attributes:
        index: the trustee's 1-based index i (the polynomial's evaluation point).
        s_i: the secret share; never logged (``repr`` hides it).
        public: the threshold public key this share belongs to.
    """

    index: int
    s_i: int
    public: ThresholdPublicKey

    def __post_init__(self) -> None:
        if self.s_i < 0:
            raise KeyParameterError(f"key share {self.index} has a negative s_i")
        if not 1 <= self.index <= self.public.n_parties:
            raise KeyParameterError(
                f"key share index {self.index} outside 1..{self.public.n_parties}"
            )

    def __repr__(self) -> str:
        return (
            f"KeyShare(index={self.index}, public={self.public.fingerprint[:16]}..., s_i=<hidden>)"
        )

    def to_bytes(self) -> bytes:
        """Canonical JSON with the public key embedded; secret: seal it before it travels."""
        return _canonical(
            {
                "type": _KEY_SHARE_TYPE,
                "version": FORMAT_VERSION,
                "index": self.index,
                "s_i": _hex(self.s_i),
                "public_key": self.public._to_obj(),
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes | str) -> "KeyShare":
        """Parse ``to_bytes`` output; raises KeyMaterialFormatError naming the bad field."""
        obj = _parse(data, _KEY_SHARE_TYPE)
        public_obj = obj.get("public_key")
        if not isinstance(public_obj, dict):
            raise KeyMaterialFormatError("key_share.public_key: expected an object")
        public = ThresholdPublicKey._from_obj(public_obj, "key_share.public_key")
        try:
            return cls(
                index=_small_int(obj, "index", "key_share"),
                s_i=_int_from_hex(obj, "s_i", "key_share"),
                public=public,
            )
        except KeyParameterError as exc:
            raise KeyMaterialFormatError(f"key_share: {exc}") from exc


@dataclass(frozen=True)
class PartialDecryption:
    """Trustee ``index``'s decryption share c_i = c^(2 Delta s_i) mod n^2 and its proof."""

    index: int
    value: int
    proof: EqualLogProof

    def to_bytes(self) -> bytes:
        """Canonical, versioned JSON; this is what travels over gRPC as bytes."""
        return _canonical(
            {
                "type": _PARTIAL_TYPE,
                "version": FORMAT_VERSION,
                "index": self.index,
                "value": _hex(self.value),
                "proof": {"e": _hex(self.proof.e), "z": _hex(self.proof.z)},
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes | str) -> "PartialDecryption":
        """Parse ``to_bytes`` output; raises KeyMaterialFormatError naming the bad field."""
        obj = _parse(data, _PARTIAL_TYPE)
        proof_obj = obj.get("proof")
        if not isinstance(proof_obj, dict):
            raise KeyMaterialFormatError("partial_decryption.proof: expected an object")
        return cls(
            index=_small_int(obj, "index", "partial_decryption"),
            value=_int_from_hex(obj, "value", "partial_decryption"),
            proof=EqualLogProof(
                e=_int_from_hex(proof_obj, "e", "partial_decryption.proof"),
                z=_int_from_hex(proof_obj, "z", "partial_decryption.proof"),
            ),
        )


# --------------------------------------------------------------------------- key ceremony


def _is_generator_of_squares(v: int, n: int, factors: tuple[int, int, int, int]) -> bool:
    """v (a square) generates the squares of Z*_{n^2}, cyclic of order n p' q'.

    True when v^(order / r) != 1 for each prime r of the order (p, q, p', q').
    """
    p, q, p_sub, q_sub = factors
    order = n * p_sub * q_sub
    n_square = gmpy2.mpz(n) * n
    return all(gmpy2.powmod(v, order // r, n_square) != 1 for r in (p, q, p_sub, q_sub))


def generate_threshold_key(
    bits: int,
    n_parties: int,
    threshold: int,
    *,
    progress: ProgressCallback | None = None,
    rng: random.Random | None = None,
    allow_insecure_size: bool = False,
) -> tuple[ThresholdPublicKey, list[KeyShare]]:
    """Deal a fresh t-of-l threshold Paillier key: the public key and one share per trustee.

    The dealer is trusted during this call: it sees p, q and d and could decrypt anything
    sent to the key. Those secrets (p, q, p', q', m, d, the polynomial's coefficients) exist
    only in this function's local variables and are deleted before it returns; nothing else
    is kept, logged or returned. Python cannot overwrite the memory of its immutable
    integers, so the erasure is best effort: run the ceremony in a short-lived process on a
    machine the trustees accept, and seal each share to its trustee at once
    (``fedcarbon.crypto.sealing.seal_key_share``). Distributed generation without a dealer
    (e.g. Hazay et al., "Efficient RSA Key Generation and Threshold Paillier in the Two-Party
    Setting", J. Cryptology 2019) is not implemented.

    Args:
        bits: length of the modulus n; at least ``MIN_KEY_BITS`` (2048) in production.
        n_parties: l, the number of trustees.
        threshold: t, the number of trustees needed to decrypt (1 <= t <= l).
        progress: called with the cumulative count of prime candidates examined (both primes;
            ``2 * primes.expected_candidates(bits // 2)`` is the expected total).
        rng: randomness for primes and polynomial; the OS CSPRNG by default (tests only).
        allow_insecure_size: accept ``bits`` below 2048, for tests and demos.
    """
    if bits % 2 or bits < 2 * MIN_SAFE_PRIME_BITS:
        raise KeyParameterError(f"key size {bits} must be even and >= {2 * MIN_SAFE_PRIME_BITS}")
    if bits < MIN_KEY_BITS and not allow_insecure_size:
        raise KeyParameterError(
            f"key size {bits} bits is below {MIN_KEY_BITS}; pass allow_insecure_size=True "
            "only for tests and demos"
        )
    if not 1 <= n_parties <= MAX_PARTIES or not 1 <= threshold <= n_parties:
        raise KeyParameterError(
            f"need 1 <= threshold <= n_parties <= {MAX_PARTIES}, "
            f"got threshold={threshold}, n_parties={n_parties}"
        )
    source = rng if rng is not None else secrets.SystemRandom()
    offset = 0
    last = 0

    def report(count: int) -> None:
        nonlocal last
        last = count
        if progress is not None:
            progress(offset + count)

    p = generate_safe_prime(bits // 2, source, progress=report)
    while True:
        offset, last = offset + last, 0
        q = generate_safe_prime(bits // 2, source, progress=report)
        # p != q and gcd(n, phi(n)) = 1 (fails only if q = 2p + 1 or p = 2q + 1).
        if q != p and math.gcd(p * q, (p - 1) * (q - 1)) == 1:
            break
    n = p * q
    p_sub, q_sub = (p - 1) // 2, (q - 1) // 2
    m = p_sub * q_sub  # p', q' > 2^30 > MAX_PARTIES, so Delta = l! is a unit mod nm
    d = m * int(gmpy2.invert(m, n))  # CRT: d = 0 (mod m), d = 1 (mod n)
    nm = n * m
    coefficients = [d] + [source.randrange(nm) for _ in range(threshold - 1)]
    shares_s = [_evaluate(coefficients, i, nm) for i in range(1, n_parties + 1)]
    n_square = gmpy2.mpz(n) * n
    while True:
        r = source.randrange(1, n * n)
        if math.gcd(r, n) != 1:
            continue
        v = int(gmpy2.powmod(r, 2, n_square))
        if _is_generator_of_squares(v, n, (p, q, p_sub, q_sub)):
            break
    delta = math.factorial(n_parties)
    verification_keys = tuple(int(gmpy2.powmod(v, delta * s, n_square)) for s in shares_s)
    # The dealer's secrets go out of scope here; nothing below may refer to them.
    del p, q, p_sub, q_sub, m, d, nm, coefficients, r
    public = ThresholdPublicKey(
        n=n, n_parties=n_parties, threshold=threshold, v=v, verification_keys=verification_keys
    )
    return public, [KeyShare(index=i + 1, s_i=s, public=public) for i, s in enumerate(shares_s)]


def _evaluate(coefficients: Sequence[int], x: int, modulus: int) -> int:
    """f(x) mod ``modulus`` by Horner's rule."""
    result = 0
    for a in reversed(coefficients):
        result = (result * x + a) % modulus
    return result


def share_matches_public_key(share: KeyShare) -> bool:
    """True iff v^(Delta s_i) = v_i: the share a trustee received is the one the key commits to.

    A trustee runs this on opening its sealed share; a mismatch means the dealer or the
    coordinator delivered the wrong share, or the public key was swapped.
    """
    public = share.public
    expected = gmpy2.powmod(public.v, public.delta * share.s_i, gmpy2.mpz(public.nsquare))
    return bool(expected == public.verification_key(share.index))


def verification_keys_consistent(public: ThresholdPublicKey) -> bool:
    """True iff the v_i lie on one polynomial of degree t - 1 "in the exponent".

    With S = {1..t}, Delta f(j) = sum_i mu_{j,i}^S f(i) for every trustee j, so
    v_j^Delta = prod_i v_i^(mu_{j,i}^S) mod n^2 must hold for j = t+1..l. If it does, every
    t-subset of honest trustees reconstructs the same exponent, so a dealer cannot hand out
    shares that make some subsets decrypt differently from others. (It does not show that
    the shared exponent decrypts; a test decryption after the ceremony shows that.)
    """
    n_square = gmpy2.mpz(public.nsquare)
    base = list(range(1, public.threshold + 1))
    for j in range(public.threshold + 1, public.n_parties + 1):
        product = gmpy2.mpz(1)
        for i in base:
            mu = lagrange_coefficient(public.delta, base, i, at=j)
            product = product * gmpy2.powmod(public.verification_key(i), mu, n_square) % n_square
        if product != gmpy2.powmod(public.verification_key(j), public.delta, n_square):
            return False
    return True


# --------------------------------------------------------------------------- decryption


def _check_ciphertext(public: ThresholdPublicKey, ciphertext: int) -> None:
    """A ciphertext must be a unit of Z*_{n^2}; anything else is refused before any work."""
    if not 0 < ciphertext < public.nsquare or math.gcd(ciphertext, public.n) != 1:
        raise InvalidCiphertextError(
            f"ciphertext {hex(ciphertext)[:18]}... is not a unit modulo n^2 of key "
            f"{public.fingerprint[:16]}"
        )


def share_exponent_bits(public: ThresholdPublicKey) -> int:
    """Public bound on the proven exponent Delta s_i < Delta n m < Delta n^2."""
    return public.delta.bit_length() + public.nsquare.bit_length()


def proof_context(public: ThresholdPublicKey, index: int, ciphertext: int) -> bytes:
    """Binds a proof to this key, this trustee and this ciphertext: no replay elsewhere."""
    return (
        bytes.fromhex(public.fingerprint)
        + index.to_bytes(4, "big")
        + ciphertext.to_bytes((public.nsquare.bit_length() + 7) // 8, "big")
    )


def partial_decrypt(share: KeyShare, ciphertext: int) -> PartialDecryption:
    """Trustee ``share.index``'s decryption share c_i = c^(2 Delta s_i) mod n^2, with proof.

    The proof (Damgård-Jurik 2001, Section 4.1) shows log_{c^4}(c_i^2) = log_v(v_i), so
    anyone holding the public key can check this trustee did not lie.
    """
    public = share.public
    _check_ciphertext(public, ciphertext)
    n_square = gmpy2.mpz(public.nsquare)
    exponent = public.delta * share.s_i
    value = int(gmpy2.powmod(ciphertext, 2 * exponent, n_square))
    proof = prove_equal_logs(
        public.nsquare,
        int(gmpy2.powmod(ciphertext, 4, n_square)),
        int(gmpy2.powmod(value, 2, n_square)),
        public.v,
        public.verification_key(share.index),
        exponent,
        secret_bits=share_exponent_bits(public),
        context=proof_context(public, share.index, ciphertext),
    )
    return PartialDecryption(index=share.index, value=value, proof=proof)


def partial_decrypt_vector(share: KeyShare, ciphertexts: Sequence[int]) -> list[PartialDecryption]:
    """One trustee's decryption shares of several ciphertexts, in the same order."""
    return [partial_decrypt(share, c) for c in ciphertexts]


def rejection_reason(
    public: ThresholdPublicKey, ciphertext: int, partial: PartialDecryption
) -> str | None:
    """Why ``partial`` is not an honest decryption share of ``ciphertext``; None if it is.

    Raises InvalidCiphertextError when ``ciphertext`` itself is not a unit modulo n^2.
    """
    _check_ciphertext(public, ciphertext)
    if not 1 <= partial.index <= public.n_parties:
        return f"index {partial.index} outside 1..{public.n_parties}"
    if not 0 < partial.value < public.nsquare or math.gcd(partial.value, public.n) != 1:
        return "share value is not a unit modulo n^2"
    n_square = gmpy2.mpz(public.nsquare)
    ok = verify_equal_logs(
        public.nsquare,
        int(gmpy2.powmod(ciphertext, 4, n_square)),
        int(gmpy2.powmod(partial.value, 2, n_square)),
        public.v,
        public.verification_key(partial.index),
        partial.proof,
        secret_bits=share_exponent_bits(public),
        context=proof_context(public, partial.index, ciphertext),
    )
    return None if ok else "proof of correct decryption does not verify"


def verify_partial(public: ThresholdPublicKey, ciphertext: int, partial: PartialDecryption) -> bool:
    """True iff ``partial`` carries a valid proof for ``ciphertext`` under ``public``.

    Raises InvalidCiphertextError when ``ciphertext`` itself is not a unit modulo n^2.
    """
    return rejection_reason(public, ciphertext, partial) is None


def lagrange_coefficient(delta: int, subset: Sequence[int], index: int, at: int = 0) -> int:
    """mu_{at,i}^S = Delta * prod_{j in S, j != i} (at - j) / (i - j), an integer.

    At ``at`` = 0 this is Delta * prod j / (j - i), the combining coefficient (Shoup 2000,
    Section 2). Delta = l! makes the product integral for any S within 1..l.
    """
    numerator, denominator = delta, 1
    for j in subset:
        if j != index:
            numerator *= at - j
            denominator *= index - j
    quotient, remainder = divmod(numerator, denominator)
    if remainder:
        raise KeyParameterError(f"Delta={delta} does not clear the denominator for S={subset}")
    return quotient


def _combine_values(public: ThresholdPublicKey, values: dict[int, int]) -> int:
    """L(prod c_i^(2 mu_i) mod n^2) * (4 Delta^2)^-1 mod n over the given shares."""
    n = gmpy2.mpz(public.n)
    n_square = n * n
    subset = sorted(values)
    product = gmpy2.mpz(1)
    for i in subset:
        mu = lagrange_coefficient(public.delta, subset, i)
        product = product * gmpy2.powmod(values[i], 2 * mu, n_square) % n_square
    scale = gmpy2.invert(4 * public.delta * public.delta, n)
    return int((product - 1) // n * scale % n)


def _sort_partials(
    public: ThresholdPublicKey, ciphertext: int, partials: Sequence[PartialDecryption]
) -> tuple[dict[int, PartialDecryption], dict[int, str]]:
    """Split partials into valid ones (by trustee index) and reasons for the rejected ones."""
    counts: dict[int, int] = {}
    for partial in partials:
        counts[partial.index] = counts.get(partial.index, 0) + 1
    valid: dict[int, PartialDecryption] = {}
    rejected: dict[int, str] = {}
    for partial in partials:
        if counts[partial.index] > 1:
            rejected[partial.index] = f"sent {counts[partial.index]} partial decryptions"
            continue
        reason = rejection_reason(public, ciphertext, partial)
        if reason is None:
            valid[partial.index] = partial
        else:
            rejected[partial.index] = reason
    return valid, rejected


def split_valid(
    public: ThresholdPublicKey, ciphertext: int, partials: Sequence[PartialDecryption]
) -> tuple[list[PartialDecryption], dict[int, str]]:
    """The partials that verify, and trustee index -> reason for those that do not.

    A coordinator that got an ``InvalidPartialDecryptionError`` uses this to carry on with
    the honest trustees (if t of them answered) while reporting the others.
    """
    _check_ciphertext(public, ciphertext)
    valid, rejected = _sort_partials(public, ciphertext, partials)
    return [valid[i] for i in sorted(valid)], rejected


def combine(
    public: ThresholdPublicKey, ciphertext: int, partials: Sequence[PartialDecryption]
) -> int:
    """The plaintext of ``ciphertext`` from t or more trustees' partial decryptions.

    Every partial is verified first. Raises ``InvalidPartialDecryptionError`` naming each
    trustee whose partial fails (even if enough honest ones remain: a lie must be seen), and
    ``NotEnoughSharesError`` when fewer than t partials were offered.
    """
    _check_ciphertext(public, ciphertext)
    valid, rejected = _sort_partials(public, ciphertext, partials)
    if rejected:
        raise InvalidPartialDecryptionError(rejected)
    if len(valid) < public.threshold:
        raise NotEnoughSharesError(len(valid), public.threshold, list(valid))
    chosen = sorted(valid)[: public.threshold]
    return _combine_values(public, {i: valid[i].value for i in chosen})


def combine_vector(
    public: ThresholdPublicKey,
    ciphertexts: Sequence[int],
    responses: Sequence[Sequence[PartialDecryption]],
) -> list[int]:
    """Plaintexts of several ciphertexts; ``responses`` holds one list per trustee.

    Each trustee's list must answer every ciphertext in order (``partial_decrypt_vector``).
    A trustee with any bad or missing partial is named in ``InvalidPartialDecryptionError``.
    """
    for c in ciphertexts:
        _check_ciphertext(public, c)
    rejected: dict[int, str] = {}
    for response in responses:
        if not response:
            continue
        index = response[0].index
        if len(response) != len(ciphertexts):
            rejected[index] = f"answered {len(response)} of {len(ciphertexts)} ciphertexts"
            continue
        for position, partial in enumerate(response):
            if partial.index != index:
                rejected[index] = (
                    f"ciphertext #{position}: partial signed as trustee {partial.index}"
                )
                break
    by_position = [
        [r[k] for r in responses if r and r[0].index not in rejected]
        for k in range(len(ciphertexts))
    ]
    valid_by_position: list[dict[int, PartialDecryption]] = []
    for position, (c, partials) in enumerate(zip(ciphertexts, by_position, strict=True)):
        valid, bad = _sort_partials(public, c, partials)
        valid_by_position.append(valid)
        for index, reason in bad.items():
            rejected.setdefault(index, f"ciphertext #{position}: {reason}")
    if rejected:
        raise InvalidPartialDecryptionError(rejected)
    plaintexts = []
    for valid in valid_by_position:
        if len(valid) < public.threshold:
            raise NotEnoughSharesError(len(valid), public.threshold, list(valid))
        chosen = sorted(valid)[: public.threshold]
        plaintexts.append(_combine_values(public, {i: valid[i].value for i in chosen}))
    return plaintexts
