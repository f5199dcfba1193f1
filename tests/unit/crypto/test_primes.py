"""Safe-prime generation: p and (p - 1) / 2 prime, exact length, progress reported."""

import random

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon.crypto.errors import KeyParameterError
from fedcarbon.crypto.primes import (
    MIN_SAFE_PRIME_BITS,
    expected_candidates,
    generate_safe_prime,
    is_safe_prime,
)


def _fermat_probable_prime(x: int) -> bool:
    """Independent of gmpy2: Python's pow with several bases."""
    return all(pow(a, x - 1, x) == 1 for a in (2, 3, 5, 7, 11, 13))


@settings(max_examples=25, deadline=None)
@given(bits=st.integers(min_value=MIN_SAFE_PRIME_BITS, max_value=160), seed=st.integers(0, 2**32))
def test_generated_prime_and_its_half_are_prime(bits: int, seed: int) -> None:
    p = generate_safe_prime(bits, random.Random(seed))
    assert gmpy2.is_prime(p, 50) and gmpy2.is_prime((p - 1) // 2, 50)


def test_generated_prime_passes_independent_fermat_checks() -> None:
    p = generate_safe_prime(256, random.Random(7))
    assert _fermat_probable_prime(p) and _fermat_probable_prime((p - 1) // 2)


@settings(max_examples=25, deadline=None)
@given(bits=st.integers(min_value=MIN_SAFE_PRIME_BITS, max_value=160), seed=st.integers(0, 2**32))
def test_generated_prime_has_exact_length_and_top_two_bits(bits: int, seed: int) -> None:
    p = generate_safe_prime(bits, random.Random(seed))
    assert p.bit_length() == bits and p >> (bits - 2) == 0b11


def test_product_of_two_safe_primes_has_twice_the_length() -> None:
    rng = random.Random(11)
    p, q = generate_safe_prime(128, rng), generate_safe_prime(128, rng)
    assert (p * q).bit_length() == 256


def test_default_randomness_gives_distinct_primes() -> None:
    assert generate_safe_prime(96) != generate_safe_prime(96)


def test_seeded_generation_is_reproducible() -> None:
    assert generate_safe_prime(128, random.Random(3)) == generate_safe_prime(128, random.Random(3))


def test_progress_reports_increasing_candidate_counts() -> None:
    seen: list[int] = []
    generate_safe_prime(256, random.Random(5), progress=seen.append)
    assert seen and seen == sorted(seen) and seen[0] > 0


def test_too_small_size_is_refused() -> None:
    with pytest.raises(KeyParameterError, match="16 bits"):
        generate_safe_prime(16)


@pytest.mark.parametrize("p", [7, 11, 23, 47, 59, 83, 107, 167, 179, 227, 263])
def test_known_safe_primes_are_recognised(p: int) -> None:
    assert is_safe_prime(p)


@pytest.mark.parametrize("p", [2, 3, 13, 17, 29, 31, 41, 2**127 - 1, 15, 1])
def test_primes_whose_half_is_composite_and_composites_are_rejected(p: int) -> None:
    assert not is_safe_prime(p)


def test_expected_candidates_grows_quadratically_with_length() -> None:
    ratio = expected_candidates(2048) / expected_candidates(1024)
    assert 3.9 < ratio < 4.1


@pytest.mark.slow
def test_1024_bit_safe_prime_for_a_2048_bit_modulus() -> None:
    p = generate_safe_prime(1024)
    assert p.bit_length() == 1024 and is_safe_prime(p)
