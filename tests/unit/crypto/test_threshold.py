"""Threshold Paillier: the paper's identities, and agreement with plain phe encryption."""

import dataclasses
import math
import random
from fractions import Fraction
from itertools import combinations

import phe.util
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phe import paillier

from fedcarbon.crypto import threshold
from fedcarbon.crypto.errors import (
    InvalidCiphertextError,
    KeyParameterError,
    NotEnoughSharesError,
)
from fedcarbon.crypto.primes import generate_safe_prime, is_safe_prime
from fedcarbon.crypto.threshold import (
    KeyShare,
    ThresholdPublicKey,
    combine,
    combine_vector,
    generate_threshold_key,
    lagrange_coefficient,
    partial_decrypt,
    partial_decrypt_vector,
    share_matches_public_key,
    verification_keys_consistent,
)

# Small keys: unit tests check the arithmetic, not security (STYLE.md).
BITS = 512
SEED = 20010213  # replaying it re-derives the dealer's primes, to check the paper's equations
N_PARTIES, THRESHOLD = 5, 3

PUBLIC, SHARES = generate_threshold_key(
    BITS, N_PARTIES, THRESHOLD, rng=random.Random(SEED), allow_insecure_size=True
)


def _dealer_primes() -> tuple[int, int]:
    """p and q as the dealer drew them: the same seeded stream, consumed in the same order."""
    rng = random.Random(SEED)
    return generate_safe_prime(BITS // 2, rng), generate_safe_prime(BITS // 2, rng)


def _decrypt(public: ThresholdPublicKey, shares: list[KeyShare], ciphertext: int) -> int:
    return combine(public, ciphertext, [partial_decrypt(s, ciphertext) for s in shares])


def _paper_combine(public: ThresholdPublicKey, values: dict[int, int]) -> int:
    """Damgard-Jurik 2001 Sec. 4.1 combining, written out independently of the module."""
    n2 = public.n**2
    subset = sorted(values)
    product = 1
    for i in subset:
        mu = Fraction(public.delta)
        for j in subset:
            if j != i:
                mu *= Fraction(j, j - i)
        assert mu.denominator == 1
        product = product * pow(values[i], 2 * mu.numerator, n2) % n2
    return (product - 1) // public.n * pow(4 * public.delta**2, -1, public.n) % public.n


subsets = st.sets(st.integers(1, N_PARTIES), min_size=THRESHOLD, max_size=THRESHOLD)


def test_phe_really_uses_gmpy2() -> None:
    assert phe.util.HAVE_GMP and phe.util.powmod(3, 2**70, 2**89 + 1) == pow(3, 2**70, 2**89 + 1)


def test_modulus_is_product_of_the_dealers_safe_primes() -> None:
    p, q = _dealer_primes()
    assert PUBLIC.n == p * q and is_safe_prime(p) and is_safe_prime(q)


def test_modulus_has_the_requested_length() -> None:
    assert PUBLIC.n.bit_length() == BITS


def test_paper_d_is_zero_mod_m_and_one_mod_n() -> None:
    p, q = _dealer_primes()
    n, m = p * q, ((p - 1) // 2) * ((q - 1) // 2)
    d = m * pow(m, -1, n)
    assert (d % m, d % n) == (0, 1)


@pytest.mark.parametrize("subset", list(combinations(range(1, N_PARTIES + 1), THRESHOLD)))
def test_any_t_shares_interpolate_delta_times_d_mod_nm(subset: tuple[int, ...]) -> None:
    p, q = _dealer_primes()
    n, m = p * q, ((p - 1) // 2) * ((q - 1) // 2)
    d = m * pow(m, -1, n)
    total = sum(lagrange_coefficient(PUBLIC.delta, subset, i) * SHARES[i - 1].s_i for i in subset)
    assert total % (n * m) == PUBLIC.delta * d % (n * m)


def test_verification_keys_are_v_to_delta_s_i() -> None:
    n2 = PUBLIC.n**2
    assert all(
        PUBLIC.verification_key(s.index) == pow(PUBLIC.v, PUBLIC.delta * s.s_i, n2) for s in SHARES
    )


def test_verification_base_is_a_square_of_full_order() -> None:
    p, q = _dealer_primes()
    order = PUBLIC.n * ((p - 1) // 2) * ((q - 1) // 2)
    n2 = PUBLIC.n**2
    assert pow(PUBLIC.v, order, n2) == 1 and all(
        pow(PUBLIC.v, order // r, n2) != 1 for r in (p, q, (p - 1) // 2, (q - 1) // 2)
    )


def test_partial_decryption_is_c_to_two_delta_s_i() -> None:
    c = PUBLIC.paillier.raw_encrypt(42)
    partial = partial_decrypt(SHARES[1], c)
    assert partial.value == pow(c, 2 * PUBLIC.delta * SHARES[1].s_i, PUBLIC.n**2)


def test_lagrange_coefficients_match_known_answer_for_three_of_three() -> None:
    # crypto.stackexchange.com/questions/59636: l = 3, S = {1, 2, 3} gives 18, -18, 6.
    assert [lagrange_coefficient(6, (1, 2, 3), i) for i in (1, 2, 3)] == [18, -18, 6]


def test_paper_combining_written_out_agrees_with_module() -> None:
    c = PUBLIC.paillier.raw_encrypt(987654321)
    values = {s.index: partial_decrypt(s, c).value for s in SHARES[:THRESHOLD]}
    assert _paper_combine(PUBLIC, values) == 987654321


@settings(max_examples=40, deadline=None)
@given(plaintext=st.integers(0, 2**BITS), subset=subsets)
def test_any_t_trustees_decrypt_phe_raw_encryption(plaintext: int, subset: set[int]) -> None:
    m = plaintext % PUBLIC.n
    c = PUBLIC.paillier.raw_encrypt(m)
    assert _decrypt(PUBLIC, [SHARES[i - 1] for i in subset], c) == m


@settings(max_examples=20, deadline=None)
@given(plaintext=st.integers(0, 2**64))
def test_threshold_decryption_agrees_with_phe_private_key(plaintext: int) -> None:
    p, q = _dealer_primes()
    private = paillier.PaillierPrivateKey(PUBLIC.paillier, p, q)
    c = PUBLIC.paillier.raw_encrypt(plaintext)
    assert _decrypt(PUBLIC, SHARES[:THRESHOLD], c) == private.raw_decrypt(c)


def test_phe_encrypted_number_decrypts_via_its_raw_ciphertext() -> None:
    encrypted = PUBLIC.paillier.encrypt(31337)
    assert _decrypt(PUBLIC, SHARES[2:], encrypted.ciphertext(be_secure=True)) == 31337


@settings(max_examples=20, deadline=None)
@given(values=st.lists(st.integers(0, 2**48), min_size=1, max_size=12), subset=subsets)
def test_product_of_ciphertexts_decrypts_to_sum(values: list[int], subset: set[int]) -> None:
    n2 = PUBLIC.nsquare
    aggregate = math.prod(PUBLIC.paillier.raw_encrypt(v) for v in values) % n2
    assert _decrypt(PUBLIC, [SHARES[i - 1] for i in subset], aggregate) == sum(values)


def test_more_than_t_partials_also_decrypt() -> None:
    c = PUBLIC.paillier.raw_encrypt(5)
    assert _decrypt(PUBLIC, SHARES, c) == 5


@settings(max_examples=10, deadline=None)
@given(subset=st.sets(st.integers(1, N_PARTIES), min_size=1, max_size=THRESHOLD - 1))
def test_fewer_than_t_partials_raise_not_enough_shares(subset: set[int]) -> None:
    c = PUBLIC.paillier.raw_encrypt(77)
    with pytest.raises(NotEnoughSharesError, match=f"need partial decryptions from {THRESHOLD}"):
        _decrypt(PUBLIC, [SHARES[i - 1] for i in subset], c)


@settings(max_examples=10, deadline=None)
@given(
    plaintext=st.integers(0, 2**64),
    subset=st.sets(st.integers(1, N_PARTIES), min_size=THRESHOLD - 1, max_size=THRESHOLD - 1),
)
def test_t_minus_one_values_combined_as_if_enough_do_not_give_plaintext(
    plaintext: int, subset: set[int]
) -> None:
    c = PUBLIC.paillier.raw_encrypt(plaintext)
    values = {i: partial_decrypt(SHARES[i - 1], c).value for i in subset}
    assert _paper_combine(PUBLIC, values) != plaintext


def test_vector_of_ciphertexts_decrypts_in_order() -> None:
    plaintexts = [0, 1, 2**40, PUBLIC.n - 1]
    cs = [PUBLIC.paillier.raw_encrypt(m) for m in plaintexts]
    responses = [partial_decrypt_vector(s, cs) for s in (SHARES[4], SHARES[0], SHARES[2])]
    assert combine_vector(PUBLIC, cs, responses) == plaintexts


@pytest.mark.parametrize(("n_parties", "t"), [(1, 1), (2, 1), (3, 3), (7, 4)])
def test_other_t_of_l_configurations_decrypt(n_parties: int, t: int) -> None:
    public, shares = generate_threshold_key(256, n_parties, t, allow_insecure_size=True)
    c = public.paillier.raw_encrypt(123)
    assert _decrypt(public, shares[-t:], c) == 123


def test_public_key_reports_parties_threshold_and_delta() -> None:
    assert (PUBLIC.n_parties, PUBLIC.threshold, PUBLIC.delta) == (5, 3, 120)


def test_phe_view_has_generator_n_plus_one() -> None:
    assert PUBLIC.paillier.n == PUBLIC.n and PUBLIC.paillier.g == PUBLIC.n + 1


def test_shares_are_numbered_from_one() -> None:
    assert [s.index for s in SHARES] == [1, 2, 3, 4, 5]


def test_key_below_2048_bits_is_refused_by_default() -> None:
    with pytest.raises(KeyParameterError, match="below 2048"):
        generate_threshold_key(1024, 3, 2)


def test_threshold_above_party_count_is_refused() -> None:
    with pytest.raises(KeyParameterError, match="threshold=4"):
        generate_threshold_key(256, 3, 4, allow_insecure_size=True)


def test_more_than_max_parties_is_refused() -> None:
    with pytest.raises(KeyParameterError, match="n_parties=101"):
        generate_threshold_key(256, threshold.MAX_PARTIES + 1, 2, allow_insecure_size=True)


def test_zero_threshold_is_refused() -> None:
    with pytest.raises(KeyParameterError, match="threshold=0"):
        generate_threshold_key(256, 3, 0, allow_insecure_size=True)


def test_keygen_progress_counts_candidates_of_both_primes() -> None:
    seen: list[int] = []
    generate_threshold_key(256, 2, 2, progress=seen.append, allow_insecure_size=True)
    assert seen == sorted(seen) and len(seen) >= 2


@pytest.mark.parametrize("bad", [0, -1, PUBLIC.n**2, PUBLIC.n**2 + 5])
def test_out_of_range_ciphertext_is_refused(bad: int) -> None:
    with pytest.raises(InvalidCiphertextError):
        partial_decrypt(SHARES[0], bad)


def test_ciphertext_sharing_a_factor_with_n_is_refused() -> None:
    p, _ = _dealer_primes()
    with pytest.raises(InvalidCiphertextError, match="not a unit"):
        partial_decrypt(SHARES[0], p)


def test_key_share_repr_hides_the_secret() -> None:
    assert str(SHARES[0].s_i) not in repr(SHARES[0]) and format(SHARES[0].s_i, "x") not in repr(
        SHARES[0]
    )


def test_dealer_keeps_no_secret_on_the_public_key() -> None:
    names = {field.name for field in dataclasses.fields(ThresholdPublicKey)}
    assert names == {"n", "n_parties", "threshold", "v", "verification_keys"}


def test_gmpy2_results_are_converted_to_plain_ints() -> None:
    partial = partial_decrypt(SHARES[0], PUBLIC.paillier.raw_encrypt(1))
    assert {type(partial.value), type(partial.proof.e), type(partial.proof.z)} == {int}


@pytest.mark.slow
def test_2048_bit_key_decrypts_phe_ciphertext() -> None:
    public, shares = generate_threshold_key(2048, 3, 2)
    c = public.paillier.raw_encrypt(2**60 + 7)
    assert (
        public.n.bit_length() == 2048
        and threshold.combine(public, c, [partial_decrypt(s, c) for s in shares[1:]]) == 2**60 + 7
    )


def test_lagrange_at_a_point_interpolates_the_share_polynomial() -> None:
    # f(X) = 5 + 3X + 2X^2: f(1) = 10, f(2) = 19, f(3) = 32, f(4) = 49; Delta = 4! = 24.
    values = {1: 10, 2: 19, 3: 32}
    total = sum(lagrange_coefficient(24, (1, 2, 3), i, at=4) * v for i, v in values.items())
    assert total == 24 * 49


def test_every_dealt_share_matches_its_verification_key() -> None:
    assert all(share_matches_public_key(s) for s in SHARES)


def test_share_altered_by_one_does_not_match_its_verification_key() -> None:
    altered = KeyShare(index=2, s_i=SHARES[1].s_i + 1, public=PUBLIC)
    assert not share_matches_public_key(altered)


def test_dealt_verification_keys_lie_on_one_polynomial() -> None:
    assert verification_keys_consistent(PUBLIC)


@pytest.mark.parametrize("position", range(N_PARTIES))
def test_one_inconsistent_verification_key_is_detected(position: int) -> None:
    keys = list(PUBLIC.verification_keys)
    keys[position] = keys[position] * PUBLIC.v % PUBLIC.nsquare
    tampered = dataclasses.replace(PUBLIC, verification_keys=tuple(keys))
    assert not verification_keys_consistent(tampered)
