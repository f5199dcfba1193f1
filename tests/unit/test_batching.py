"""Proof checks of concurrent submissions in time-window batches (coordinator/batching.py)."""

import threading
from datetime import date

import pytest

from coordinator.batching import ProofBatcher
from fedcarbon import shares
from fedcarbon.campaign import Campaign, CampaignKind, MetricSpec, new_campaign
from fedcarbon.crypto import vector
from fedcarbon.crypto.errors import CryptoError
from tests.unit.keys import shared_key

TRUSTEES = ("t1", "t2", "t3")


def _campaign() -> Campaign:
    return new_campaign(
        campaign_id="batch",
        kind=CampaignKind.BENCHMARK,
        title="t",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        metrics=(MetricSpec("scope1_kgco2e", "kg", 3, 0, 10**12),),
        key=shared_key(TRUSTEES, 2, "batch"),
        max_contributors=50,
    )


CAMPAIGN = _campaign()
DIGEST = CAMPAIGN.digest


def _vector(value: int, context: bytes) -> tuple[list[bytes], list[bytes]]:
    plaintexts = shares.share_vector(
        CAMPAIGN, shares.offset_values(CAMPAIGN, [value]), shares.indicators([value])
    )
    cts, proofs = shares.encrypt(CAMPAIGN, plaintexts, context)
    return vector.to_bytes(cts, CAMPAIGN.moduli), proofs


def test_concurrent_checks_share_batches_and_a_bad_one_is_named_alone() -> None:
    """Eight submissions at once: a few batches, not eight; the one whose proofs are bound to
    another participant fails, and only it."""
    vectors = [_vector(1000 + i, b"ctx-%d" % i) for i in range(8)]
    contexts = [b"ctx-%d" % i for i in range(8)]
    contexts[5] = b"someone else"  # proofs made for ctx-5, checked as another's: must fail
    batcher = ProofBatcher(window=0.2, max_batch=64)
    verdicts: dict[int, bool] = {}
    start = threading.Barrier(8)

    def submit(i: int) -> None:
        start.wait()
        verdicts[i] = batcher.proven(CAMPAIGN, DIGEST, *vectors[i], contexts[i])

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert verdicts == {i: i != 5 for i in range(8)}
    assert batcher.checked == 8
    assert batcher.batches < 8


def test_a_full_batch_runs_without_waiting_for_the_window() -> None:
    batcher = ProofBatcher(window=3600.0, max_batch=1)
    assert batcher.proven(CAMPAIGN, DIGEST, *_vector(7, b"c"), b"c")
    assert batcher.batches == 1


def test_malformed_vector_is_refused_not_raised() -> None:
    batcher = ProofBatcher(window=0.0)
    cts, proofs = _vector(7, b"c")
    assert not batcher.proven(CAMPAIGN, DIGEST, cts[:-1], proofs, b"c")
    assert not batcher.proven(CAMPAIGN, DIGEST, cts, [b"\x00" * 3] * len(proofs), b"c")


def test_an_error_in_the_batch_reaches_every_waiting_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object) -> list[int]:
        raise CryptoError("boom")

    monkeypatch.setattr(shares, "unproven", broken)
    batcher = ProofBatcher(window=0.0)
    with pytest.raises(CryptoError, match="boom"):
        batcher.proven(CAMPAIGN, DIGEST, *_vector(7, b"c"), b"c")
