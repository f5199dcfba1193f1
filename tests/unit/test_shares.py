"""Dealer-free release in process: shares under each trustee's key, any t open, sums exact."""

import itertools
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon import shares
from fedcarbon.campaign import Campaign, CampaignKind, MetricSpec, new_campaign
from fedcarbon.crypto import vector
from fedcarbon.crypto.errors import EncodingError
from fedcarbon.crypto.opening import Opening, open_ciphertext
from fedcarbon.crypto.shamir import InconsistentSharesError
from fedcarbon.decryption import (
    ShareError,
    combine_shares,
    indicator_problems,
    released_sums,
)
from tests.unit.keys import private_keys, shared_key

TRUSTEES = ("t1", "t2", "t3")
METRICS = (
    MetricSpec("scope1_kgco2e", "kg", 3, 0, 10**12),
    MetricSpec("delta_kgco2e", "kg", 0, -1000, 1000),
)


def _campaign(threshold: int = 2, campaign_id: str = "c1") -> Campaign:
    return new_campaign(
        campaign_id=campaign_id,
        kind=CampaignKind.BENCHMARK,
        title="t",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        metrics=METRICS,
        key=shared_key(TRUSTEES, threshold, campaign_id),
        max_contributors=50,
    )


def _aggregate(campaign: Campaign, rows: list[list[int]]) -> list[int]:
    vectors = []
    for fixed in rows:
        plaintexts = shares.share_vector(
            campaign, shares.offset_values(campaign, fixed), shares.indicators(fixed)
        )
        cts, _ = shares.encrypt(campaign, plaintexts, b"ctx")
        vectors.append(cts)
    return vector.add_vectors(vectors, campaign.moduli)


def _open(campaign: Campaign, total: list[int], trustee: str, part: str) -> list[bytes]:
    index = campaign.key.trustee_ids.index(trustee)
    private = private_keys(TRUSTEES, campaign.campaign_id)[trustee]
    n = campaign.key.moduli[index]
    return [
        open_ciphertext(private, total[p]).to_bytes(n) for p in campaign.block_range(index, part)
    ]


CAMPAIGN = _campaign()


@settings(max_examples=8, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 10**12), st.integers(-1000, 1000)).map(list),
        min_size=1,
        max_size=5,
    )
)
def test_any_t_trustees_rebuild_the_exact_sums_and_non_zero_counts(rows: list[list[int]]) -> None:
    total = _aggregate(CAMPAIGN, rows)
    for subset in itertools.combinations(TRUSTEES, 2):
        counts = combine_shares(
            CAMPAIGN,
            total,
            {t: _open(CAMPAIGN, total, t, "indicators") for t in subset},
            "indicators",
        )
        values = combine_shares(
            CAMPAIGN, total, {t: _open(CAMPAIGN, total, t, "values") for t in subset}, "values"
        )
        assert counts == [sum(1 for r in rows if r[i] != 0) for i in range(2)]
        assert released_sums(CAMPAIGN, len(rows), values or []) == [
            sum(r[i] for r in rows) for i in range(2)
        ]


def test_one_trustee_alone_holds_only_a_share() -> None:
    total = _aggregate(CAMPAIGN, [[5, 5]])
    assert (
        combine_shares(CAMPAIGN, total, {"t1": _open(CAMPAIGN, total, "t1", "values")}, "values")
        is None
    )


def test_a_trustee_whose_opening_lies_is_named() -> None:
    total = _aggregate(CAMPAIGN, [[5, 5], [7, 7]])
    honest = _open(CAMPAIGN, total, "t2", "values")
    n = CAMPAIGN.key.moduli[1]
    lie = Opening.from_bytes(honest[0], n)
    forged = [Opening(lie.plaintext + 1, lie.randomness).to_bytes(n), *honest[1:]]
    with pytest.raises(ShareError, match="t2"):
        combine_shares(
            CAMPAIGN, total, {"t1": _open(CAMPAIGN, total, "t1", "values"), "t2": forged}, "values"
        )


def test_inconsistent_shares_from_a_contributor_are_detected_with_t_plus_one_openings() -> None:
    honest = shares.share_vector(CAMPAIGN, [5, 1005], [1, 1])
    block = CAMPAIGN.block
    tampered = list(honest)
    tampered[2 * block] += 1  # trustee 3's first value plaintext: its share of slot 0 shifts
    cts, _ = shares.encrypt(CAMPAIGN, tampered, b"ctx")
    opened = {t: _open(CAMPAIGN, cts, t, "values") for t in TRUSTEES}
    with pytest.raises(InconsistentSharesError):
        combine_shares(CAMPAIGN, cts, opened, "values")


def test_k_zero_contributors_plus_one_victim_fail_the_non_zero_check() -> None:
    """The differencing variant: honest zeros must not make up k around one real figure."""
    campaign = _campaign()
    total = _aggregate(campaign, [[0, 0], [0, 0], [123_456, 0]])
    counts = combine_shares(
        campaign,
        total,
        {t: _open(campaign, total, t, "indicators") for t in ("t1", "t3")},
        "indicators",
    )
    problems = indicator_problems(campaign, 3, counts or [])
    assert "only 1 contributor(s) with a non-zero scope1_kgco2e; k = 3" in problems[0]


def test_an_out_of_range_contribution_fails_the_release() -> None:
    plaintexts = shares.share_vector(CAMPAIGN, [CAMPAIGN.prime - 1, 0], [1, 0])
    cts, _ = shares.encrypt(CAMPAIGN, plaintexts, b"ctx")
    values = combine_shares(
        CAMPAIGN, cts, {t: _open(CAMPAIGN, cts, t, "values") for t in ("t1", "t2")}, "values"
    )
    with pytest.raises(Exception, match="out of range"):
        released_sums(CAMPAIGN, 1, values or [])


def test_the_field_exceeds_every_honest_total() -> None:
    widest = max(m.max - m.min for m in METRICS)
    assert CAMPAIGN.prime > widest * CAMPAIGN.max_contributors


def test_every_proof_of_a_share_vector_verifies_and_a_moved_one_does_not() -> None:
    plaintexts = shares.share_vector(CAMPAIGN, [5, 1005], [1, 1])
    cts, proofs = shares.encrypt(CAMPAIGN, plaintexts, b"ctx")
    blobs = vector.to_bytes(cts, CAMPAIGN.moduli)
    assert shares.unproven(CAMPAIGN, [(blobs, proofs, b"ctx")]) == []
    assert shares.unproven(CAMPAIGN, [(blobs, proofs, b"other")]) == [0]
    swapped = [*proofs[CAMPAIGN.block :], *proofs[: CAMPAIGN.block]]
    crossed = [*blobs[CAMPAIGN.block :], *blobs[: CAMPAIGN.block]]
    assert shares.unproven(CAMPAIGN, [(blobs, proofs, b"ctx"), (crossed, swapped, b"ctx")]) == [1]


def test_short_exponent_share_ciphertexts_decrypt_with_plain_phe() -> None:
    plaintexts = shares.share_vector(CAMPAIGN, [5, 1005], [1, 1])
    cts, _ = shares.encrypt(CAMPAIGN, plaintexts, b"ctx")
    keys = private_keys(TRUSTEES, CAMPAIGN.campaign_id)
    for j, trustee in enumerate(TRUSTEES):
        for position in range(j * CAMPAIGN.block, (j + 1) * CAMPAIGN.block):
            assert keys[trustee].raw_decrypt(cts[position]) == plaintexts[position]


def test_pools_filled_ahead_give_the_same_valid_submission_and_are_used_up() -> None:
    """Masks and commitments computed in the background (issue 14) make ciphertexts that
    open to the same shares and proofs that verify; each pair is used once, none is left."""
    fixed = [123_456, -7]
    plaintexts = shares.share_vector(
        CAMPAIGN, shares.offset_values(CAMPAIGN, fixed), shares.indicators(fixed)
    )
    with shares.CampaignPools(CAMPAIGN) as pools:
        for masks, commitments in pools.pools:
            masks.fill()  # whatever the background threads have not done yet
            commitments.fill()
            assert len(masks) == len(commitments) == CAMPAIGN.block
        cts, proofs = shares.encrypt(CAMPAIGN, plaintexts, b"ctx", pools)
        assert all(len(m) == 0 and len(c) == 0 for m, c in pools.pools)
    encoded = vector.to_bytes(cts, CAMPAIGN.moduli)
    assert shares.unproven(CAMPAIGN, [(encoded, proofs, b"ctx")]) == []
    assert shares.unproven(CAMPAIGN, [(encoded, proofs, b"other context")]) == [0]
    for index, trustee in enumerate(TRUSTEES):
        private = private_keys(TRUSTEES, CAMPAIGN.campaign_id)[trustee]
        block = range(index * CAMPAIGN.block, (index + 1) * CAMPAIGN.block)
        assert [open_ciphertext(private, cts[p]).plaintext for p in block] == [
            plaintexts[p] for p in block
        ]


def test_pools_of_another_campaign_are_refused() -> None:
    with (
        shares.CampaignPools(_campaign(campaign_id="c2")) as pools,
        pytest.raises(EncodingError, match="another campaign"),
    ):
        shares.encrypt(CAMPAIGN, [0] * len(CAMPAIGN.moduli), b"ctx", pools)
