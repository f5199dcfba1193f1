"""Openings (m, r): the key owner's decryption that anyone can check, cross-checked with phe."""

import secrets

from hypothesis import given, settings
from hypothesis import strategies as st
from phe import paillier

from fedcarbon.crypto.opening import Opening, open_ciphertext, verify_opening
from fedcarbon.crypto.vector import add_vectors

PUBLIC, PRIVATE = paillier.generate_paillier_keypair(n_length=512)
N = PUBLIC.n


@settings(max_examples=30, deadline=None)
@given(m=st.integers(0, N - 1))
def test_an_opening_recovers_the_plaintext_and_the_very_randomness(m: int) -> None:
    r = secrets.randbelow(N - 2) + 1
    c = int(PUBLIC.raw_encrypt(m, r_value=r))
    opening = open_ciphertext(PRIVATE, c)
    assert opening == Opening(m, r) and opening.plaintext == PRIVATE.raw_decrypt(c)
    assert verify_opening(N, c, opening)


@settings(max_examples=20, deadline=None)
@given(values=st.lists(st.integers(0, 2**64), min_size=2, max_size=6))
def test_the_opening_of_an_aggregate_is_the_sum_and_the_product_of_randomness(
    values: list[int],
) -> None:
    randomness = [secrets.randbelow(N - 2) + 1 for _ in values]
    cts = [int(PUBLIC.raw_encrypt(v, r_value=r)) for v, r in zip(values, randomness, strict=True)]
    (total,) = add_vectors([[c] for c in cts], [N])
    product = 1
    for r in randomness:
        product = product * r % N
    assert open_ciphertext(PRIVATE, total) == Opening(sum(values) % N, product)


def test_a_lie_about_the_plaintext_is_caught() -> None:
    c = int(PUBLIC.raw_encrypt(7))
    honest = open_ciphertext(PRIVATE, c)
    assert not verify_opening(N, c, Opening(8, honest.randomness))
    assert not verify_opening(N, c, Opening(7, honest.randomness + 1))


def test_malformed_openings_are_refused_without_raising() -> None:
    c = int(PUBLIC.raw_encrypt(7))
    assert not verify_opening(N, c, Opening(N, 1))
    assert not verify_opening(N, c, Opening(1, 0))
    assert not verify_opening(N, c, Opening(1, N))


def test_an_opening_round_trips_through_bytes_at_a_fixed_width() -> None:
    opening = open_ciphertext(PRIVATE, int(PUBLIC.raw_encrypt(5)))
    blob = opening.to_bytes(N)
    assert len(blob) == 2 * ((N.bit_length() + 7) // 8)
    assert Opening.from_bytes(blob, N) == opening
