"""Ciphertexts checked once (fedcarbon.crypto.checked)."""

import pytest
from phe import paillier

from fedcarbon.crypto.checked import check_ciphertexts, check_values
from fedcarbon.crypto.errors import InvalidCiphertextError
from fedcarbon.crypto.vector import add_vectors, ciphertext_length, encrypt_vector, to_bytes

PUBLIC, PRIVATE = paillier.generate_paillier_keypair(n_length=512)
N = int(PUBLIC.n)
VALUES = encrypt_vector(PUBLIC, [1, 2, 3, 4])


def test_valid_vector_round_trips_and_aggregates() -> None:
    checked = check_ciphertexts(to_bytes(VALUES, [N] * len(VALUES)), N, expected=4)
    assert checked.values == tuple(VALUES)
    total = add_vectors([checked.values, checked.values], [N] * len(VALUES))
    assert [PRIVATE.raw_decrypt(c) for c in total] == [2, 4, 6, 8]


def test_count_mismatch_is_refused() -> None:
    with pytest.raises(InvalidCiphertextError, match="expected 5 ciphertexts, got 4"):
        check_ciphertexts(to_bytes(VALUES, [N] * len(VALUES)), N, expected=5)


def test_wrong_width_names_the_index() -> None:
    blobs = to_bytes(VALUES, [N] * len(VALUES))
    blobs[2] = blobs[2][1:]
    with pytest.raises(
        InvalidCiphertextError, match=f"ciphertext 2 has {ciphertext_length(N) - 1}"
    ):
        check_ciphertexts(blobs, N, expected=4)


@pytest.mark.parametrize("bad", [0, N * N, N * N + 5])
def test_out_of_range_names_the_index(bad: int) -> None:
    with pytest.raises(InvalidCiphertextError, match="noise 1 is out of range"):
        check_values([VALUES[0], bad], N, where="noise")


@pytest.mark.parametrize("position", [0, 3])
def test_non_unit_is_found_by_the_product_gcd_and_named(position: int) -> None:
    values = list(VALUES)
    values[position] = int(PRIVATE.q) * 12345
    with pytest.raises(InvalidCiphertextError, match=f"ciphertext {position} is not coprime"):
        check_values(values, N)


def test_hostile_all_ones_bytes_are_out_of_range() -> None:
    blobs = [b"\xff" * ciphertext_length(N)]
    with pytest.raises(InvalidCiphertextError, match="out of range"):
        check_ciphertexts(blobs, N, expected=1)
