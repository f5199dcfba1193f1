"""Campaign terms: validation names the campaign and field, the digest covers every term."""

import json
from dataclasses import replace
from datetime import date
from typing import Any

import phe
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fedcarbon.campaign import (
    KEY_DOCUMENT_KIND,
    Campaign,
    CampaignKey,
    CampaignKind,
    CampaignState,
    KeyScheme,
    MetricSpec,
    key_from_document,
    key_to_document,
    new_campaign,
)
from fedcarbon.crypto.packing import PackingLayout
from fedcarbon.errors import CampaignError
from tests.unit.keys import threshold_campaign_key

N = phe.generate_paillier_keypair(n_length=512)[0].n
KEY = CampaignKey(KeyScheme.SINGLE_HOLDER, N, ("trustee-a",), 1)
THRESHOLD_KEY = threshold_campaign_key(("trustee-a", "trustee-b", "trustee-c"), 2)
SCOPE1 = MetricSpec("scope1_kgco2e", "kgCO2e", 3, 0, 10**12, "direct emissions")
HEADS = MetricSpec("participants", "1", 0, 0, 1)


def _terms(**changes: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "campaign_id": "steel-2024",
        "kind": CampaignKind.BENCHMARK,
        "title": "Steel benchmark 2024",
        "period_start": date(2024, 1, 1),
        "period_end": date(2024, 12, 31),
        "metrics": (SCOPE1, HEADS),
        "key": KEY,
    }
    terms.update(changes)
    return terms


BASE = new_campaign(**_terms())


def _error(**changes: Any) -> str:
    with pytest.raises(CampaignError) as caught:
        new_campaign(**_terms(**changes))
    return str(caught.value)


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["", "Upper", "-leading-dash", "has space", "x" * 64, "é"])
def test_a_malformed_id_is_refused_and_named(bad_id: str) -> None:
    message = _error(campaign_id=bad_id)
    assert f"campaign {bad_id!r}" in message and "id must be" in message


def test_a_period_ending_before_it_starts_is_refused() -> None:
    message = _error(period_start=date(2024, 6, 1), period_end=date(2024, 5, 31))
    assert "campaign 'steel-2024'" in message and "period_end 2024-05-31" in message


def test_a_one_day_period_is_accepted() -> None:
    one_day = new_campaign(**_terms(period_start=date(2024, 3, 1), period_end=date(2024, 3, 1)))
    assert one_day.period_start == one_day.period_end


@pytest.mark.parametrize("k", [1, 0, -3])
def test_k_below_two_is_refused(k: int) -> None:
    message = _error(min_contributors=k)
    assert (
        "campaign 'steel-2024'" in message
        and f"min_contributors must be at least 2, got {k}" in message
    )


def test_max_contributors_below_k_is_refused() -> None:
    assert "max_contributors 2 < min_contributors" in _error(min_contributors=3, max_contributors=2)


def test_an_empty_metric_schema_is_refused() -> None:
    assert "metric schema is empty" in _error(metrics=())


def test_a_duplicate_metric_is_refused_and_named() -> None:
    message = _error(metrics=(SCOPE1, HEADS, replace(SCOPE1, unit="tCO2e")))
    assert "campaign 'steel-2024'" in message and "metric names repeat" in message
    assert "scope1_kgco2e" in message


def test_a_supply_chain_campaign_without_a_buyer_is_refused() -> None:
    message = _error(kind=CampaignKind.SUPPLY_CHAIN)
    assert "campaign 'steel-2024'" in message and "needs a buyer" in message


def test_a_supply_chain_campaign_with_a_buyer_is_accepted() -> None:
    chain = new_campaign(**_terms(kind=CampaignKind.SUPPLY_CHAIN, buyer_id="buyer-1"))
    assert chain.buyer_id == "buyer-1"


@pytest.mark.parametrize("threshold", [0, 4, -1])
def test_a_threshold_outside_one_to_n_is_refused(threshold: int) -> None:
    message = _error(key=replace(THRESHOLD_KEY, threshold=threshold))
    assert "campaign 'steel-2024'" in message
    assert f"threshold {threshold} must be between 1 and 3" in message


def test_a_key_without_trustees_is_refused() -> None:
    assert "names no trustee" in _error(key=replace(KEY, trustee_ids=()))


@pytest.mark.parametrize(("epsilon", "delta"), [(-0.1, 0.0), (1.0, -1e-9), (1.0, 1.0)])
def test_negative_epsilon_or_delta_outside_zero_one_is_refused(
    epsilon: float, delta: float
) -> None:
    assert "epsilon must be >= 0" in _error(epsilon=epsilon, delta=delta)


def test_packing_is_derived_from_bounds_and_key() -> None:
    assert BASE.packing.ciphertexts >= 1
    assert BASE.packing.slot_bits > (10**12).bit_length()


# -- digest -------------------------------------------------------------------------------

_text = st.text(min_size=1, max_size=12)
_changes = st.one_of(
    st.tuples(st.just("campaign_id"), st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)),
    st.tuples(st.just("kind"), st.sampled_from(CampaignKind)),
    st.tuples(st.just("title"), _text),
    st.tuples(st.just("period_start"), st.dates()),
    st.tuples(st.just("period_end"), st.dates()),
    st.tuples(
        st.just("metrics"),
        st.builds(
            lambda name, unit, scale, low, span, description: (
                MetricSpec(name, unit, scale, low, low + span, description),
            ),
            _text,
            _text,
            st.integers(0, 6),
            st.integers(-(10**6), 10**6),
            st.integers(0, 10**9),
            st.text(max_size=8),
        ),
    ),
    st.tuples(
        st.just("key"),
        st.builds(
            CampaignKey,
            st.sampled_from(KeyScheme),
            st.integers(3, 2**520),
            st.lists(_text, min_size=1, max_size=3).map(tuple),
            st.integers(1, 3),
            st.binary(max_size=8),
        ),
    ),
    st.tuples(
        st.just("packing"),
        st.builds(PackingLayout, st.integers(1, 200), st.integers(1, 20), st.integers(1, 5)),
    ),
    st.tuples(st.just("min_contributors"), st.integers(2, 50)),
    st.tuples(st.just("max_contributors"), st.integers(2, 10**6)),
    st.tuples(st.just("epsilon"), st.floats(0, 100)),
    st.tuples(st.just("delta"), st.floats(0, 0.5)),
    st.tuples(st.just("buyer_id"), _text),
    st.tuples(st.just("invited"), st.lists(_text, min_size=1, max_size=3).map(tuple)),
    st.tuples(st.just("cohort"), _text),
    st.tuples(st.just("created_unix_ms"), st.integers(1, 2**62)),
)


@settings(max_examples=200, deadline=None)
@given(change=_changes)
def test_the_digest_changes_when_any_term_changes(change: tuple[str, Any]) -> None:
    name, value = change
    assume(value != getattr(BASE, name))
    assert replace(BASE, **{name: value}).digest != BASE.digest


@pytest.mark.parametrize("state", list(CampaignState))
def test_the_digest_does_not_change_with_the_state(state: CampaignState) -> None:
    assert BASE.with_state(state).digest == BASE.digest


def test_the_digest_is_stable_across_equal_campaigns() -> None:
    assert new_campaign(**_terms()).digest == BASE.digest


def test_with_state_changes_only_the_state() -> None:
    released = BASE.with_state(CampaignState.RELEASED)
    assert released.state is CampaignState.RELEASED
    assert replace(released, state=BASE.state) == BASE


# -- invitations --------------------------------------------------------------------------


def test_an_open_campaign_accepts_anyone() -> None:
    assert BASE.accepts("anyone")


def test_an_invitation_list_accepts_only_the_invited() -> None:
    chain: Campaign = replace(BASE, invited=("supplier-1",))
    assert chain.accepts("supplier-1") and not chain.accepts("supplier-2")


# -- key documents ------------------------------------------------------------------------


@pytest.mark.parametrize("key", [KEY, THRESHOLD_KEY], ids=["single", "threshold"])
def test_a_key_document_round_trips_through_json(key: CampaignKey) -> None:
    document = json.loads(json.dumps(key_to_document(key)))
    assert key_from_document(document) == key


def test_a_key_document_states_kind_and_bits() -> None:
    document = key_to_document(KEY)
    assert document["kind"] == KEY_DOCUMENT_KIND and document["bits"] == N.bit_length()


@pytest.mark.parametrize("document", [None, [], "key", {"kind": "something.else"}, {}])
def test_a_document_of_another_kind_is_refused(document: object) -> None:
    with pytest.raises(CampaignError, match=r"alice\.json: not a fedcarbon campaign key"):
        key_from_document(document, source="alice.json")


@pytest.mark.parametrize(
    ("field", "value"),
    [("scheme", "triple_holder"), ("paillier_n", "not a number"), ("threshold", "two")],
)
def test_a_malformed_field_is_refused_naming_the_source(field: str, value: object) -> None:
    document = key_to_document(KEY) | {field: value}
    with pytest.raises(CampaignError, match=r"alice\.json: missing or malformed field"):
        key_from_document(document, source="alice.json")


@pytest.mark.parametrize("field", ["scheme", "paillier_n", "trustee_ids", "threshold"])
def test_a_missing_field_is_refused_and_named(field: str) -> None:
    document = key_to_document(KEY)
    del document[field]
    with pytest.raises(CampaignError, match=field):
        key_from_document(document, source="alice.json")


def test_a_negative_metric_scale_is_refused_and_named() -> None:
    assert "scope1_kgco2e" in _error(metrics=(replace(SCOPE1, scale=-1),))


def test_metric_bounds_beyond_the_wire_range_are_refused_and_named() -> None:
    assert "scope1_kgco2e" in _error(metrics=(replace(SCOPE1, max=2**63),))


def test_a_key_whose_n_differs_from_its_threshold_public_key_is_refused() -> None:
    """Review finding F3: agents encrypt to paillier_n but compare the threshold key's
    fingerprint, so an operator could show a genuine ceremony key and swap n."""
    swapped = replace(THRESHOLD_KEY, paillier_n=N)
    with pytest.raises(CampaignError, match="paillier_n differs"):
        new_campaign(**_terms(key=swapped))


def test_a_key_claiming_another_threshold_than_its_public_key_is_refused() -> None:
    with pytest.raises(CampaignError, match="threshold 3 differs"):
        new_campaign(**_terms(key=replace(THRESHOLD_KEY, threshold=3)))
