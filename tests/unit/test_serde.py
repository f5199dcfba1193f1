"""Domain values survive the wire unchanged; malformed or inconsistent messages are refused."""

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon import serde
from fedcarbon.audit.receipts import Receipt
from fedcarbon.audit.treehead import TreeHead
from fedcarbon.campaign import (
    Campaign,
    CampaignKind,
    CampaignState,
    MetricSpec,
    new_campaign,
)
from fedcarbon.decryption import DecryptionShare, NoiseShare
from fedcarbon.errors import WireError
from fedcarbon.results import CampaignResult, MetricResult
from fedcarbon.submission import SignedSubmission, SubmissionBody
from fedcarbon.v1 import campaign_pb2, result_pb2
from tests.unit.keys import shared_key

_ids = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,30}", fullmatch=True)
_names = st.text(min_size=1, max_size=16)


@st.composite
def campaigns(draw: st.DrawFn) -> Campaign:
    names = draw(st.lists(_names, min_size=1, max_size=4, unique=True))
    metrics = []
    for name in names:
        low = draw(st.integers(-(10**9), 10**9))
        metrics.append(
            MetricSpec(
                name,
                draw(_names),
                draw(st.integers(0, 6)),
                low,
                low + draw(st.integers(0, 10**12)),
                draw(st.text(max_size=20)),
            )
        )
    trustees = tuple(draw(st.lists(_ids, min_size=1, max_size=4, unique=True)))
    kind = draw(st.sampled_from(CampaignKind))
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)))
    campaign_id = draw(_ids)
    campaign = new_campaign(
        campaign_id=campaign_id,
        kind=kind,
        title=draw(st.text(max_size=40)),
        period_start=start,
        period_end=draw(st.dates(min_value=start, max_value=date(2100, 1, 1))),
        metrics=tuple(metrics),
        key=shared_key(trustees, draw(st.integers(1, len(trustees))), campaign_id),
        min_contributors=draw(st.integers(2, 10)),
        epsilon=draw(st.sampled_from([0.0, 0.5, 1.0, 3.25])),
        buyer_id=draw(_ids) if kind is CampaignKind.SUPPLY_CHAIN else "",
        invited=tuple(draw(st.lists(_ids, max_size=3))),
        cohort=draw(st.text(max_size=10)),
        created_unix_ms=draw(st.integers(0, 2**62)),
    )
    return campaign.with_state(draw(st.sampled_from(CampaignState)))


def _wire(campaign: Campaign) -> campaign_pb2.Campaign:
    """Serialise and parse, as the bytes travel."""
    message = campaign_pb2.Campaign()
    message.ParseFromString(serde.campaign_to_proto(campaign).SerializeToString())
    return message


BASE = new_campaign(
    campaign_id="bench",
    kind=CampaignKind.BENCHMARK,
    title="Benchmark",
    period_start=date(2024, 1, 1),
    period_end=date(2024, 12, 31),
    metrics=(MetricSpec("scope1_kgco2e", "kgCO2e", 3, 0, 10**9),),
    key=shared_key(("trustee-a",), 1, "bench"),
)


# -- campaigns ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(campaign=campaigns())
def test_a_campaign_round_trips_through_protobuf(campaign: Campaign) -> None:
    assert serde.campaign_from_proto(_wire(campaign)) == campaign


@settings(max_examples=30, deadline=None)
@given(campaign=campaigns())
def test_the_digest_on_the_wire_is_the_campaigns_digest(campaign: Campaign) -> None:
    assert _wire(campaign).digest == campaign.digest


def test_a_campaign_whose_terms_were_changed_in_transit_is_refused() -> None:
    message = _wire(BASE)
    message.min_contributors = 2  # a smaller k under the old digest
    with pytest.raises(WireError, match="campaign 'bench': digest does not match"):
        serde.campaign_from_proto(message)


def test_a_campaign_with_a_forged_digest_is_refused() -> None:
    message = _wire(BASE)
    message.digest = bytes(32)
    with pytest.raises(WireError, match="digest does not match"):
        serde.campaign_from_proto(message)


def test_a_campaign_with_a_malformed_period_is_refused() -> None:
    message = _wire(BASE)
    message.period_start = "2024-13-01"
    with pytest.raises(WireError, match="campaign 'bench': malformed kind, key scheme or period"):
        serde.campaign_from_proto(message)


def test_a_campaign_with_an_unknown_kind_is_refused() -> None:
    message = _wire(BASE)
    message.kind = campaign_pb2.CAMPAIGN_KIND_UNSPECIFIED
    with pytest.raises(WireError, match="campaign 'bench'"):
        serde.campaign_from_proto(message)


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(WireError, match=r"campaign\.state: unknown value"):
        serde.state_from_proto(campaign_pb2.CAMPAIGN_STATE_UNSPECIFIED)


@pytest.mark.parametrize("state", list(CampaignState))
def test_every_state_round_trips(state: CampaignState) -> None:
    assert serde.state_from_proto(serde.state_to_proto(state)) is state


# -- results ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    state=st.sampled_from(CampaignState),
    contributors=st.integers(0, 10_000),
    sums=st.lists(st.integers(-(10**30), 10**30), max_size=4),
    reason=st.text(max_size=30),
    epsilon=st.floats(0, 100),
    delta=st.floats(0, 0.1),
    digest=st.binary(max_size=32),
    released=st.integers(0, 2**62),
)
def test_a_result_round_trips_through_protobuf(
    state: CampaignState,
    contributors: int,
    sums: list[int],
    reason: str,
    epsilon: float,
    delta: float,
    digest: bytes,
    released: int,
) -> None:
    result = CampaignResult(
        "bench",
        state,
        contributors,
        tuple(MetricResult(f"m{i}", "kgCO2e", i, total) for i, total in enumerate(sums)),
        released,
        reason,
        digest,
        epsilon,
        delta,
    )
    message = result_pb2.CampaignResult()
    message.ParseFromString(serde.result_to_proto(result).SerializeToString())
    assert serde.result_from_proto(message) == result


def test_a_result_sum_beyond_64_bits_is_exact_on_the_wire() -> None:
    total = 3 * 10**40 + 7
    result = CampaignResult(
        "bench", CampaignState.RELEASED, 3, (MetricResult("m", "kg", 3, total),)
    )
    assert serde.result_from_proto(serde.result_to_proto(result)).metrics[0].sum_fixed == total


def test_a_result_with_a_non_integer_sum_is_refused() -> None:
    message = result_pb2.CampaignResult(
        campaign_id="bench",
        state=campaign_pb2.CAMPAIGN_STATE_RELEASED,
        metrics=[result_pb2.MetricResult(name="m", sum_fixed="12.5")],
    )
    with pytest.raises(WireError, match="result 'bench': sum_fixed is not an integer"):
        serde.result_from_proto(message)


# -- submissions, shares, noise -----------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    campaign_id=st.text(max_size=20),
    participant_id=st.text(max_size=20),
    digest=st.binary(max_size=32),
    ciphertexts=st.lists(st.binary(max_size=64), max_size=4),
    nonce=st.binary(max_size=16),
    created=st.integers(-(2**63), 2**63 - 1),
)
def test_a_submission_body_round_trips(
    campaign_id: str,
    participant_id: str,
    digest: bytes,
    ciphertexts: list[bytes],
    nonce: bytes,
    created: int,
) -> None:
    body = SubmissionBody(campaign_id, participant_id, digest, tuple(ciphertexts), nonce, created)
    assert serde.body_from_bytes(serde.body_to_bytes(body)) == body


def test_a_body_serialises_deterministically() -> None:
    body = SubmissionBody("c", "p", b"d", (b"x", b"y"), b"n", 1)
    assert serde.body_to_bytes(body) == serde.body_to_bytes(
        SubmissionBody("c", "p", b"d", (b"x", b"y"), b"n", 1)
    )


@settings(max_examples=40, deadline=None)
@given(body=st.binary(max_size=200), signature=st.binary(max_size=64))
def test_a_signed_submission_round_trips_through_its_log_entry(
    body: bytes, signature: bytes
) -> None:
    signed = SignedSubmission(body, signature)
    assert serde.signed_from_entry(serde.signed_to_entry(signed)) == signed


@settings(max_examples=60, deadline=None)
@given(
    campaign_id=_names,
    trustee_id=_names,
    digest=st.binary(max_size=32),
    shares=st.lists(st.binary(max_size=64), max_size=4),
    refusal=st.text(max_size=40),
)
def test_a_decryption_share_round_trips(
    campaign_id: str, trustee_id: str, digest: bytes, shares: list[bytes], refusal: str
) -> None:
    share = DecryptionShare(campaign_id, trustee_id, digest, tuple(shares), refusal)
    assert serde.share_from_bytes(serde.share_to_bytes(share)) == share


@settings(max_examples=60, deadline=None)
@given(
    campaign_id=_names,
    trustee_id=_names,
    digest=st.binary(max_size=32),
    ciphertexts=st.lists(st.binary(max_size=64), max_size=4),
)
def test_a_noise_share_round_trips(
    campaign_id: str, trustee_id: str, digest: bytes, ciphertexts: list[bytes]
) -> None:
    share = NoiseShare(campaign_id, trustee_id, digest, tuple(ciphertexts))
    assert serde.noise_from_bytes(serde.noise_to_bytes(share)) == share


@pytest.mark.parametrize(
    ("parse", "missing"),
    [(serde.share_from_bytes, "decryption share"), (serde.noise_from_bytes, "noise share")],
)
def test_a_share_without_campaign_or_trustee_is_refused(
    parse: Callable[[bytes], object], missing: str
) -> None:
    with pytest.raises(WireError, match=f"{missing}: campaign_id and trustee_id are required"):
        parse(b"")


def test_a_share_naming_no_trustee_is_refused() -> None:
    raw = serde.share_to_bytes(DecryptionShare("bench", "", b"", ()))
    with pytest.raises(WireError, match="required"):
        serde.share_from_bytes(raw)


# -- receipts -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    entry=st.binary(max_size=100),
    leaf_index=st.integers(0, 2**64 - 1),
    tree_size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    timestamp=st.integers(0, 2**62),
    signature=st.binary(min_size=64, max_size=64),
    proof=st.lists(st.binary(min_size=32, max_size=32), max_size=8),
)
def test_a_receipt_round_trips_through_protobuf(
    entry: bytes,
    leaf_index: int,
    tree_size: int,
    root: bytes,
    timestamp: int,
    signature: bytes,
    proof: list[bytes],
) -> None:
    receipt = Receipt(
        entry, leaf_index, TreeHead("fedcarbon-log", tree_size, root, timestamp, signature), proof
    )
    assert serde.receipt_from_proto(serde.receipt_to_proto(receipt)) == receipt


def test_a_receipt_names_its_submission_by_the_entry_hash() -> None:
    receipt = Receipt(b"entry", 0, TreeHead("log", 1, bytes(32), 0, bytes(64)), [])
    assert serde.receipt_to_proto(receipt).submission_id == hashlib.sha256(b"entry").hexdigest()


# -- malformed bytes ----------------------------------------------------------------------

_GARBAGE = [b"\xff", b"\x08", b"\n\xff", b"\x0a\x05ab", b"not protobuf at all \xff\xff\xff"]


@pytest.mark.parametrize("raw", _GARBAGE)
@pytest.mark.parametrize(
    ("parse", "names"),
    [
        (serde.body_from_bytes, "submission.body"),
        (serde.share_from_bytes, "decryption share"),
        (serde.noise_from_bytes, "noise share"),
        (serde.signed_from_entry, "log entry"),
    ],
)
def test_malformed_bytes_raise_wire_error_naming_the_message(
    parse: Callable[[bytes], object], names: str, raw: bytes
) -> None:
    with pytest.raises(WireError, match=names):
        parse(raw)


def test_int_to_bytes_round_trips_zero_and_large_values() -> None:
    n = 2**511 + 187
    for value in (0, 1, 255, 256, n, n * n):
        assert int.from_bytes(serde.int_to_bytes(value), "big") == value


def test_a_packing_layout_that_does_not_follow_from_the_terms_is_refused() -> None:
    """Review finding F7: slots narrower than the terms need would carry into each other,
    even under a digest the operator recomputed to match."""
    narrow = replace(BASE, packing=replace(BASE.packing, slot_bits=8))
    with pytest.raises(WireError, match="packing layout does not follow"):
        serde.campaign_from_proto(serde.campaign_to_proto(narrow))
