"""Fixed-base exponentiation from a precomputed table (fedcarbon.crypto.fixedbase)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phe import paillier

from fedcarbon.crypto import fixedbase
from fedcarbon.crypto.fixedbase import FixedBase
from fedcarbon.crypto.shortexp import (
    ShortExponentKey,
    encrypt,
    forget,
    hs_power,
    make_hs,
    precompute,
)

PUBLIC, PRIVATE = paillier.generate_paillier_keypair(n_length=256)
N = int(PUBLIC.n)
NSQUARE = N * N
HS = make_hs(PRIVATE)
TABLE = FixedBase(HS, NSQUARE, max_bits=120)


@settings(max_examples=60)
@given(exponent=st.integers(min_value=0, max_value=(1 << 200) - 1))
def test_table_power_equals_pow(exponent: int) -> None:
    assert TABLE.power(exponent) == pow(HS, exponent, NSQUARE)


@pytest.mark.parametrize("exponent", [0, 1, 255, 256, (1 << 120) - 1, 1 << 120, 1 << 300])
def test_edge_exponents(exponent: int) -> None:
    assert TABLE.power(exponent) == pow(HS, exponent, NSQUARE)


def test_negative_exponent_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        TABLE.power(-1)


def test_precompute_is_cached_and_used_by_short_exponent_operations() -> None:
    key = ShortExponentKey(N, HS)
    precompute(key)
    table = fixedbase.cached(HS, NSQUARE)
    assert table is not None
    precompute(key)
    assert fixedbase.cached(HS, NSQUARE) is table
    assert hs_power(key, 12345) == pow(HS, 12345, NSQUARE)
    c, alpha = encrypt(key, 77)
    assert c == pow(1 + N, 77, NSQUARE) * pow(HS, alpha, NSQUARE) % NSQUARE


def test_only_max_tables_are_kept() -> None:
    for base in range(2, 2 + fixedbase.MAX_TABLES + 2):
        fixedbase.precompute(base, 1009)
    assert fixedbase.cached(2, 1009) is None
    assert fixedbase.cached(1 + fixedbase.MAX_TABLES + 2, 1009) is not None


def test_power_without_a_table_falls_back_to_powmod() -> None:
    assert fixedbase.power(3, 1000, 10007) == pow(3, 1000, 10007)


def test_forget_drops_the_table() -> None:
    key = ShortExponentKey(N, HS)
    precompute(key)
    forget(key)
    assert fixedbase.cached(HS, NSQUARE) is None
    assert hs_power(key, 99) == pow(HS, 99, NSQUARE)
