"""Proof checks of concurrent submissions, batched per short time window (issue 14).

Each submission carries a proof of plaintext knowledge per ciphertext. Checked one submission
at a time they are the coordinator's largest cost; checked together, many submissions' proofs
under one trustee key go through a single small-exponent batch test (Bellare, Garay, Rabin,
"Fast batch verification for modular exponentiation and digital signatures", EUROCRYPT 1998;
``shortproof.batch_verify_groups``), whose multi-exponentiation costs less per proof the more
proofs it holds. When a batch fails, the individual checks name the bad submissions, so an
honest submission is never refused for another's bad proof.

Leader and followers: the first gRPC thread to bring a check for a campaign waits ``window``
seconds (or until ``max_batch`` checks are waiting), takes every check waiting for that
campaign and runs the batch; the others wait for their own verdict. Checks arriving meanwhile
form the next batch under a new leader, and because the leader lets gmpy2 release the GIL,
two batches can run on the two cores at once. Nothing is stored before its verdict: the
submission is still written, in its own transaction, only after its proofs held.
"""

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import gmpy2

from fedcarbon import shares
from fedcarbon.campaign import Campaign

DEFAULT_WINDOW_S = 0.004
DEFAULT_MAX_BATCH = 64


@dataclass
class _Check:
    ciphertexts: Sequence[bytes]
    proofs: Sequence[bytes]
    context: bytes
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False
    error: BaseException | None = None


@dataclass
class _Window:
    campaign: Campaign
    checks: list[_Check] = field(default_factory=list)
    full: threading.Event = field(default_factory=threading.Event)


class ProofBatcher:
    """Checks submissions' proofs in batches of whatever arrives within one short window."""

    def __init__(
        self, window: float = DEFAULT_WINDOW_S, max_batch: int = DEFAULT_MAX_BATCH
    ) -> None:
        self.window = window
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._open: dict[bytes, _Window] = {}  # campaign digest -> window being collected
        self.batches = 0  # how many batches ran (for tests and the benchmark)
        self.checked = 0

    def proven(
        self,
        campaign: Campaign,
        digest: bytes,
        ciphertexts: Sequence[bytes],
        proofs: Sequence[bytes],
        context: bytes,
    ) -> bool:
        """True when every proof of this vector holds (waits at most one window plus a batch)."""
        check = _Check(ciphertexts, proofs, context)
        with self._lock:
            window = self._open.get(digest)
            leader = window is None
            if window is None:
                window = self._open[digest] = _Window(campaign)
            window.checks.append(check)
            if len(window.checks) >= self.max_batch:
                window.full.set()
        if not leader:
            check.done.wait()
            if check.error is not None:
                raise check.error
            return check.ok
        window.full.wait(self.window)
        with self._lock:
            del self._open[digest]
            batch = list(window.checks)
        self._run(window.campaign, batch)
        if check.error is not None:
            raise check.error
        return check.ok

    def _run(self, campaign: Campaign, batch: list[_Check]) -> None:
        gmpy2.get_context().allow_release_gil = True  # this thread's context: the other core
        try:
            failing = set(
                shares.unproven(campaign, [(c.ciphertexts, c.proofs, c.context) for c in batch])
            )
        except BaseException as error:
            for check in batch:
                check.error = error
                check.done.set()
            return
        for index, check in enumerate(batch):
            check.ok = index not in failing
            check.done.set()
        with self._lock:
            self.batches += 1
            self.checked += len(batch)
