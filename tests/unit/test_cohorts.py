"""Cohort entries in the log and the differencing rule (fedcarbon/cohorts.py)."""

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon import serde
from fedcarbon.cohorts import (
    COHORT_ENTRY_PREFIX,
    Cohort,
    cohort_from_entry,
    cohort_to_entry,
    determined_members,
    differencing_conflicts,
    is_cohort_entry,
    logged_cohorts,
)
from fedcarbon.errors import WireError

PERIOD = "2024-01-01..2024-12-31"


def _cohort(
    campaign_id: str,
    members: str,
    metrics: tuple[str, ...] = ("scope1_kgco2e",),
    audience: str = "",
    epsilon: float = 0.0,
) -> Cohort:
    return Cohort(
        campaign_id, bytes(32), tuple(sorted(members)), metrics, PERIOD, audience, epsilon
    )


def test_a_cohort_entry_round_trips() -> None:
    cohort = _cohort("a", "xyz", ("scope1_kgco2e", "participants"), "buyer-1", 0.5)
    entry = cohort_to_entry(cohort)
    assert is_cohort_entry(entry) and cohort_from_entry(entry) == cohort


def test_a_cohort_entry_is_canonical_json_after_its_prefix() -> None:
    entry = cohort_to_entry(_cohort("a", "xyz"))
    text = entry[len(COHORT_ENTRY_PREFIX) :].decode()
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def test_a_cohort_entry_never_parses_as_a_submission() -> None:
    with pytest.raises(WireError):
        serde.signed_from_entry(cohort_to_entry(_cohort("a", "xyz")))


def test_logged_cohorts_skips_submission_entries() -> None:
    entries = [b"\x0a\x01x", cohort_to_entry(_cohort("a", "xyz")), b"\x0a\x01y"]
    assert [c.campaign_id for c in logged_cohorts(entries)] == ["a"]


def _entry_with(**changes: object) -> bytes:
    document = json.loads(cohort_to_entry(_cohort("a", "xyz"))[len(COHORT_ENTRY_PREFIX) :])
    document.update(changes)
    return COHORT_ENTRY_PREFIX + json.dumps(document).encode()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (b"not a cohort", "missing the fedcarbon.v1.cohort prefix"),
        (COHORT_ENTRY_PREFIX + b"{", "not JSON"),
        (COHORT_ENTRY_PREFIX + b"[]", "not a JSON object"),
        (COHORT_ENTRY_PREFIX + b"\xff", "not JSON"),
        (_entry_with(extra=1), "unknown fields \\['extra'\\]"),
        (_entry_with(format="fedcarbon.cohort.v9"), "format"),
        (_entry_with(contributors=["z", "a"]), "sorted and distinct"),
        (_entry_with(contributors=["a", "a"]), "sorted and distinct"),
        (_entry_with(contributors=["a", ""]), "contributors must be a list"),
        (_entry_with(metrics="scope1_kgco2e"), "metrics must be a list"),
        (_entry_with(epsilon=-1), "epsilon must be a number >= 0"),
        (_entry_with(epsilon=True), "epsilon must be a number >= 0"),
        (_entry_with(campaign_digest="zz"), "campaign_digest is not hex"),
        (_entry_with(period=3), "period must be a string"),
        (COHORT_ENTRY_PREFIX + b" " * (1 << 20), "larger than"),
    ],
)
def test_a_malformed_cohort_entry_is_refused_naming_the_field(entry: bytes, message: str) -> None:
    with pytest.raises(WireError, match=message):
        cohort_from_entry(entry)


def _missing_field() -> bytes:
    document = json.loads(cohort_to_entry(_cohort("a", "xyz"))[len(COHORT_ENTRY_PREFIX) :])
    del document["audience"]
    return COHORT_ENTRY_PREFIX + json.dumps(document).encode()


def test_a_cohort_entry_without_a_field_names_it() -> None:
    with pytest.raises(WireError, match="missing fields \\['audience'\\]"):
        cohort_from_entry(_missing_field())


def test_cohorts_that_differ_by_one_member_conflict() -> None:
    (reason,) = differencing_conflicts(_cohort("b", "wxyz"), [_cohort("a", "xyz")], k=3)
    assert "campaign 'a'" in reason and "by 1 member(s), fewer than k = 3" in reason


def test_cohorts_that_swap_one_member_for_another_conflict() -> None:
    assert differencing_conflicts(_cohort("b", "wyz"), [_cohort("a", "xyz")], k=3)


def test_the_same_cohort_again_isolates_nobody() -> None:
    assert differencing_conflicts(_cohort("b", "xyz"), [_cohort("a", "xyz")], k=3) == []


def test_cohorts_that_differ_by_k_members_pass() -> None:
    assert differencing_conflicts(_cohort("b", "uvwxyz"), [_cohort("a", "xyz")], k=3) == []


def test_a_noised_release_is_not_compared() -> None:
    noised = _cohort("b", "wxyz", epsilon=1.0)
    assert differencing_conflicts(noised, [_cohort("a", "xyz")], k=3) == []
    assert differencing_conflicts(_cohort("b", "wxyz"), [replace(noised, campaign_id="a")], 3) == []


def test_other_metrics_or_periods_are_other_quantities() -> None:
    other_metric = _cohort("a", "xyz", ("output_t",))
    assert differencing_conflicts(_cohort("b", "wxyz"), [other_metric], k=3) == []
    other_period = replace(_cohort("a", "xyz"), period="2023-01-01..2023-12-31")
    assert differencing_conflicts(_cohort("b", "wxyz"), [other_period], k=3) == []


def test_the_public_participants_count_alone_is_not_a_shared_quantity() -> None:
    earlier = _cohort("a", "xyz", ("participants", "output_t"))
    candidate = _cohort("b", "wxyz", ("participants", "scope1_kgco2e"))
    assert differencing_conflicts(candidate, [earlier], k=3) == []


def test_deliveries_to_two_buyers_are_two_quantities() -> None:
    metric = ("delivered_to_buyer_kgco2e",)
    earlier = _cohort("a", "xyz", metric, audience="buyer-1")
    assert differencing_conflicts(_cohort("b", "wxyz", metric, "buyer-2"), [earlier], 3) == []
    assert differencing_conflicts(_cohort("b", "wxyz", metric, "buyer-1"), [earlier], 3)


def test_scope1_for_two_buyers_is_one_quantity() -> None:
    earlier = _cohort("a", "xyz", audience="buyer-1")
    assert differencing_conflicts(_cohort("b", "wxyz", audience="buyer-2"), [earlier], 3)


def test_members_are_compared_as_legal_entities() -> None:
    # w and x are two participant ids of one legal entity: swapping them isolates nobody.
    entity = {"w": "E1", "x": "E1"}.get
    swapped = _cohort("b", "wyz")
    assert differencing_conflicts(swapped, [_cohort("a", "xyz")], 3)
    assert differencing_conflicts(swapped, [_cohort("a", "xyz")], 3, lambda p: entity(p, p)) == []


def test_every_conflicting_earlier_cohort_is_named() -> None:
    earlier = [_cohort("a", "xyz"), _cohort("a2", "xyz"), _cohort("c", "stuv")]
    reasons = differencing_conflicts(_cohort("b", "wxyz"), earlier, k=3)
    assert ["'a'" in reasons[0], "'a2'" in reasons[1], len(reasons)] == [True, True, 2]


def test_three_releases_that_isolate_a_member_are_refused() -> None:
    # {a,b,c,v} - {a,b,c,d,e,f} + {d,e,f} = v, though every pair differs by at least 3.
    earlier = [_cohort("s1", "abcv"), _cohort("s2", "abcdef")]
    (reason,) = differencing_conflicts(_cohort("s3", "def"), earlier, k=3)
    assert "combined with exact campaigns 's1', 's2'" in reason
    assert "reveal the figure of 1 member(s) on their own" in reason


def test_releases_that_determine_only_groups_pass() -> None:
    # EU, DE and non-DE: the difference is a group of three, never one member.
    earlier = [_cohort("eu", "abcdef"), _cohort("de", "abc")]
    assert differencing_conflicts(_cohort("rest", "def"), earlier, k=3) == []


@pytest.mark.parametrize(
    ("rows", "determined"),
    [
        (["ab", "a"], {"a", "b"}),
        (["abc", "ab"], {"c"}),
        (["abc", "abd", "cd"], {"c", "d"}),
        (["abc", "abd"], set()),
        (["abc", "abd", "acd", "bcd"], {"a", "b", "c", "d"}),
        (["ab", "bc", "ca"], {"a", "b", "c"}),
        (["ab", "cd"], set()),
    ],
)
def test_determined_members_solve_the_sums(rows: list[str], determined: set[str]) -> None:
    assert determined_members([frozenset(r) for r in rows]) == determined


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sets(st.sampled_from("abcdef"), min_size=1), max_size=6))
def test_determined_members_match_a_rank_test(rows: list[set[str]]) -> None:
    """e_v is in the row space iff appending it does not raise the rank."""
    members = sorted("abcdef")
    matrix = np.array([[m in row for m in members] for row in rows] or [[0] * 6], dtype=float)
    rank = np.linalg.matrix_rank(matrix)
    expected = {
        m
        for i, m in enumerate(members)
        if np.linalg.matrix_rank(np.vstack([matrix, np.eye(6)[i]])) == rank
    }
    assert determined_members([frozenset(r) for r in rows]) == expected
