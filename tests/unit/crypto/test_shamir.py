"""Shamir sharing: any t shares rebuild the secret, sums of shares are shares of the sum."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon.crypto import shamir
from fedcarbon.crypto.errors import CryptoError

PRIME = shamir.field_prime(2**61)


@st.composite
def setups(draw: st.DrawFn) -> tuple[int, int]:
    parties = draw(st.integers(1, 6))
    return draw(st.integers(1, parties)), parties


@settings(max_examples=60, deadline=None)
@given(setup=setups(), secret=st.integers(0, PRIME - 1))
def test_every_subset_of_t_shares_rebuilds_the_secret(setup: tuple[int, int], secret: int) -> None:
    threshold, parties = setup
    shares = shamir.split(secret, threshold, parties, PRIME)
    for subset in itertools.combinations(range(1, parties + 1), threshold):
        points = {x: shares[x - 1] for x in subset}
        assert shamir.reconstruct(points, threshold, PRIME) == secret


@settings(max_examples=40, deadline=None)
@given(
    setup=setups(),
    secrets=st.lists(st.integers(0, 2**40), min_size=1, max_size=20),
)
def test_the_sum_of_shares_is_a_share_of_the_sum(
    setup: tuple[int, int], secrets: list[int]
) -> None:
    """Linearity is what lets the coordinator add encrypted shares per trustee."""
    threshold, parties = setup
    split = [shamir.split(s, threshold, parties, PRIME) for s in secrets]
    summed = {x: sum(s[x - 1] for s in split) for x in range(1, parties + 1)}  # no reduction
    points = {x: v % PRIME for x, v in list(summed.items())[-threshold:]}
    assert shamir.reconstruct(points, threshold, PRIME) == sum(secrets) % PRIME


def test_fewer_than_t_shares_refuse_to_rebuild() -> None:
    shares = shamir.split(42, 3, 5, PRIME)
    with pytest.raises(CryptoError, match="2 share"):
        shamir.reconstruct({1: shares[0], 2: shares[1]}, 3, PRIME)


def test_t_minus_one_shares_are_uniform_whatever_the_secret() -> None:
    """Perfect secrecy on a tiny field: the single share of a 2-of-2 sharing is uniform."""
    prime = 7
    for secret in range(prime):
        counts = dict.fromkeys(range(prime), 0)
        for a in range(prime):  # every polynomial f(x) = secret + a x
            counts[shamir.evaluate([secret, a], 1, prime)] += 1
        assert set(counts.values()) == {1}


def test_an_extra_share_off_the_polynomial_is_detected() -> None:
    shares = shamir.split(1234, 2, 3, PRIME)
    points = {1: shares[0], 2: shares[1], 3: (shares[2] + 1) % PRIME}
    with pytest.raises(shamir.InconsistentSharesError, match="share 3"):
        shamir.reconstruct(points, 2, PRIME)


def test_lagrange_coefficients_match_the_textbook_formula() -> None:
    # x = 1, 2, 3 at 0: l_1 = 3, l_2 = -3, l_3 = 1 (mod P)
    assert shamir.lagrange_at([1, 2, 3], 0, PRIME) == [3, PRIME - 3, 1]


def test_the_field_is_the_next_prime_above_the_bound() -> None:
    assert shamir.field_prime(10) == 11 and shamir.field_prime(13) == 17


@pytest.mark.parametrize(("secret", "threshold", "parties"), [(-1, 1, 1), (PRIME, 1, 1), (1, 3, 2)])
def test_bad_sharing_parameters_are_refused(secret: int, threshold: int, parties: int) -> None:
    with pytest.raises(CryptoError):
        shamir.split(secret, threshold, parties, PRIME)
