"""Work of concurrent submissions done in batches of whatever waits (issue 14).

Two steps of accepting a submission cost much less per submission when many are done
together: the proof checks (one small-exponent batch test per trustee key, Bellare, Garay,
Rabin, "Fast batch verification for modular exponentiation and digital signatures",
EUROCRYPT 1998; ``shortproof.batch_verify_groups``) and the log append (one transaction, one
commit and one signed tree head for many submissions: *group commit*, Gawlick and Kinkade,
"Varieties of concurrency control in IMS/VS Fast Path", IEEE Database Engineering Bulletin
8(2), 1985).

A ``Combiner`` forms those batches without a timer (flat combining: Hendler, Incze, Shavit,
Tzafrir, "Flat combining and the synchronization-parallelism tradeoff", SPAA 2010): the first
gRPC thread to bring work while no batch runs becomes the leader and runs a batch of
everything waiting; whoever arrives meanwhile waits, and when the batch is done the first of
them leads the next batch, of everything that queued up in the meantime. An idle coordinator
therefore runs a batch of one at once (no added latency), and a busy one runs batches as large
as its load: the time one batch takes is the time the next one collects. The time-window
batcher this replaces waited 4 ms for company and, at the 20 to 60 submissions a second the
rest of the path allowed, found none (1.1 submissions per batch measured).
"""

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import gmpy2

from fedcarbon import shares
from fedcarbon.campaign import Campaign

DEFAULT_MAX_BATCH = 64
"""Submissions per batch at most: 64 submissions' proofs (384 with three trustees and two parts)
already bring the batch test near its floor per proof (docs/benchmarks.md), and a bound keeps
one batch's latency bounded under a flood."""

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Slot(Generic[Item, Result]):
    item: Item
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to lead the next batch, not with an outcome
    outcome: Result | BaseException | None = None


class Combiner(Generic[Item, Result]):
    """Calls ``run`` on batches of items brought by concurrent threads; each gets its outcome.

    ``run(items)`` returns one outcome per item, in order: a result, or an exception to raise
    in that item's thread (so one bad item fails alone). An exception raised by ``run`` itself
    reaches every item of that batch.
    """

    def __init__(
        self,
        run: Callable[[list[Item]], Sequence[Result | BaseException]],
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        self._run = run
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: deque[_Slot[Item, Result]] = deque()
        self._busy = False
        self.batches = 0  # how many batches ran, and over how many items (tests, benchmark)
        self.items = 0

    @property
    def waiting(self) -> int:
        """Items queued and not yet taken into a batch."""
        with self._lock:
            return len(self._queue)

    def __call__(self, item: Item) -> Result:
        slot: _Slot[Item, Result] = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            lead = not self._busy
            self._busy = True
        if not lead:
            slot.done.wait()
            if slot.lead:  # woken to lead, with no outcome yet
                slot.done.clear()
                lead = True
        if lead:
            self._lead(slot)
        outcome = slot.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]  # set by _lead before done

    def _lead(self, mine: _Slot[Item, Result]) -> None:
        """Run batches until ``mine`` has its outcome, then hand over to the next waiter."""
        while True:
            with self._lock:
                count = min(len(self._queue), self.max_batch)
                batch = [self._queue.popleft() for _ in range(count)]
            self._finish(batch)
            with self._lock:
                self.batches += 1
                self.items += len(batch)
                if not self._queue:
                    self._busy = False
                    return
                if mine.done.is_set():
                    successor = self._queue[0]
                    successor.lead = True
                    successor.done.set()
                    return

    def _finish(self, batch: list[_Slot[Item, Result]]) -> None:
        outcomes: Sequence[Result | BaseException]
        try:
            outcomes = self._run([slot.item for slot in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for a batch of {len(batch)}")
        except BaseException as error:  # every waiter must wake, whatever went wrong
            outcomes = [error] * len(batch)
        for slot, outcome in zip(batch, outcomes, strict=True):
            slot.outcome = outcome
            slot.lead = False
            slot.done.set()


@dataclass(frozen=True)
class ProofCheck:
    """One submission's proofs to check: its vector and the context the proofs are bound to."""

    campaign: Campaign
    digest: bytes  # the campaign's digest: checks group by it
    ciphertexts: Sequence[bytes]
    proofs: Sequence[bytes]
    context: bytes


def check_proofs(checks: list[ProofCheck]) -> list[bool]:
    """Whether each submission's proofs all hold: one batch test per campaign and trustee key,
    individual checks behind a failed batch naming the bad submissions (``shares.unproven``)."""
    gmpy2.get_context().allow_release_gil = True  # this thread's context: the other core
    verdicts = [True] * len(checks)
    by_campaign: dict[bytes, list[int]] = {}
    for index, check in enumerate(checks):
        by_campaign.setdefault(check.digest, []).append(index)
    for indices in by_campaign.values():
        campaign = checks[indices[0]].campaign
        vectors = [(checks[i].ciphertexts, checks[i].proofs, checks[i].context) for i in indices]
        for bad in shares.unproven(campaign, vectors):
            verdicts[indices[bad]] = False
    return verdicts


class ProofBatcher(Combiner[ProofCheck, bool]):
    """Proof checks of concurrent submissions, in batches of whatever waits."""

    def __init__(self, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        super().__init__(check_proofs, max_batch)

    def proven(
        self,
        campaign: Campaign,
        digest: bytes,
        ciphertexts: Sequence[bytes],
        proofs: Sequence[bytes],
        context: bytes,
    ) -> bool:
        """True when every proof of this vector holds."""
        return self(ProofCheck(campaign, digest, ciphertexts, proofs, context))
