"""Tests for the non-interactive proof of plaintext knowledge (fedcarbon.crypto.knowledge)."""

import dataclasses

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phe import paillier

from fedcarbon.crypto.errors import EncodingError, ProofFormatError
from fedcarbon.crypto.knowledge import (
    PlaintextKnowledgeProof,
    encrypt_with_proofs,
    prove_plaintext_knowledge,
    slot_context,
    verify_plaintext_knowledge,
    verify_vector,
)

PUBLIC, PRIVATE = paillier.generate_paillier_keypair(n_length=512)
N = int(PUBLIC.n)
NSQUARE = N * N
VICTIM = b"campaign-7|agent-victim"
ATTACKER = b"campaign-7|agent-attacker"


def _one(m: int, context: bytes) -> tuple[int, PlaintextKnowledgeProof]:
    ciphertexts, proofs = encrypt_with_proofs([N] * 1, [m], context)
    return ciphertexts[0], proofs[0]


@settings(max_examples=25, deadline=None)
@given(m=st.integers(min_value=0, max_value=N - 1), context=st.binary(max_size=64))
def test_honest_proof_verifies(m: int, context: bytes) -> None:
    c, proof = _one(m, context)
    assert verify_plaintext_knowledge(N, c, proof, slot_context(context, 0))


@settings(max_examples=25, deadline=None)
@given(m=st.integers(min_value=0, max_value=N - 1))
def test_ciphertext_decrypts_to_plaintext(m: int) -> None:
    c, _ = _one(m, b"ctx")
    assert PRIVATE.raw_decrypt(c) == m


def test_direct_prove_with_own_randomness_verifies() -> None:
    r = 123456789
    c = int(PUBLIC.raw_encrypt(42, r_value=r))
    proof = prove_plaintext_knowledge(N, c, 42, r, b"ctx")
    assert verify_plaintext_knowledge(N, c, proof, b"ctx")


def test_proof_with_wrong_plaintext_fails() -> None:
    r = 987654321
    c = int(PUBLIC.raw_encrypt(42, r_value=r))
    proof = prove_plaintext_knowledge(N, c, 43, r, b"ctx")
    assert not verify_plaintext_knowledge(N, c, proof, b"ctx")


@pytest.mark.parametrize(
    "other",
    [b"campaign-7|agent-other", b"campaign-8|agent-victim", slot_context(VICTIM, 1), b""],
)
def test_proof_fails_under_other_context(other: bytes) -> None:
    c, proof = _one(5, VICTIM)
    assert not verify_plaintext_knowledge(N, c, proof, other)


def test_proof_fails_for_other_ciphertext() -> None:
    _, proof = _one(5, VICTIM)
    other, _ = _one(5, VICTIM)
    assert not verify_plaintext_knowledge(N, other, proof, slot_context(VICTIM, 0))


@pytest.mark.parametrize("field", ["a", "z", "v"])
def test_tampered_component_fails(field: str) -> None:
    c, proof = _one(5, VICTIM)
    tampered = dataclasses.replace(proof, **{field: getattr(proof, field) + 1})
    assert not verify_plaintext_knowledge(N, c, tampered, slot_context(VICTIM, 0))


def test_inverse_of_victim_with_own_proof_fails() -> None:
    victim_c, _ = _one(1000, VICTIM)
    _, own_proof = _one(0, ATTACKER)
    forged = int(gmpy2.invert(victim_c, NSQUARE))
    assert not verify_plaintext_knowledge(N, forged, own_proof, slot_context(ATTACKER, 0))


def test_own_ciphertext_times_inverse_of_victim_with_own_proof_fails() -> None:
    victim_c, _ = _one(1000, VICTIM)
    own_c, own_proof = _one(7, ATTACKER)
    forged = int(own_c * gmpy2.invert(victim_c, NSQUARE) % NSQUARE)
    assert not verify_plaintext_knowledge(N, forged, own_proof, slot_context(ATTACKER, 0))


def test_victim_shifted_by_power_of_two_with_victim_proof_fails() -> None:
    victim_c, victim_proof = _one(1000, VICTIM)
    shifted = int(gmpy2.powmod(victim_c, 2**64, NSQUARE))
    assert not verify_plaintext_knowledge(N, shifted, victim_proof, slot_context(ATTACKER, 0))


def test_copied_victim_ciphertext_and_proof_under_attacker_context_fails() -> None:
    victim_c, victim_proof = _one(1000, VICTIM)
    assert not verify_plaintext_knowledge(N, victim_c, victim_proof, slot_context(ATTACKER, 0))


def test_non_unit_ciphertext_is_rejected() -> None:
    _, proof = _one(1, VICTIM)
    assert not verify_plaintext_knowledge(N, N, proof, slot_context(VICTIM, 0))


def test_zero_v_is_rejected() -> None:
    c, proof = _one(1, VICTIM)
    assert not verify_plaintext_knowledge(
        N, c, dataclasses.replace(proof, v=0), slot_context(VICTIM, 0)
    )


def test_out_of_range_z_is_rejected() -> None:
    c, proof = _one(1, VICTIM)
    assert not verify_plaintext_knowledge(
        N, c, dataclasses.replace(proof, z=proof.z + N), slot_context(VICTIM, 0)
    )


def test_vector_all_valid_returns_no_failures() -> None:
    ciphertexts, proofs = encrypt_with_proofs([N] * 4, [1, 2, 3, 4], VICTIM)
    assert verify_vector([N] * len(ciphertexts), ciphertexts, proofs, VICTIM) == []


def test_vector_swapped_slots_fail_at_both_indices() -> None:
    ciphertexts, proofs = encrypt_with_proofs([N] * 4, [1, 2, 3, 4], VICTIM)
    ciphertexts[1], ciphertexts[2] = ciphertexts[2], ciphertexts[1]
    proofs[1], proofs[2] = proofs[2], proofs[1]
    assert verify_vector([N] * len(ciphertexts), ciphertexts, proofs, VICTIM) == [1, 2]


def test_vector_names_the_forged_index() -> None:
    ciphertexts, proofs = encrypt_with_proofs([N] * 3, [1, 2, 3], ATTACKER)
    victim_c, _ = _one(1000, VICTIM)
    ciphertexts[2] = int(gmpy2.invert(victim_c, NSQUARE))
    assert verify_vector([N] * len(ciphertexts), ciphertexts, proofs, ATTACKER) == [2]


def test_vector_count_mismatch_raises() -> None:
    ciphertexts, proofs = encrypt_with_proofs([N] * 2, [1, 2], VICTIM)
    with pytest.raises(ProofFormatError, match="2 ciphertexts, 1 plaintext-knowledge proofs"):
        verify_vector([N, N], ciphertexts, proofs[:1], VICTIM)


def test_out_of_range_plaintext_is_refused() -> None:
    with pytest.raises(EncodingError, match="plaintext 1"):
        encrypt_with_proofs([N] * 2, [0, N], VICTIM)


def test_bytes_round_trip() -> None:
    _, proof = _one(9, VICTIM)
    assert PlaintextKnowledgeProof.from_bytes(proof.to_bytes(N), N) == proof


def test_bytes_width_is_fixed() -> None:
    proof = PlaintextKnowledgeProof(a=1, z=0, v=1)
    n_len = (N.bit_length() + 7) // 8
    nsq_len = (NSQUARE.bit_length() + 7) // 8
    assert len(proof.to_bytes(N)) == nsq_len + 2 * n_len


@pytest.mark.parametrize("delta", [-1, 1])
def test_wrong_length_raises(delta: int) -> None:
    _, proof = _one(9, VICTIM)
    blob = proof.to_bytes(N)
    wrong = blob[:delta] if delta < 0 else blob + b"\x00"
    with pytest.raises(ProofFormatError, match="expected"):
        PlaintextKnowledgeProof.from_bytes(wrong, N)


def test_oversized_component_cannot_serialise() -> None:
    with pytest.raises(ProofFormatError):
        PlaintextKnowledgeProof(a=1, z=N * N, v=1).to_bytes(N)


def test_2048_bit_key_round_trip() -> None:
    public, private = paillier.generate_paillier_keypair(n_length=2048)
    n = int(public.n)
    ciphertexts, proofs = encrypt_with_proofs([n] * 3, [0, 2**100, n - 1], b"campaign|agent")
    assert verify_vector([n] * 3, ciphertexts, proofs, b"campaign|agent") == []
    assert [private.raw_decrypt(c) for c in ciphertexts] == [0, 2**100, n - 1]
