"""Proofs of plaintext knowledge for short-exponent ciphertexts (fedcarbon.crypto.shortproof)."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phe import paillier

from fedcarbon.crypto.errors import EncodingError, ProofFormatError
from fedcarbon.crypto.knowledge import slot_context
from fedcarbon.crypto.randomness import RandomnessPool
from fedcarbon.crypto.shortexp import EXPONENT_BITS, ShortExponentKey, encrypt, make_hs
from fedcarbon.crypto.shortproof import (
    COMMIT_BITS,
    RESPONSE_BITS,
    RESPONSE_BYTES,
    ProofItem,
    ShortExponentProof,
    _challenge,
    batch_verify,
    batch_verify_groups,
    encrypt_and_prove,
    proofs_from_bytes,
    prove,
    vector_items,
    verify,
)

PUBLIC, PRIVATE = paillier.generate_paillier_keypair(n_length=512)
N = int(PUBLIC.n)
NSQUARE = N * N
KEY = ShortExponentKey(N, make_hs(PRIVATE))
CONTEXT = b"campaign-7|agent-victim"


def _item(m: int, context: bytes = CONTEXT) -> ProofItem:
    c, alpha = encrypt(KEY, m)
    return ProofItem(c=c, proof=prove(KEY, c, m, alpha, context), context=context)


@settings(max_examples=25)
@given(m=st.integers(min_value=0, max_value=N - 1), context=st.binary(max_size=64))
def test_honest_proof_verifies(m: int, context: bytes) -> None:
    item = _item(m, context)
    assert verify(KEY, item.c, item.proof, context)


@settings(max_examples=15)
@given(m=st.integers(min_value=0, max_value=N - 1))
def test_proof_satisfies_the_papers_equation(m: int) -> None:
    item = _item(m)
    p = item.proof
    e = _challenge(KEY, item.c, p.a, CONTEXT)
    left = pow(1 + N, p.z, NSQUARE) * pow(KEY.hs, p.w, NSQUARE) % NSQUARE
    assert left == p.a * pow(item.c, e, NSQUARE) % NSQUARE
    assert 0 <= p.w < 1 << RESPONSE_BITS


def test_proof_for_another_context_fails() -> None:
    item = _item(5)
    assert not verify(KEY, item.c, item.proof, b"campaign-7|agent-attacker")


def test_proof_with_a_wrong_plaintext_fails() -> None:
    c, alpha = encrypt(KEY, 5)
    assert not verify(KEY, c, prove(KEY, c, 6, alpha, CONTEXT), CONTEXT)


def test_proof_does_not_transfer_to_a_derived_ciphertext() -> None:
    item = _item(5)
    assert not verify(KEY, item.c * item.c % NSQUARE, item.proof, CONTEXT)


@pytest.mark.parametrize("field", ["a", "z", "w"])
def test_tampered_proof_fails(field: str) -> None:
    item = _item(5)
    tampered = dataclasses.replace(item.proof, **{field: getattr(item.proof, field) + 1})
    assert not verify(KEY, item.c, tampered, CONTEXT)


@pytest.mark.parametrize(
    "change",
    [
        {"a": 0},
        {"a": NSQUARE},
        {"z": N},
        {"z": -1},
        {"w": 1 << RESPONSE_BITS},
        {"w": -1},
    ],
)
def test_out_of_range_proof_fails_without_raising(change: dict[str, int]) -> None:
    item = _item(5)
    assert not verify(KEY, item.c, dataclasses.replace(item.proof, **change), CONTEXT)


@pytest.mark.parametrize("c", [0, NSQUARE])
def test_out_of_range_ciphertext_fails(c: int) -> None:
    item = _item(5)
    assert not verify(KEY, c, item.proof, CONTEXT)


def test_non_unit_ciphertext_cannot_be_proven() -> None:
    c = int(PRIVATE.p) * 7
    proof = prove(KEY, c, 5, 1, CONTEXT)
    assert not verify(KEY, c, proof, CONTEXT)


def test_simulated_style_forgery_with_unknown_plaintext_fails() -> None:
    # A relay knows a victim's c but not (m, alpha); it answers with a random (z, w).
    victim = _item(123456)
    forged = ShortExponentProof(a=victim.proof.a, z=7, w=11)
    assert not verify(KEY, victim.c, forged, b"campaign-7|agent-attacker")


def test_proof_bytes_round_trip() -> None:
    item = _item(5)
    blob = item.proof.to_bytes(KEY)
    assert len(blob) == (NSQUARE.bit_length() + 7) // 8 + (N.bit_length() + 7) // 8 + RESPONSE_BYTES
    assert ShortExponentProof.from_bytes(blob, KEY) == item.proof


def test_wrong_proof_length_is_refused() -> None:
    blob = _item(5).proof.to_bytes(KEY)
    with pytest.raises(ProofFormatError, match="bytes, expected"):
        ShortExponentProof.from_bytes(blob + b"\x00", KEY)


def test_oversized_component_cannot_be_serialised() -> None:
    with pytest.raises(ProofFormatError, match="does not fit"):
        ShortExponentProof(a=1, z=1, w=1 << (8 * RESPONSE_BYTES)).to_bytes(KEY)


@pytest.mark.parametrize(("m", "alpha"), [(-1, 0), (N, 0), (0, -1), (0, 1 << EXPONENT_BITS)])
def test_prove_refuses_out_of_range_witness(m: int, alpha: int) -> None:
    with pytest.raises(EncodingError):
        prove(KEY, 1, m, alpha, CONTEXT)


def test_prove_refuses_an_oversized_commitment() -> None:
    with pytest.raises(EncodingError, match="commitment"):
        prove(KEY, 1, 0, 0, CONTEXT, commitment=(1 << COMMIT_BITS, 1))


def test_batch_of_honest_proofs_passes() -> None:
    items = [_item(m) for m in range(12)]
    assert batch_verify(KEY, items) == []


def test_empty_and_single_batches() -> None:
    assert batch_verify(KEY, []) == []
    good = _item(1)
    assert batch_verify(KEY, [good]) == []
    assert batch_verify(KEY, [dataclasses.replace(good, context=b"x")]) == [0]


def test_batch_names_every_bad_proof() -> None:
    items = [_item(m) for m in range(10)]
    items[3] = dataclasses.replace(items[3], context=b"another")
    c, alpha = encrypt(KEY, 8)
    items[7] = ProofItem(c=c, proof=prove(KEY, c, 9, alpha, CONTEXT), context=CONTEXT)
    assert batch_verify(KEY, items) == [3, 7]


def test_batch_names_out_of_range_items_without_the_batch() -> None:
    items = [_item(m) for m in range(4)]
    items[2] = dataclasses.replace(items[2], proof=dataclasses.replace(items[2].proof, z=N))
    assert batch_verify(KEY, items) == [2]


def test_batch_catches_a_wrong_plaintext_every_time() -> None:
    # The plaintext relation is what the small-exponent test certifies (module docstring).
    c, alpha = encrypt(KEY, 8)
    wrong = ProofItem(c=c, proof=prove(KEY, c, 9, alpha, CONTEXT), context=CONTEXT)
    for _ in range(20):
        assert batch_verify(KEY, [_item(1), wrong, _item(2)]) == [1]


def test_sign_flipped_proof_is_refused_alone_and_never_hides_another_plaintext() -> None:
    # a' = -a makes the equation off by -1, an order-2 factor: refused alone; a batch may let
    # it pass (t even) but -1 is an n-th residue, so the proven plaintext is still the right one.
    c, alpha = encrypt(KEY, 8)
    beta = 12345
    x = 777
    a = (1 + x * N) * pow(KEY.hs, beta, NSQUARE) % NSQUARE
    a_neg = NSQUARE - a
    e = _challenge(KEY, c, a_neg, CONTEXT)
    forged = ShortExponentProof(a=a_neg, z=(x + e * 8) % N, w=beta + e * alpha)
    assert not verify(KEY, c, forged, CONTEXT)
    outcomes = {
        tuple(batch_verify(KEY, [_item(1), ProofItem(c, forged, CONTEXT)])) for _ in range(40)
    }
    assert outcomes <= {(), (1,)}
    assert (1,) in outcomes


def test_encrypt_and_prove_vector_verifies_and_decrypts() -> None:
    plaintexts = [0, 1, N - 1, 424242]
    ciphertexts, proofs = encrypt_and_prove(KEY, plaintexts, CONTEXT)
    assert [PRIVATE.raw_decrypt(c) for c in ciphertexts] == plaintexts
    assert batch_verify(KEY, vector_items(ciphertexts, proofs, CONTEXT)) == []
    assert verify(KEY, ciphertexts[2], proofs[2], slot_context(CONTEXT, 2))


def test_swapped_slots_are_named() -> None:
    ciphertexts, proofs = encrypt_and_prove(KEY, [10, 20, 30], CONTEXT)
    swapped = [ciphertexts[1], ciphertexts[0], ciphertexts[2]]
    items = vector_items(swapped, [proofs[1], proofs[0], proofs[2]], CONTEXT)
    assert batch_verify(KEY, items) == [0, 1]


def test_encrypt_and_prove_with_pools() -> None:
    with RandomnessPool(KEY) as masks, RandomnessPool(KEY, COMMIT_BITS) as commitments:
        masks.fill(3)
        commitments.fill(3)
        ciphertexts, proofs = encrypt_and_prove(
            KEY, [5, 6, 7, 8], CONTEXT, masks=masks, commitments=commitments
        )
    assert [PRIVATE.raw_decrypt(c) for c in ciphertexts] == [5, 6, 7, 8]
    assert batch_verify(KEY, vector_items(ciphertexts, proofs, CONTEXT)) == []


def test_encrypt_and_prove_refuses_a_pool_of_the_wrong_length() -> None:
    with RandomnessPool(KEY, COMMIT_BITS) as wrong, pytest.raises(EncodingError, match="masks"):
        encrypt_and_prove(KEY, [1], CONTEXT, masks=wrong)


def test_vector_items_refuses_a_count_mismatch() -> None:
    ciphertexts, proofs = encrypt_and_prove(KEY, [1, 2], CONTEXT)
    with pytest.raises(ProofFormatError, match="2 ciphertexts but 1"):
        vector_items(ciphertexts, proofs[:1], CONTEXT)


def test_encrypt_and_prove_refuses_out_of_range_plaintext() -> None:
    with pytest.raises(EncodingError, match="plaintext 1"):
        encrypt_and_prove(KEY, [1, N], CONTEXT)


def test_proofs_from_bytes_round_trip_and_name_the_bad_index() -> None:
    _, proofs = encrypt_and_prove(KEY, [1, 2], CONTEXT)
    blobs = [p.to_bytes(KEY) for p in proofs]
    assert proofs_from_bytes(blobs, KEY, expected=2) == proofs
    with pytest.raises(ProofFormatError, match="expected 3 plaintext-knowledge proofs, got 2"):
        proofs_from_bytes(blobs, KEY, expected=3)
    with pytest.raises(ProofFormatError, match="proof 1: short-exponent proof has"):
        proofs_from_bytes([blobs[0], blobs[1][:-1]], KEY, expected=2)


def test_batch_verify_groups_names_the_bad_submission() -> None:
    groups = []
    for agent in range(5):
        context = f"campaign-7|agent-{agent}".encode()
        ciphertexts, proofs = encrypt_and_prove(KEY, [agent, agent + 1], context)
        groups.append(vector_items(ciphertexts, proofs, context))
    assert batch_verify_groups(KEY, groups) == []
    groups[3] = [groups[3][0], dataclasses.replace(groups[3][1], context=b"replayed")]
    assert batch_verify_groups(KEY, groups) == [3]
    assert batch_verify_groups(KEY, []) == []


@settings(max_examples=60)
@given(
    c=st.integers(min_value=-NSQUARE, max_value=2 * NSQUARE),
    a=st.integers(min_value=-NSQUARE, max_value=2 * NSQUARE),
    z=st.integers(min_value=-N, max_value=2 * N),
    w=st.integers(min_value=-(1 << RESPONSE_BITS), max_value=1 << (RESPONSE_BITS + 8)),
    context=st.binary(max_size=32),
)
def test_hostile_values_are_refused_without_raising(
    c: int, a: int, z: int, w: int, context: bytes
) -> None:
    proof = ShortExponentProof(a=a, z=z, w=w)
    assert not verify(KEY, c, proof, context)
    assert batch_verify(KEY, [_item(3), ProofItem(c, proof, context)]) == [1]
