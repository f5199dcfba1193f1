"""Pippenger multi-exponentiation (fedcarbon.crypto.multiexp) against Python's pow."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon.crypto.multiexp import _window, multi_power

MODULUS = (2**127 - 1) * (2**89 - 1)


@settings(max_examples=80)
@given(
    pairs=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=MODULUS * 2),
            st.integers(min_value=0, max_value=(1 << 200) - 1),
        ),
        max_size=40,
    )
)
def test_equals_product_of_pows(pairs: list[tuple[int, int]]) -> None:
    expected = 1
    for base, exponent in pairs:
        expected = expected * pow(base, exponent, MODULUS) % MODULUS
    bases = [b for b, _ in pairs]
    exponents = [e for _, e in pairs]
    assert multi_power(bases, exponents, MODULUS) == expected


def test_mixed_exponent_lengths_and_repeated_bases() -> None:
    bases = [3, 3, 5, 7]
    exponents = [1, (1 << 192) - 1, 0, 2**64 + 1]
    expected = 1
    for b, e in zip(bases, exponents, strict=True):
        expected = expected * pow(b, e, MODULUS) % MODULUS
    assert multi_power(bases, exponents, MODULUS) == expected


def test_empty_product_is_one() -> None:
    assert multi_power([], [], MODULUS) == 1
    assert multi_power([5], [0], MODULUS) == 1


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="2 bases but 1 exponents"):
        multi_power([2, 3], [1], MODULUS)
    with pytest.raises(ValueError, match="exponent 1 is negative"):
        multi_power([2, 3], [1, -1], MODULUS)


def test_window_grows_with_the_number_of_bases() -> None:
    assert _window(2, 192) < _window(64, 192) <= _window(4096, 192)
