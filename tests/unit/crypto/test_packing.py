"""Packing and fixed-point encoding, cross-checked through real Paillier encryption with phe."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phe import paillier

from fedcarbon.crypto import encoding, packing, vector
from fedcarbon.crypto.errors import EncodingError, InvalidCiphertextError

# Small key: unit tests check arithmetic, not security (STYLE.md).
PUBLIC, PRIVATE = paillier.generate_paillier_keypair(n_length=512)


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[list[packing.MetricBounds], list[list[int]]]:
    metrics = draw(st.integers(min_value=1, max_value=9))
    bounds = []
    for index in range(metrics):
        low = draw(st.integers(min_value=-(10**9), max_value=10**9))
        high = draw(st.integers(min_value=low, max_value=low + 10**12))
        bounds.append(packing.MetricBounds(f"m{index}", low, high))
    size = draw(st.integers(min_value=1, max_value=8))
    rows = [
        [draw(st.integers(min_value=b.min, max_value=b.max)) for b in bounds] for _ in range(size)
    ]
    return bounds, rows


@settings(max_examples=40, deadline=None)
@given(cohorts())
def test_decrypted_packed_sum_equals_plain_sum(case: tuple) -> None:
    bounds, rows = case
    layout = packing.plan_packing(bounds, max_contributors=8, key_bits=PUBLIC.n.bit_length())
    encrypted = [vector.encrypt_vector(PUBLIC, packing.pack(row, bounds, layout)) for row in rows]
    total = vector.add_vectors(encrypted, [PUBLIC.n] * layout.ciphertexts)
    plaintexts = [PRIVATE.raw_decrypt(c) for c in total]
    assert packing.unpack(plaintexts, bounds, layout, len(rows)) == [
        sum(column) for column in zip(*rows, strict=True)
    ]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**60), min_size=1, max_size=6))
def test_homomorphic_sum_matches_phe_encrypted_number_addition(values: list[int]) -> None:
    ours = vector.add_vectors([[c] for c in vector.encrypt_vector(PUBLIC, values)], [PUBLIC.n])
    theirs = sum((PUBLIC.encrypt(v) for v in values[1:]), PUBLIC.encrypt(values[0]))
    assert PRIVATE.raw_decrypt(ours[0]) == PRIVATE.decrypt(theirs) == sum(values)


def test_slots_never_carry_into_neighbours_at_the_largest_cohort() -> None:
    bounds = [packing.MetricBounds("a", 0, 1000), packing.MetricBounds("b", 0, 1000)]
    layout = packing.plan_packing(bounds, max_contributors=50, key_bits=512, headroom_bits=0)
    plaintext = sum(packing.pack([1000, 1000], bounds, layout)[0] for _ in range(50))
    assert packing.unpack([plaintext], bounds, layout, 50) == [50_000, 50_000]


def test_value_outside_bounds_is_refused_with_metric_name() -> None:
    bounds = [packing.MetricBounds("scope1_g", 0, 10)]
    layout = packing.plan_packing(bounds, 3, 512)
    with pytest.raises(EncodingError, match="scope1_g"):
        packing.pack([11], bounds, layout)


def test_layout_spills_into_more_ciphertexts_when_slots_run_out() -> None:
    bounds = [packing.MetricBounds(f"m{i}", 0, 2**100) for i in range(10)]
    layout = packing.plan_packing(bounds, 1000, 512)
    assert layout.ciphertexts * layout.slots_per_ciphertext >= 10
    assert layout.slots_per_ciphertext * layout.slot_bits < 512


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=3),
    st.integers(min_value=3, max_value=6),
)
def test_fixed_point_round_trip_is_exact(value: Decimal, scale: int) -> None:
    assert encoding.from_fixed(encoding.to_fixed(value, scale), scale) == value


def test_fixed_point_uses_decimal_not_binary_float() -> None:
    assert encoding.to_fixed(0.1, 3) == 100
    assert encoding.to_fixed(2.675, 2) == 268  # binary float would give 267


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "twelve"])
def test_fixed_point_refuses_non_numbers(bad: object) -> None:
    with pytest.raises(EncodingError, match="scope2"):
        encoding.to_fixed(bad, 3, name="scope2")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "reason"),
    [(0, "out of range"), (-5, "out of range"), ("n2", "out of range"), ("n", "not coprime")],
)
def test_invalid_ciphertexts_are_refused(value: object, reason: str) -> None:
    n = PUBLIC.n
    c = {"n2": n * n, "n": n}.get(value, value) if isinstance(value, str) else value
    with pytest.raises(InvalidCiphertextError, match=reason):
        vector.check_ciphertext(int(c), n, index=0)  # type: ignore[call-overload]


def test_wire_round_trip_and_wrong_width_refused() -> None:
    cts = vector.encrypt_vector(PUBLIC, [1, 2, 3])
    blobs = vector.to_bytes(cts, [PUBLIC.n] * 3)
    assert vector.from_bytes(blobs, [PUBLIC.n] * 3) == cts
    with pytest.raises(InvalidCiphertextError, match="ciphertext 1 has"):
        vector.from_bytes([blobs[0], blobs[1][1:], blobs[2]], [PUBLIC.n] * 3)
    with pytest.raises(InvalidCiphertextError, match="expected 2 ciphertexts"):
        vector.from_bytes(blobs, [PUBLIC.n] * 2)


def test_gmpy2_really_accelerates_phe() -> None:
    from phe import util

    assert util.HAVE_GMP, "gmpy2 is not importable: phe falls back to ~8x slower pure Python"


@settings(max_examples=40, deadline=None)
@given(cohorts())
def test_honest_cohorts_are_never_out_of_range(case: tuple) -> None:
    bounds, rows = case
    layout = packing.plan_packing(bounds, max_contributors=8, key_bits=512)
    total = [sum(p) for p in zip(*(packing.pack(r, bounds, layout) for r in rows), strict=True)]
    assert packing.out_of_range(total, bounds, layout, len(rows)) == []


def test_a_value_above_its_bound_is_caught_after_summing() -> None:
    bounds = [packing.MetricBounds("a", 0, 100), packing.MetricBounds("b", 0, 100)]
    layout = packing.plan_packing(bounds, max_contributors=10, key_bits=512, headroom_bits=0)
    honest = packing.pack([100, 100], bounds, layout)[0]
    cheat = 500  # bypasses pack(): what a malicious agent could encrypt directly
    assert packing.out_of_range([honest + cheat], bounds, layout, 2) == ["a"]
    too_high = 1 << (2 * layout.slot_bits)
    assert packing.out_of_range([honest + too_high], bounds, layout, 2) == [
        "bits above the last slot of plaintext 0"
    ]
