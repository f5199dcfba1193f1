"""Cost of the short-exponent primitives in units of P, one full-length Paillier exponentiation.

Run: ``.venv/bin/python benchmarks/bench_crypto_speed.py [--bits 2048] [--runs 7] [--quick]``.

P is one raw ``gmpy2.powmod(r, n, n^2)`` at the same key size, timed in the same run right
beside each operation, so every figure is a ratio that survives a noisy shared machine. Each
row is the median over runs of (seconds per operation / P of that run). Rows: phe's own
``raw_encrypt`` (full-length r^n, today's encryption); DJN short-exponent encryption
(``shortexp``) with ``powmod`` and with the key's fixed-base table; pooled encryption (the
online part: take a precomputed mask, one multiplication); today's proof of plaintext
knowledge (``knowledge``) and the short-exponent proof (``shortproof``), generated and
verified; batch verification per proof at several batch sizes; parallel verification over
all cores with threads and with processes (wall time per proof); the ciphertext checks.
Correctness is asserted on the way (every proof verifies, ciphertexts decrypt).
"""

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable

import gmpy2
import phe.util
from phe import paillier

from fedcarbon.crypto import fixedbase
from fedcarbon.crypto.checked import check_values
from fedcarbon.crypto.knowledge import (
    encrypt_with_proofs,
    prove_plaintext_knowledge,
    slot_context,
    verify_plaintext_knowledge,
)
from fedcarbon.crypto.parallel import make_executor, verify_parallel
from fedcarbon.crypto.randomness import RandomnessPool
from fedcarbon.crypto.shortexp import (
    EXPONENT_BITS,
    ShortExponentKey,
    check_key,
    encrypt,
    encrypt_with_mask,
    forget,
    make_hs,
    precompute,
    prove_hs,
)
from fedcarbon.crypto.shortproof import (
    COMMIT_BITS,
    batch_verify,
    encrypt_and_prove,
    prove,
    vector_items,
    verify,
)
from fedcarbon.crypto.vector import check_ciphertext


class Meter:
    """Times operations against P measured just before each of them, on the same clock.

    Sequential rows use this process's CPU time (``time.process_time``): on a shared machine
    the wall clock also counts the time other jobs hold the core, the CPU clock does not.
    Rows that run in other processes use the wall clock for both the row and its P.
    """

    def __init__(self, n: int, runs: int) -> None:
        self.n = gmpy2.mpz(n)
        self.nsquare = self.n * self.n
        self.runs = runs
        self.rows: dict[str, list[float]] = {}
        self.p_seconds: list[float] = []

    def p(self, repeats: int = 5, clock: Callable[[], float] = time.process_time) -> float:
        """Seconds of one raw powmod(r, n, n^2): ``repeats`` random r timed together."""
        bases = [gmpy2.mpz(secrets.randbelow(int(self.n))) for _ in range(repeats)]
        start = clock()
        for r in bases:
            gmpy2.powmod(r, self.n, self.nsquare)
        p = (clock() - start) / repeats
        self.p_seconds.append(p)
        return p

    def record(
        self,
        name: str,
        action: Callable[[], object],
        per_call: int = 1,
        clock: Callable[[], float] = time.process_time,
    ) -> None:
        """One run of ``action`` (each call does ``per_call`` operations), as a ratio to P."""
        p = self.p(clock=clock)
        start = clock()
        action()
        seconds = (clock() - start) / per_call
        self.rows.setdefault(name, []).append(seconds / p)

    def repeat(self, name: str, action: Callable[[], object], calls: int) -> None:
        """``calls`` calls of ``action`` in one timing, as seconds per call over P."""

        def many() -> None:
            for _ in range(calls):
                action()

        self.record(name, many, per_call=calls)


def _check_each(values: list[int], n: int) -> None:
    """Today's coordinator check: ``vector.check_ciphertext`` (a gcd) per ciphertext."""
    for index, c in enumerate(values):
        check_ciphertext(c, n, index=index)


def _ops(args: argparse.Namespace) -> int:
    return 3 if args.quick else args.ops


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=2048, help="modulus length of n")
    parser.add_argument("--runs", type=int, default=7, help="runs per row (median taken)")
    parser.add_argument("--ops", type=int, default=10, help="operations per timing")
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 64, 256], help="batch sizes")
    parser.add_argument("--quick", action="store_true", help="3 runs, 3 operations per timing")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    ops = _ops(args)

    public, private = paillier.generate_paillier_keypair(n_length=args.bits)
    n = int(public.n)
    key = ShortExponentKey(n, make_hs(private))
    check_key(key, prove_hs(private, key, b"bench"), b"bench", min_bits=args.bits)
    meter = Meter(n, runs)
    context = b"campaign-bench|agent-1"
    m = secrets.randbelow(n)

    # Proofs to verify: today's and the new ones, one vector per batch size.
    largest = max(args.batches)
    old_c, old_proofs = encrypt_with_proofs([public.n] * 4, [m] * 4, context)
    precompute(key)
    table_build_start = time.process_time()
    fixedbase.FixedBase(key.hs, key.nsquare)
    table_build = time.process_time() - table_build_start
    table_build_p = table_build / meter.p()
    cts, proofs = encrypt_and_prove(key, [m] * largest, context)
    items = vector_items(cts, proofs, context)
    assert batch_verify(key, items) == []
    assert all(private.raw_decrypt(c) == m for c in cts[:4])

    # Encryption-side pools, filled once (their cost is the "pool fill" row).
    masks = RandomnessPool(key, capacity=runs * ops + 8)
    commitments = RandomnessPool(key, COMMIT_BITS, capacity=runs * ops + 8)
    masks.fill()
    commitments.fill()

    workers = os.cpu_count() or 1
    executors = {mode: make_executor(mode, workers) for mode in ("thread", "process")}
    for executor in executors.values():  # warm up: processes start and build their tables
        assert verify_parallel(key, items, executor=executor, workers=workers) == []

    alpha_c, alpha = encrypt(key, m)
    r = secrets.randbelow(n - 1) + 1
    old_c0 = int(public.raw_encrypt(m, r_value=r))
    old_p0 = prove_plaintext_knowledge(n, old_c0, m, r, slot_context(context, 0))
    new_p0 = prove(key, alpha_c, m, alpha, context)
    assert verify_plaintext_knowledge(n, old_c0, old_p0, slot_context(context, 0))
    assert verify(key, alpha_c, new_p0, context)
    assert verify_plaintext_knowledge(n, old_c[1], old_proofs[1], slot_context(context, 1))

    values = [item.c for item in items]
    for _ in range(runs):
        meter.repeat(
            "P: gmpy2 powmod(r, n, n^2) (the unit, as a check)",
            lambda: gmpy2.powmod(r, meter.n, meter.nsquare),
            ops,
        )
        meter.repeat("phe raw_encrypt (full-length r^n, today)", lambda: public.raw_encrypt(m), ops)
        forget(key)
        meter.repeat(
            f"short-exponent encrypt ({EXPONENT_BITS}-bit alpha, powmod)",
            lambda: encrypt(key, m),
            ops,
        )
        meter.repeat(
            "new proof generate (powmod, no table)",
            lambda: prove(key, alpha_c, m, alpha, context),
            ops,
        )
        meter.repeat(
            "short-exponent proof verify (powmod, no table)",
            lambda: verify(key, alpha_c, new_p0, context),
            ops,
        )
        precompute(key)
        meter.repeat("short-exponent encrypt (fixed-base table)", lambda: encrypt(key, m), ops)
        meter.repeat("pool fill, one mask (background, table)", lambda: masks._fresh(), ops)
        meter.repeat(
            f"pool fill, one proof commitment ({COMMIT_BITS}-bit, table)",
            lambda: commitments._fresh(),
            ops,
        )
        meter.repeat(
            "pooled encrypt (online: take mask + one mulmod)",
            lambda: encrypt_with_mask(key, m, masks.take()[1]),
            ops,
        )
        meter.repeat(
            "today's proof generate (knowledge.py)",
            lambda: prove_plaintext_knowledge(n, old_c0, m, r, context),
            ops,
        )
        meter.repeat(
            "today's proof verify (knowledge.py)",
            lambda: verify_plaintext_knowledge(n, old_c0, old_p0, slot_context(context, 0)),
            ops,
        )
        meter.repeat(
            "new proof generate (table)", lambda: prove(key, alpha_c, m, alpha, context), ops
        )
        meter.repeat(
            "new proof generate (online, pooled commitment)",
            lambda: prove(key, alpha_c, m, alpha, context, commitment=commitments.take()),
            ops,
        )
        meter.repeat(
            "new proof verify, one by one (table)",
            lambda: verify(key, alpha_c, new_p0, context),
            ops,
        )
        for size in args.batches:
            meter.record(
                f"batch verify per proof, batch of {size}",
                lambda size=size: batch_verify(key, items[:size]),  # type: ignore[misc]
                per_call=size,
            )
        meter.record(
            f"batch verify per proof, {largest} in one process (wall, compare below)",
            lambda: batch_verify(key, items),
            per_call=largest,
            clock=time.perf_counter,
        )
        for mode, executor in executors.items():
            meter.record(
                f"parallel verify per proof, {largest} over {workers} {mode} workers (wall)",
                lambda executor=executor: verify_parallel(  # type: ignore[misc]
                    key, items, executor=executor, workers=workers
                ),
                per_call=largest,
                clock=time.perf_counter,
            )
        meter.record(
            "ciphertext check per ciphertext, gcd each (vector.py)",
            lambda: _check_each(values, n),
            per_call=len(values),
        )
        meter.record(
            "ciphertext check per ciphertext, one gcd (checked.py)",
            lambda: check_values(values, n),
            per_call=len(values),
        )

    for executor in executors.values():
        executor.shutdown()
    masks.close()
    commitments.close()

    p_ms = statistics.median(meter.p_seconds) * 1000
    print("Ratios: CPU time of this process / P; parallel rows: wall time / wall-clock P.")
    print(f"gmpy2 in use by phe: {phe.util.HAVE_GMP}; n = {args.bits} bits; {runs} runs")
    print(
        f"P (median over the run) = {p_ms:.2f} ms; fixed-base table build = {table_build_p:.1f} P"
    )
    print()
    print("| operation | median / P | min / P | max / P |")
    print("|---|---:|---:|---:|")
    for name, ratios in meter.rows.items():
        print(
            f"| {name} | {statistics.median(ratios):.4f} | {min(ratios):.4f} | {max(ratios):.4f} |"
        )
    rows = {name: statistics.median(ratios) for name, ratios in meter.rows.items()}
    thread = next(v for k, v in rows.items() if k.startswith("parallel") and "thread" in k)
    process = next(v for k, v in rows.items() if k.startswith("parallel") and "process" in k)
    alone = next(v for k, v in rows.items() if "in one process (wall" in k)
    print()
    print(
        f"parallel verification over {workers} workers, wall clock: one process {alone:.4f} "
        f"P/proof, processes {process:.4f} (speed-up {alone / process:.2f}x), threads "
        f"{thread:.4f} ({alone / thread:.2f}x): "
        f"{'processes' if process < thread else 'threads'} measured better"
    )
    print(f"load average at the end (1, 5, 15 min): {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
