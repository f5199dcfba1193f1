"""Batch proof verification spread over all cores.

Two ways to use a second core from Python for gmpy2 work: threads, with gmpy2 told to release
the GIL inside its big-integer operations (``allow_release_gil``, a per-thread context
setting of gmpy2 >= 2.1), or a process pool (no GIL at all, but each item is pickled across).
``benchmarks/bench_crypto_speed.py`` measures both on the same batches; ``DEFAULT_MODE`` is
the one that measured better on the project machine (see docs/benchmarks.md). Either way the
items are cut into one contiguous chunk per worker and each chunk is one
``shortproof.batch_verify`` (so its small-exponent test and fall-back stay as they are).
"""

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Literal

import gmpy2

from fedcarbon.crypto.errors import EncodingError
from fedcarbon.crypto.shortexp import ShortExponentKey, precompute
from fedcarbon.crypto.shortproof import ProofItem, batch_verify

Mode = Literal["process", "thread"]

DEFAULT_MODE: Mode = "process"
"""Measured better on 2 shared cores (docs/benchmarks.md, "Cryptographic primitives")."""


def _verify_in_thread(key: ShortExponentKey, items: Sequence[ProofItem]) -> list[int]:
    gmpy2.get_context().allow_release_gil = True
    return batch_verify(key, items)


def _verify_in_process(key: ShortExponentKey, items: Sequence[ProofItem]) -> list[int]:
    precompute(key)  # once per worker process and key; the fall-back checks use it
    return batch_verify(key, items)


def _chunks(count: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous (start, stop) ranges covering range(count), sizes differing by <= 1."""
    size, extra = divmod(count, parts)
    ranges = []
    start = 0
    for part in range(parts):
        stop = start + size + (1 if part < extra else 0)
        if stop > start:
            ranges.append((start, stop))
        start = stop
    return ranges


def make_executor(mode: Mode = DEFAULT_MODE, workers: int | None = None) -> Executor:
    """An executor to keep for many ``verify_parallel`` calls (starting processes is slow)."""
    workers = workers or os.cpu_count() or 1
    if mode == "process":
        # forkserver, not fork: a gRPC server is multi-threaded, and forking it can deadlock
        # (gRPC does not support fork by default); workers start clean and import this module.
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
        )
    if mode == "thread":
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fedcarbon-verify")
    raise EncodingError(f"unknown parallel mode {mode!r} (expected 'process' or 'thread')")


def verify_parallel(
    key: ShortExponentKey,
    items: Sequence[ProofItem],
    *,
    executor: Executor | None = None,
    mode: Mode = DEFAULT_MODE,
    workers: int | None = None,
) -> list[int]:
    """Indices of items whose proofs fail, as ``batch_verify``, one chunk per worker.

    Pass a long-lived ``executor`` from ``make_executor`` in a server; without one, a pool
    is started and shut down for this call. A thread executor must be one from
    ``make_executor(mode="thread")`` or any executor whose tasks may set gmpy2's context.
    """
    workers = workers or os.cpu_count() or 1
    ranges = _chunks(len(items), workers)
    if len(ranges) <= 1:
        return batch_verify(key, items)
    own = executor is None
    pool = make_executor(mode, workers) if executor is None else executor
    if isinstance(pool, ProcessPoolExecutor):
        task = _verify_in_process
    else:
        precompute(key)
        task = _verify_in_thread
    try:
        futures = [
            (start, pool.submit(task, key, list(items[start:stop]))) for start, stop in ranges
        ]
        return sorted(start + index for start, future in futures for index in future.result())
    finally:
        if own:
            pool.shutdown()
