"""A trustee that lies about its partial decryption is detected and named."""

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon.crypto.errors import InvalidPartialDecryptionError, NotEnoughSharesError
from fedcarbon.crypto.proofs import EqualLogProof, prove_equal_logs, verify_equal_logs
from fedcarbon.crypto.threshold import (
    PartialDecryption,
    combine,
    combine_vector,
    generate_threshold_key,
    partial_decrypt,
    partial_decrypt_vector,
    proof_context,
    share_exponent_bits,
    split_valid,
    verify_partial,
)

# Small key: unit tests check the arithmetic, not security (STYLE.md).
PUBLIC, SHARES = generate_threshold_key(512, 4, 2, rng=random.Random(4), allow_insecure_size=True)
CIPHERTEXT = PUBLIC.paillier.raw_encrypt(271828)
HONEST = [partial_decrypt(s, CIPHERTEXT) for s in SHARES]


def _with_value(partial: PartialDecryption, value: int) -> PartialDecryption:
    return dataclasses.replace(partial, value=value)


def _forged_with_wrong_share(index: int, offset: int) -> PartialDecryption:
    """A liar using s_i + offset, with a proof that is internally consistent for its lie."""
    n2 = PUBLIC.nsquare
    exponent = PUBLIC.delta * (SHARES[index - 1].s_i + offset)
    value = pow(CIPHERTEXT, 2 * exponent, n2)
    proof = prove_equal_logs(
        n2,
        pow(CIPHERTEXT, 4, n2),
        pow(value, 2, n2),
        PUBLIC.v,
        pow(PUBLIC.v, exponent, n2),
        exponent,
        secret_bits=share_exponent_bits(PUBLIC),
        context=proof_context(PUBLIC, index, CIPHERTEXT),
    )
    return PartialDecryption(index=index, value=value, proof=proof)


def test_honest_partials_verify() -> None:
    assert all(verify_partial(PUBLIC, CIPHERTEXT, p) for p in HONEST)


@settings(max_examples=15, deadline=None)
@given(liar=st.integers(1, 4), factor=st.integers(2, 2**64))
def test_tampered_share_value_is_named(liar: int, factor: int) -> None:
    partials = list(HONEST)
    partials[liar - 1] = _with_value(
        HONEST[liar - 1], HONEST[liar - 1].value * factor % PUBLIC.nsquare
    )
    with pytest.raises(InvalidPartialDecryptionError) as caught:
        combine(PUBLIC, CIPHERTEXT, partials)
    assert caught.value.trustee_indices == [liar]


@settings(max_examples=15, deadline=None)
@given(liar=st.integers(1, 4), delta=st.integers(1, 2**32))
def test_tampered_proof_response_is_named(liar: int, delta: int) -> None:
    partials = list(HONEST)
    bad_proof = EqualLogProof(e=HONEST[liar - 1].proof.e, z=HONEST[liar - 1].proof.z + delta)
    partials[liar - 1] = dataclasses.replace(HONEST[liar - 1], proof=bad_proof)
    with pytest.raises(InvalidPartialDecryptionError, match=f"trustee {liar}: proof"):
        combine(PUBLIC, CIPHERTEXT, partials)


def test_tampered_proof_challenge_is_rejected() -> None:
    proof = EqualLogProof(e=HONEST[0].proof.e ^ 1, z=HONEST[0].proof.z)
    assert not verify_partial(PUBLIC, CIPHERTEXT, dataclasses.replace(HONEST[0], proof=proof))


def test_liar_with_consistent_proof_for_wrong_share_is_named() -> None:
    forged = _forged_with_wrong_share(3, offset=1)
    with pytest.raises(InvalidPartialDecryptionError) as caught:
        combine(PUBLIC, CIPHERTEXT, [HONEST[0], forged])
    assert caught.value.trustee_indices == [3]


def test_two_liars_are_both_named() -> None:
    partials = [
        HONEST[0],
        _with_value(HONEST[1], 1),
        HONEST[2],
        _forged_with_wrong_share(4, offset=-5),
    ]
    with pytest.raises(InvalidPartialDecryptionError) as caught:
        combine(PUBLIC, CIPHERTEXT, partials)
    assert caught.value.trustee_indices == [2, 4]


def test_partial_for_another_ciphertext_is_rejected() -> None:
    other = PUBLIC.paillier.raw_encrypt(271828)
    assert not verify_partial(PUBLIC, other, HONEST[0])


def test_partial_relabelled_as_another_trustee_is_rejected() -> None:
    assert not verify_partial(PUBLIC, CIPHERTEXT, dataclasses.replace(HONEST[0], index=2))


def test_partial_with_index_outside_the_trustee_set_is_named() -> None:
    with pytest.raises(InvalidPartialDecryptionError, match=r"trustee 9: index 9 outside 1\.\.4"):
        combine(PUBLIC, CIPHERTEXT, [HONEST[0], HONEST[1], dataclasses.replace(HONEST[2], index=9)])


def test_share_value_that_is_not_a_unit_is_named() -> None:
    with pytest.raises(InvalidPartialDecryptionError, match="trustee 2: share value"):
        combine(PUBLIC, CIPHERTEXT, [HONEST[0], _with_value(HONEST[1], 0)])


def test_trustee_sending_two_partials_is_named() -> None:
    with pytest.raises(InvalidPartialDecryptionError, match="trustee 1: sent 2"):
        combine(PUBLIC, CIPHERTEXT, [HONEST[0], HONEST[0], HONEST[1]])


def test_split_valid_lets_honest_trustees_finish_without_the_liar() -> None:
    valid, rejected = split_valid(PUBLIC, CIPHERTEXT, [_with_value(HONEST[0], 5), *HONEST[1:]])
    assert set(rejected) == {1} and combine(PUBLIC, CIPHERTEXT, valid) == 271828


def test_rejecting_a_liar_can_leave_too_few_shares() -> None:
    valid, _ = split_valid(PUBLIC, CIPHERTEXT, [_with_value(HONEST[0], 5), HONEST[1]])
    with pytest.raises(NotEnoughSharesError):
        combine(PUBLIC, CIPHERTEXT, valid)


def test_vector_combine_names_the_trustee_and_position_of_a_bad_partial() -> None:
    cs = [PUBLIC.paillier.raw_encrypt(m) for m in (1, 2, 3)]
    good = partial_decrypt_vector(SHARES[0], cs)
    lying = partial_decrypt_vector(SHARES[1], cs)
    lying[2] = _with_value(lying[2], lying[2].value * 4 % PUBLIC.nsquare)
    with pytest.raises(InvalidPartialDecryptionError, match="trustee 2: ciphertext #2"):
        combine_vector(PUBLIC, cs, [good, lying])


def test_vector_combine_names_a_trustee_that_skipped_ciphertexts() -> None:
    cs = [PUBLIC.paillier.raw_encrypt(m) for m in (1, 2)]
    short = partial_decrypt_vector(SHARES[3], cs[:1])
    with pytest.raises(InvalidPartialDecryptionError, match="trustee 4: answered 1 of 2"):
        combine_vector(PUBLIC, cs, [partial_decrypt_vector(SHARES[0], cs), short])


def test_equal_log_proof_rejects_unequal_exponents() -> None:
    n2 = PUBLIC.nsquare
    g, big_g = pow(7, 2, n2), PUBLIC.v
    proof = prove_equal_logs(
        n2, g, pow(g, 11, n2), big_g, pow(big_g, 12, n2), 11, secret_bits=8, context=b"x"
    )
    assert not verify_equal_logs(
        n2, g, pow(g, 11, n2), big_g, pow(big_g, 12, n2), proof, secret_bits=8, context=b"x"
    )


def test_equal_log_proof_is_bound_to_its_context() -> None:
    n2 = PUBLIC.nsquare
    g, big_g = pow(7, 2, n2), PUBLIC.v
    args = (n2, g, pow(g, 11, n2), big_g, pow(big_g, 11, n2))
    proof = prove_equal_logs(*args, 11, secret_bits=8, context=b"campaign-a")
    assert not verify_equal_logs(*args, proof, secret_bits=8, context=b"campaign-b")


def test_equal_log_proof_with_oversized_response_is_rejected() -> None:
    n2 = PUBLIC.nsquare
    g, big_g = pow(7, 2, n2), PUBLIC.v
    args = (n2, g, pow(g, 11, n2), big_g, pow(big_g, 11, n2))
    proof = prove_equal_logs(*args, 11, secret_bits=8, context=b"c")
    assert not verify_equal_logs(
        *args, EqualLogProof(proof.e, proof.z + (1 << 2000)), secret_bits=8, context=b"c"
    )


def test_vector_combine_with_one_trustee_too_few_raises_not_enough_shares() -> None:
    cs = [PUBLIC.paillier.raw_encrypt(m) for m in (1, 2)]
    with pytest.raises(NotEnoughSharesError):
        combine_vector(PUBLIC, cs, [partial_decrypt_vector(SHARES[0], cs)])
