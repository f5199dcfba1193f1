"""Batches of whatever waits: the combiner and its proof checks (coordinator/batching.py)."""

import threading
import time
from collections.abc import Callable
from datetime import date

import pytest

from coordinator.batching import Combiner, ProofBatcher
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


def _together(count: int, call: Callable[[int], object]) -> dict[int, object]:
    """Run call(i) for i < count on as many threads, started at once; outcome or exception."""
    outcomes: dict[int, object] = {}
    start = threading.Barrier(count)

    def one(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = call(i)
        except Exception as error:  # the test compares what each thread got
            outcomes[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


class _Gate:
    """A run function whose first batch waits until ``expected`` more items are queued, so
    the test knows what the batches hold, whatever the thread scheduling."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.batches: list[list[int]] = []
        self.combiner: Combiner[int, int] | None = None

    def run(self, items: list[int]) -> list[int | BaseException]:
        if not self.batches:
            deadline = time.monotonic() + 30
            while self.combiner is not None and self.combiner.waiting < self.expected:
                assert time.monotonic() < deadline, "the other threads never queued"
                time.sleep(0.001)
        self.batches.append(sorted(items))
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]


def test_what_queues_while_a_batch_runs_is_the_next_batch() -> None:
    gate = _Gate(expected=7)
    gate.combiner = combiner = Combiner(gate.run, max_batch=64)
    outcomes = _together(8, combiner)
    assert len(gate.batches) == 2 and len(gate.batches[0]) == 1 and len(gate.batches[1]) == 7
    assert sorted(gate.batches[0] + gate.batches[1]) == list(range(8))
    assert combiner.batches == 2 and combiner.items == 8 and combiner.waiting == 0
    for i, outcome in outcomes.items():  # each thread gets its own outcome, errors included
        if i % 2:
            assert isinstance(outcome, ValueError) and str(outcome) == f"odd {i}"
        else:
            assert outcome == i * 10


def test_batches_are_capped_at_max_batch() -> None:
    gate = _Gate(expected=9)
    gate.combiner = combiner = Combiner(gate.run, max_batch=4)
    _together(10, combiner)
    assert [len(batch) for batch in gate.batches] == [1, 4, 4, 1]


def test_an_idle_combiner_runs_a_batch_of_one_at_once() -> None:
    combiner: Combiner[int, int] = Combiner(lambda items: [i + 1 for i in items])
    assert [combiner(i) for i in range(3)] == [1, 2, 3]
    assert combiner.batches == 3


def test_a_failing_run_reaches_every_item_of_its_batch_and_the_next_batch_still_runs() -> None:
    calls: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return items

    combiner: Combiner[int, int] = Combiner(run)
    with pytest.raises(RuntimeError, match="boom"):
        combiner(1)
    assert combiner(2) == 2
    wrong: Combiner[int, int] = Combiner(lambda items: [])
    with pytest.raises(RuntimeError, match="0 outcomes for a batch of 1"):
        wrong(1)


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Combiner(lambda items: items, max_batch=0)


def test_concurrent_proof_checks_share_batches_and_a_bad_one_is_named_alone() -> None:
    """Eight submissions at once: the one whose proofs are bound to another participant
    fails, and only it, whatever batches the scheduling made."""
    vectors = [_vector(1000 + i, b"ctx-%d" % i) for i in range(8)]
    contexts = [b"ctx-%d" % i for i in range(8)]
    contexts[5] = b"someone else"  # proofs made for ctx-5, checked as another's: must fail
    batcher = ProofBatcher()
    verdicts = _together(8, lambda i: batcher.proven(CAMPAIGN, DIGEST, *vectors[i], contexts[i]))
    assert verdicts == {i: i != 5 for i in range(8)}
    assert batcher.items == 8


def test_malformed_vector_is_refused_not_raised() -> None:
    batcher = ProofBatcher()
    cts, proofs = _vector(7, b"c")
    assert not batcher.proven(CAMPAIGN, DIGEST, cts[:-1], proofs, b"c")
    assert not batcher.proven(CAMPAIGN, DIGEST, cts, [b"\x00" * 3] * len(proofs), b"c")
    assert batcher.proven(CAMPAIGN, DIGEST, cts, proofs, b"c")


def test_an_error_in_the_batch_reaches_every_waiting_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object) -> list[int]:
        raise CryptoError("boom")

    monkeypatch.setattr(shares, "unproven", broken)
    batcher = ProofBatcher()
    with pytest.raises(CryptoError, match="boom"):
        batcher.proven(CAMPAIGN, DIGEST, *_vector(7, b"c"), b"c")
