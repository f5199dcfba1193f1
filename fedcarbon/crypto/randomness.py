"""A pool of precomputed DJN masks (exponent, h_s^exponent) that an idle agent fills ahead.

With the short-exponent variant (``shortexp``) the only expensive part of encrypting is
h_s^alpha, and it does not depend on the message, so it can be computed before the figures
exist: the offline/online split known from signatures (Even, Goldreich, Micali, "On-line/
off-line digital signatures", CRYPTO 1989), applied to the encryption randomiser. Online,
encryption is then c = (1 + m n) mask mod n^2: one multiplication and one reduction. The same
pool type holds proof commitments h_s^beta (``shortproof.COMMIT_BITS``-bit beta).

Rules this module keeps, because a reused or leaked alpha breaks the ciphertext:
- values live in memory only, in this object; nothing is written anywhere;
- each pair is handed out once: ``take`` removes it under a lock before returning it, so two
  threads never receive the same pair; when the pool is empty ``take`` computes a fresh pair
  in the caller's thread instead of waiting;
- ``close`` (or leaving the ``with`` block) stops the filler and drops every stored pair;
- a forked child process starts with every pool empty (``os.register_at_fork``), because
  parent and child would otherwise hand out the same pairs: two ciphertexts with one alpha
  reveal the difference of their plaintexts to anyone (c1 / c2 = (1 + n)^(m1 - m2)).

The background filler lets gmpy2 release the GIL during its exponentiations
(``allow_release_gil``, a per-thread context setting), so the agent's other work keeps running.
"""

import os
import secrets
import threading
import weakref
from collections import deque
from types import TracebackType

import gmpy2

from fedcarbon.crypto.errors import EncodingError
from fedcarbon.crypto.shortexp import EXPONENT_BITS, ShortExponentKey, hs_power, precompute

DEFAULT_CAPACITY = 256
"""Pairs kept ready: 256 x (512 + 56 bytes) is about 150 kB per key and exponent length."""


_live_pools: "weakref.WeakSet[RandomnessPool]" = weakref.WeakSet()


def _forget_after_fork() -> None:
    """In a forked child: empty every pool and its locks (the filler thread did not survive)."""
    for pool in list(_live_pools):
        pool._reset_in_child()


os.register_at_fork(after_in_child=_forget_after_fork)


class RandomnessPool:
    """Thread-safe store of fresh (exponent, h_s^exponent mod n^2) pairs for one key.

    ``bits`` is the exponent length: ``shortexp.EXPONENT_BITS`` for encryption masks,
    ``shortproof.COMMIT_BITS`` for proof commitments. With ``precompute`` (the default) the
    first fill builds the key's ``fixedbase`` table (about 13 MB), which makes each pair
    several times cheaper.
    """

    def __init__(
        self,
        key: ShortExponentKey,
        bits: int = EXPONENT_BITS,
        capacity: int = DEFAULT_CAPACITY,
        *,
        precompute: bool = True,
    ) -> None:
        if bits < 1:
            raise EncodingError(f"exponent length must be positive, got {bits}")
        if capacity < 1:
            raise EncodingError(f"pool capacity must be positive, got {capacity}")
        self.key = key
        self.bits = bits
        self.capacity = capacity
        self.precompute = precompute
        self._pairs: deque[tuple[int, int]] = deque()
        self._lock = threading.Lock()
        self._wanted = threading.Condition(self._lock)
        self._closed = False
        self._thread: threading.Thread | None = None
        _live_pools.add(self)

    def _reset_in_child(self) -> None:
        self._lock = threading.Lock()
        self._wanted = threading.Condition(self._lock)
        self._pairs = deque()
        self._thread = None

    def _fresh(self) -> tuple[int, int]:
        exponent = secrets.randbits(self.bits)
        return exponent, int(hs_power(self.key, exponent))

    def __len__(self) -> int:
        with self._lock:
            return len(self._pairs)

    def fill(self, count: int | None = None) -> int:
        """Compute pairs in this thread until full (or ``count`` more); returns how many added."""
        if self.precompute:
            precompute(self.key)
        added = 0
        while count is None or added < count:
            with self._lock:
                if self._closed or len(self._pairs) >= self.capacity:
                    return added
            pair = self._fresh()
            with self._lock:
                # Another filler may have topped the pool up meanwhile: never exceed it.
                if self._closed or len(self._pairs) >= self.capacity:
                    return added
                self._pairs.append(pair)
            added += 1
        return added

    def start(self) -> None:
        """Start the background filler (a daemon thread); it refills whenever pairs are taken."""
        with self._lock:
            if self._closed:
                raise EncodingError("randomness pool is closed")
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name="fedcarbon-randomness-pool", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        gmpy2.get_context().allow_release_gil = True
        if self.precompute:
            precompute(self.key)
        while True:
            with self._wanted:
                while not self._closed and len(self._pairs) >= self.capacity:
                    self._wanted.wait()
                if self._closed:
                    return
            pair = self._fresh()
            with self._lock:
                if self._closed:
                    return
                self._pairs.append(pair)

    def take(self) -> tuple[int, int]:
        """Remove and return one (exponent, h_s^exponent) pair; never the same pair twice."""
        with self._wanted:
            if self._closed:
                raise EncodingError("randomness pool is closed")
            pair = self._pairs.popleft() if self._pairs else None
            self._wanted.notify()
        return pair if pair is not None else self._fresh()

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop the filler and forget every stored pair."""
        with self._wanted:
            self._closed = True
            self._pairs.clear()
            self._wanted.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> "RandomnessPool":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
