"""Threshold Paillier cost against plain phe: key ceremony, partial decryption, combining.

Run: ``.venv/bin/python benchmarks/bench_threshold.py [--bits 1024 2048] [--runs 3]``.
Prints a Markdown table of medians and of ratios to plain phe (the baseline: phe's own key
generation and ``raw_decrypt`` with the private key, which threshold decryption replaces).
"""

import argparse
import random
import statistics
import time
from collections.abc import Callable

import phe.util
from phe import paillier

from fedcarbon.crypto.primes import expected_candidates
from fedcarbon.crypto.threshold import (
    combine,
    generate_threshold_key,
    partial_decrypt,
    verify_partial,
)


def _median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _bench(
    bits: int, n_parties: int, threshold: int, runs: int, ops: int
) -> list[tuple[str, float, float]]:
    """(operation, median seconds, ratio to the phe baseline) rows for one key size."""
    rows: list[tuple[str, float, float]] = []
    phe_keygen = _median_seconds(lambda: paillier.generate_paillier_keypair(n_length=bits), runs)
    keys: list[object] = []

    def deal() -> None:
        keys.append(generate_threshold_key(bits, n_parties, threshold, allow_insecure_size=True))

    dealer = _median_seconds(deal, runs)
    rows.append(("phe key generation (baseline)", phe_keygen, 1.0))
    rows.append((f"threshold key ceremony {threshold}-of-{n_parties}", dealer, dealer / phe_keygen))

    phe_public, phe_private = paillier.generate_paillier_keypair(n_length=bits)
    public, shares = generate_threshold_key(bits, n_parties, threshold, allow_insecure_size=True)
    plaintext = random.getrandbits(bits - 2)
    c_phe = phe_public.raw_encrypt(plaintext)
    c = public.paillier.raw_encrypt(plaintext)
    baseline = _median_seconds(lambda: phe_private.raw_decrypt(c_phe), ops)
    partial = partial_decrypt(shares[0], c)
    partials = [partial_decrypt(s, c) for s in shares[:threshold]]
    assert combine(public, c, partials) == plaintext
    one_partial = _median_seconds(lambda: partial_decrypt(shares[0], c), ops)
    verify = _median_seconds(lambda: verify_partial(public, c, partial), ops)
    combining = _median_seconds(lambda: combine(public, c, partials), ops)
    rows.append(("phe raw_decrypt (baseline)", baseline, 1.0))
    rows.append(("partial decryption + proof (1 trustee)", one_partial, one_partial / baseline))
    rows.append(("verify one partial", verify, verify / baseline))
    rows.append((f"combine {threshold} partials (verifies each)", combining, combining / baseline))
    total = threshold * one_partial + combining
    rows.append((f"end to end, {threshold} trustees in sequence", total, total / baseline))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--runs", type=int, default=3, help="key generations per size")
    parser.add_argument("--ops", type=int, default=15, help="repetitions per decryption step")
    parser.add_argument("--parties", type=int, default=5)
    parser.add_argument("--threshold", type=int, default=3)
    args = parser.parse_args()
    print(f"gmpy2 in use by phe: {phe.util.HAVE_GMP}")
    print()
    print("| modulus | operation | median | ratio to phe |")
    print("|---|---|---:|---:|")
    for bits in args.bits:
        for name, seconds, ratio in _bench(bits, args.parties, args.threshold, args.runs, args.ops):
            print(f"| {bits} | {name} | {seconds * 1000:.1f} ms | {ratio:.1f}x |")
    print()
    for bits in args.bits:
        print(
            f"expected safe-prime candidates at {bits // 2} bits: {expected_candidates(bits // 2)}"
        )


if __name__ == "__main__":
    main()
