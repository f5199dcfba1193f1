"""Campaign terms: validation names the campaign and field, the digest covers every term."""

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fedcarbon.campaign import (
    Campaign,
    CampaignKind,
    CampaignState,
    MetricSpec,
    new_campaign,
)
from fedcarbon.crypto.packing import PackingLayout
from fedcarbon.errors import CampaignError
from fedcarbon.trustee_keys import sign_statement
from tests.unit.keys import shared_key, trustee_identity, trustee_keypair

KEY = shared_key(("trustee-a",), 1, "steel-2024")
THRESHOLD_KEY = shared_key(("trustee-a", "trustee-b", "trustee-c"), 2, "steel-2024")
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
    assert "names no trustee" in _error(key=replace(KEY, statements=()))


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
        st.sampled_from(
            [
                THRESHOLD_KEY,
                replace(THRESHOLD_KEY, threshold=3),
                replace(THRESHOLD_KEY, statements=THRESHOLD_KEY.statements[::-1]),
                shared_key(("trustee-b",), 1, "steel-2024"),
            ]
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


def test_a_negative_metric_scale_is_refused_and_named() -> None:
    assert "scope1_kgco2e" in _error(metrics=(replace(SCOPE1, scale=-1),))


def test_metric_bounds_beyond_the_wire_range_are_refused_and_named() -> None:
    assert "scope1_kgco2e" in _error(metrics=(replace(SCOPE1, max=2**63),))


def test_a_key_statement_made_for_another_campaign_is_refused() -> None:
    """A key serves one campaign: an old campaign's key re-presented in a rigged one fails."""
    with pytest.raises(CampaignError, match="was made for campaign 'other-2024'"):
        new_campaign(**_terms(key=shared_key(("trustee-a", "trustee-b"), 2, "other-2024")))


def test_a_key_statement_with_a_forged_signature_is_refused() -> None:
    statement = replace(
        THRESHOLD_KEY.statements[0], paillier_n=THRESHOLD_KEY.statements[1].paillier_n + 2
    )
    forged = replace(THRESHOLD_KEY, statements=(statement, *THRESHOLD_KEY.statements[1:]))
    with pytest.raises(CampaignError, match=r"key statement of 'trustee-a'.*does not verify"):
        new_campaign(**_terms(key=forged))


def test_one_trustee_cannot_count_twice_under_two_ids() -> None:
    """Same identity key and modulus behind two trustee ids would make '2 of 2' one party."""
    twin = sign_statement(
        trustee_identity("trustee-a"),
        "steel-2024",
        "trustee-z",
        trustee_keypair("trustee-a", "steel-2024")[1],
    )
    key = replace(THRESHOLD_KEY, statements=(THRESHOLD_KEY.statements[0], twin))
    message = _error(key=key)
    assert "identity key appears twice" in message and "modulus appears twice" in message
