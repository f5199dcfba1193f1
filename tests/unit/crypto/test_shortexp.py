"""DJN short-exponent encryption (fedcarbon.crypto.shortexp) against plain phe and the paper."""

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phe import paillier

from fedcarbon.crypto.errors import EncodingError, KeyMaterialFormatError
from fedcarbon.crypto.shortexp import (
    EXPONENT_BITS,
    KEY_MAGIC,
    NthResidueProof,
    ShortExponentKey,
    check_key,
    encrypt,
    encrypt_with_mask,
    make_hs,
    make_key,
    prove_hs,
    verify_hs,
)

PUBLIC, PRIVATE = paillier.generate_paillier_keypair(n_length=512)
N = int(PUBLIC.n)
NSQUARE = N * N
KEY = ShortExponentKey(N, make_hs(PRIVATE))
CONTEXT = b"campaign-7|trustee-2"
ALPHAS = st.integers(min_value=0, max_value=(1 << EXPONENT_BITS) - 1)
PLAINTEXTS = st.integers(min_value=0, max_value=N - 1)


@settings(max_examples=20)
@given(x=st.integers(min_value=1, max_value=N - 1))
def test_make_hs_is_the_papers_h_to_the_n(x: int) -> None:
    if gmpy2.gcd(x, N) != 1:
        return
    assert make_hs(PRIVATE, x) == pow((-x * x) % N, N, NSQUARE)


@settings(max_examples=30)
@given(m=PLAINTEXTS, alpha=ALPHAS)
def test_ciphertext_decrypts_with_plain_phe(m: int, alpha: int) -> None:
    c, used = encrypt(KEY, m, alpha)
    assert used == alpha
    assert PRIVATE.raw_decrypt(c) == m


@settings(max_examples=20)
@given(m=PLAINTEXTS, alpha=ALPHAS, x=st.integers(min_value=1, max_value=N - 1))
def test_ciphertext_is_phe_raw_encrypt_with_r_h_to_the_alpha(m: int, alpha: int, x: int) -> None:
    if gmpy2.gcd(x, N) != 1:
        return
    h = (-x * x) % N
    key = ShortExponentKey(N, make_hs(PRIVATE, x))
    c, _ = encrypt(key, m, alpha)
    assert c == pow(1 + N, m, NSQUARE) * pow(key.hs, alpha, NSQUARE) % NSQUARE
    assert c == PUBLIC.raw_encrypt(m, r_value=pow(h, alpha, N))


@settings(max_examples=20)
@given(m1=PLAINTEXTS, m2=PLAINTEXTS)
def test_product_of_ciphertexts_decrypts_to_the_sum(m1: int, m2: int) -> None:
    c1, _ = encrypt(KEY, m1)
    c2, _ = encrypt(KEY, m2)
    assert PRIVATE.raw_decrypt(c1 * c2 % NSQUARE) == (m1 + m2) % N


def test_fresh_alphas_differ_and_have_the_chosen_length() -> None:
    alphas = {encrypt(KEY, 1)[1] for _ in range(20)}
    assert len(alphas) == 20
    assert all(0 <= a < 1 << EXPONENT_BITS for a in alphas)
    assert max(a.bit_length() for a in alphas) > EXPONENT_BITS - 8


def test_encrypt_with_mask_matches_encrypt() -> None:
    c, alpha = encrypt(KEY, 99)
    assert encrypt_with_mask(KEY, 99, pow(KEY.hs, alpha, NSQUARE)) == c


@pytest.mark.parametrize("m", [-1, N])
def test_plaintext_out_of_range_is_refused(m: int) -> None:
    with pytest.raises(EncodingError, match="0 <= m < n"):
        encrypt(KEY, m)
    with pytest.raises(EncodingError, match="0 <= m < n"):
        encrypt_with_mask(KEY, m, 1)


@pytest.mark.parametrize("alpha", [-1, 1 << EXPONENT_BITS])
def test_alpha_out_of_range_is_refused(alpha: int) -> None:
    with pytest.raises(EncodingError, match="alpha"):
        encrypt(KEY, 1, alpha)


def test_key_bytes_round_trip() -> None:
    assert ShortExponentKey.from_bytes(KEY.to_bytes()) == KEY


@pytest.mark.parametrize(
    ("blob", "field"),
    [
        (b"", "prefix"),
        (b"other.kind" + KEY.to_bytes()[len(KEY_MAGIC) :], "prefix"),
        (KEY_MAGIC + b"\x00", "length of n"),
        (KEY.to_bytes()[:-1], "field hs"),
        (KEY.to_bytes() + b"\x00", "field hs"),
        (KEY_MAGIC + b"\x00\x00", "field n"),
        (KEY_MAGIC + b"\x00\x02\x00\x05" + b"\x00", "field n"),
        (KEY_MAGIC + b"\x00\x01\x04" + b"\x01", "field n"),
        (KEY_MAGIC + b"\x00\x01\x05" + (25).to_bytes(1, "big"), "field hs"),
    ],
)
def test_malformed_key_bytes_name_the_field(blob: bytes, field: str) -> None:
    with pytest.raises(KeyMaterialFormatError, match=field):
        ShortExponentKey.from_bytes(blob)


def test_honest_key_passes_check_key() -> None:
    check_key(KEY, prove_hs(PRIVATE, KEY, CONTEXT), CONTEXT, min_bits=512)


def test_hs_proof_bytes_round_trip_and_wrong_length_is_refused() -> None:
    proof = prove_hs(PRIVATE, KEY, CONTEXT)
    assert NthResidueProof.from_bytes(proof.to_bytes(N), N) == proof
    with pytest.raises(KeyMaterialFormatError, match="bytes, expected"):
        NthResidueProof.from_bytes(proof.to_bytes(N)[1:], N)


def test_hs_proof_is_bound_to_its_context() -> None:
    proof = prove_hs(PRIVATE, KEY, CONTEXT)
    assert not verify_hs(KEY, proof, b"campaign-8|trustee-2")


def test_hs_with_a_plaintext_component_cannot_be_proven() -> None:
    bad = ShortExponentKey(N, KEY.hs * (1 + N) % NSQUARE)
    with pytest.raises(EncodingError, match="not an n-th residue"):
        prove_hs(PRIVATE, bad, CONTEXT)


def test_hs_with_a_plaintext_component_fails_check_key_with_a_borrowed_proof() -> None:
    bad = ShortExponentKey(N, KEY.hs * (1 + N) % NSQUARE)
    proof = prove_hs(PRIVATE, KEY, CONTEXT)
    with pytest.raises(KeyMaterialFormatError, match="n-th residue does not verify"):
        check_key(bad, proof, CONTEXT, min_bits=512)


def test_hs_with_a_plaintext_component_would_corrupt_decryption() -> None:
    bad = ShortExponentKey(N, KEY.hs * (1 + N) % NSQUARE)
    c, _ = encrypt(bad, 5, 3)
    assert PRIVATE.raw_decrypt(c) == 5 + 3


def _square_root_of_one() -> int:
    """1 mod p^2 and -1 mod q^2 (CRT): an order-2 element other than -1."""
    p2, q2 = int(PRIVATE.p) ** 2, int(PRIVATE.q) ** 2
    return (1 + p2 * ((-2) * pow(p2, -1, q2) % q2)) % NSQUARE


@pytest.mark.parametrize("hs", [1, NSQUARE - 1, _square_root_of_one()])
def test_low_order_hs_is_refused_even_with_a_valid_proof(hs: int) -> None:
    key = ShortExponentKey(N, hs)
    proof = prove_hs(PRIVATE, key, CONTEXT)  # 1 and -1 are n-th residues (n is odd)
    assert verify_hs(key, proof, CONTEXT)
    with pytest.raises(KeyMaterialFormatError, match="small order"):
        check_key(key, proof, CONTEXT, min_bits=512)


def test_non_unit_hs_is_refused() -> None:
    key = ShortExponentKey(N, int(PRIVATE.p))
    proof = NthResidueProof(a=1, v=1)
    with pytest.raises(KeyMaterialFormatError, match="not a unit"):
        check_key(key, proof, CONTEXT, min_bits=512)


def test_short_modulus_is_refused_by_default() -> None:
    with pytest.raises(KeyMaterialFormatError, match="512 bits, at least 2048"):
        check_key(KEY, prove_hs(PRIVATE, KEY, CONTEXT), CONTEXT)


def test_hs_proof_with_out_of_range_values_is_refused() -> None:
    for proof in (NthResidueProof(a=0, v=1), NthResidueProof(a=1, v=N), NthResidueProof(a=1, v=0)):
        assert not verify_hs(KEY, proof, CONTEXT)


def test_prove_hs_refuses_a_foreign_private_key() -> None:
    _, other = paillier.generate_paillier_keypair(n_length=512)
    with pytest.raises(EncodingError, match="does not belong"):
        prove_hs(other, KEY, CONTEXT)


def test_make_key_gives_a_key_that_passes_check_key() -> None:
    key, proof = make_key(PRIVATE, CONTEXT)
    assert key.n == N
    check_key(key, proof, CONTEXT, min_bits=512)
    assert make_key(PRIVATE, CONTEXT)[0].hs != key.hs
