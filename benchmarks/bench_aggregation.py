"""Packed fixed-point Paillier aggregation against phe's float encoding: time and bytes.

Run: ``.venv/bin/python benchmarks/bench_aggregation.py [--bits 2048 3072] [--metrics 5 20]
[--cohorts 10 100 1000] [--runs 5] [--baseline-max-cohort 1000] [--quick]``
(``--quick``: 3 runs instead of 5).

DESIGN.md (Cryptography) claims that encoding every metric as a fixed-point integer at the
campaign's scale, packing several into one plaintext and multiplying raw ciphertext integers
with gmpy2 beats the straightforward use of ``phe``. This measures it, in one run, against
that baseline:

- baseline: ``PaillierPublicKey.encrypt(float)`` per metric value (an ``EncodedNumber`` with a
  per-value float exponent), ``EncryptedNumber.__add__`` to sum a cohort (which aligns
  exponents with a modular exponentiation whenever they differ) and
  ``PaillierPrivateKey.decrypt`` per metric;
- fedcarbon: ``encoding.to_fixed`` + ``packing.pack`` + ``vector.encrypt_vector`` per
  participant, ``vector.add_vectors`` over the cohort, ``raw_decrypt`` per packed ciphertext
  and ``packing.unpack``.

A middle column, phe with fixed-point integers (``encrypt(to_fixed(value))``, exponent 0, one
ciphertext per metric, ``EncryptedNumber`` addition), splits the gain in two: baseline vs ints
is what a fixed scale saves (no exponent alignment), ints vs fedcarbon what packing and raw
integers save. The "same + from_bytes checks" rows add what the coordinator really does
before adding (decode each blob, check 0 < c < n^2 and gcd(c, n) = 1); phe's columns there
are the bare additions, with no decoding or checks.

Bytes on the wire per participant: ours are ``vector.to_bytes`` (fixed width, the byte length
of n^2, per packed ciphertext). The baseline is counted two ways: a binary lower bound (the
same fixed-width ciphertext plus one byte of exponent per metric) and the JSON
``(str(ciphertext), exponent)`` pairs of python-paillier's own serialisation guide
(https://python-paillier.readthedocs.io/en/stable/serialisation.html).

Per-participant encryption is timed with real fresh randomness (``--runs`` participants). To
build large cohorts in reasonable time, the cohort's ciphertexts are made the way phe makes
them (``raw_encrypt`` of the encoding) but obfuscated with products of a pool of precomputed
r^n values instead of one fresh r^n each: they are full-size valid ciphertexts, so adding and
decrypting them costs the same, but they are not secure encryptions and serve timing only.

Metric values are realistic company emissions: log-uniform between 1 kg and 100 kt CO2e, in
grams (scale 3), with the catalogue's default bounds [0, 1e12 kg] and a packing sized for
the default campaign maximum of 10,000 contributors. The script checks that our unpacked sum
equals the exact integer sum and that phe's decrypted float sum agrees with it to the
fixed-point scale; it exits 1 if either does not.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial
from typing import TypeVar

import gmpy2
import phe.util
from phe import paillier

from fedcarbon.crypto import packing, vector
from fedcarbon.crypto.encoding import to_fixed

SCALE = 3  # grams of CO2e: the catalogue's default scale for kg CO2e metrics
UNIT: int = 10**SCALE  # fixed-point units per kg
BOUND_MAX = 10**12 * UNIT  # the catalogue's default maximum, 1e12 kg, in grams
MAX_CONTRIBUTORS = 10_000  # fedcarbon.campaign.DEFAULT_MAX_CONTRIBUTORS
LOW_KG, HIGH_KG = 1.0, 1e8
OBFUSCATOR_POOL = 32

T = TypeVar("T")


@dataclass(frozen=True)
class Measure:
    """One table row: medians of phe floats, phe fixed-point ints and ours (``None``: capped)."""

    name: str
    unit: str
    baseline: float | None
    ints: float | None
    ours: float


@dataclass(frozen=True)
class Check:
    """One correctness line: did the three sums agree for a cohort?"""

    label: str
    ok: bool
    detail: str


def _interleaved(actions: Sequence[Callable[[], object]], runs: int) -> list[float]:
    """Median seconds of each action, taking turns run by run so load drift hits all alike."""
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for slot, action in zip(times, actions, strict=True):
            start = time.perf_counter()
            action()
            slot.append(time.perf_counter() - start)
    return [statistics.median(slot) for slot in times]


def _interleaved_each(actions: Sequence[Callable[[T], object]], inputs: Sequence[T]) -> list[float]:
    """Like ``_interleaved``, with one input per run (e.g. one participant each)."""
    times: list[list[float]] = [[] for _ in actions]
    for item in inputs:
        for slot, action in zip(times, actions, strict=True):
            start = time.perf_counter()
            action(item)
            slot.append(time.perf_counter() - start)
    return [statistics.median(slot) for slot in times]


def _decode_and_add(blobs: Sequence[Sequence[bytes]], n: int, expected: int) -> list[int]:
    """What the coordinator does: decode and check every vector, then add."""
    return vector.add_vectors([vector.from_bytes(b, n, expected=expected) for b in blobs], n)


def _fixed_values(rng: random.Random, metrics: int) -> list[int]:
    """One participant's metrics in grams, log-uniform between LOW_KG and HIGH_KG."""
    low, high = math.log(LOW_KG), math.log(HIGH_KG)
    return [round(math.exp(rng.uniform(low, high)) * UNIT) for _ in range(metrics)]


def _as_float(fixed: int) -> float:
    """What a naive caller hands phe: the metric in kg as a Python float."""
    return fixed / UNIT


class _Obfuscators:
    """Products of two r^n from a small pool: full-size n-th powers without one powmod each."""

    def __init__(self, public_key: paillier.PaillierPublicKey, rng: random.Random) -> None:
        self._nsquare = gmpy2.mpz(public_key.nsquare)
        self._pool = [
            gmpy2.powmod(public_key.get_random_lt_n(), public_key.n, self._nsquare)
            for _ in range(OBFUSCATOR_POOL)
        ]
        self._rng = rng

    def apply(self, nude: int) -> int:
        a, b = self._rng.sample(self._pool, 2)
        return int(nude * a % self._nsquare * b % self._nsquare)


def _phe_cohort(
    public_key: paillier.PaillierPublicKey,
    cohort: Sequence[Sequence[int]],
    obf: _Obfuscators,
    encode: Callable[[int], float | int],
) -> list[list[paillier.EncryptedNumber]]:
    """phe's encrypt(encode(value)) per value, with pooled obfuscation (timing data only)."""
    rows = []
    for values in cohort:
        row = []
        for fixed in values:
            encoding = paillier.EncodedNumber.encode(public_key, encode(fixed))
            nude = public_key.raw_encrypt(encoding.encoding, r_value=1)
            row.append(paillier.EncryptedNumber(public_key, obf.apply(nude), encoding.exponent))
        rows.append(row)
    return rows


def _our_cohort(
    public_key: paillier.PaillierPublicKey,
    cohort: Sequence[Sequence[int]],
    bounds: Sequence[packing.MetricBounds],
    layout: packing.PackingLayout,
    obf: _Obfuscators,
) -> list[list[int]]:
    """Packed plaintexts per participant, with pooled obfuscation (timing data only)."""
    return [
        [obf.apply(public_key.raw_encrypt(m, r_value=1)) for m in packing.pack(v, bounds, layout)]
        for v in cohort
    ]


def _phe_sum(
    rows: Sequence[Sequence[paillier.EncryptedNumber]],
) -> list[paillier.EncryptedNumber]:
    """Per metric, left-to-right ``+`` over the cohort, as a naive aggregator writes it."""
    totals = list(rows[0])
    for row in rows[1:]:
        totals = [total + number for total, number in zip(totals, row, strict=True)]
    return totals


def _phe_decrypt(
    private_key: paillier.PaillierPrivateKey, numbers: Sequence[paillier.EncryptedNumber]
) -> list[float | int]:
    """phe's decrypt (raw decryption, then decoding with the exponent) per metric."""
    return [private_key.decrypt(number) for number in numbers]


def _json_bytes(row: Sequence[paillier.EncryptedNumber]) -> int:
    """Size of the (str(ciphertext), exponent) list from phe's serialisation guide."""
    pairs = [(str(number.ciphertext(be_secure=False)), number.exponent) for number in row]
    return len(json.dumps(pairs).encode())


def _agrees(baseline: float | int, exact: int) -> bool:
    """phe's float sum, rounded to the fixed-point scale, equals the exact sum."""
    scaled = Decimal(baseline).scaleb(SCALE).to_integral_value(rounding=ROUND_HALF_EVEN)
    return int(scaled) == exact


def bench_setting(
    bits: int,
    metrics: int,
    cohorts: Sequence[int],
    runs: int,
    baseline_max_cohort: int,
    seed: int,
) -> tuple[list[Measure], list[Check], packing.PackingLayout]:
    """All rows and checks for one (modulus, metric count) pair."""
    rng = random.Random(seed)
    public_key, private_key = paillier.generate_paillier_keypair(n_length=bits)
    n = public_key.n
    bounds = [packing.MetricBounds(f"m{i:02d}", 0, BOUND_MAX) for i in range(metrics)]
    layout = packing.plan_packing(bounds, MAX_CONTRIBUTORS, bits)
    measures: list[Measure] = []
    checks: list[Check] = []

    # Per participant, fresh randomness: what an agent pays before sending.
    samples = [_fixed_values(rng, metrics) for _ in range(runs)]
    floats = [[_as_float(v) for v in values] for values in samples]

    def ours_encrypt(values: Sequence[float]) -> list[int]:
        fixed = [to_fixed(v, SCALE, name=b.name) for v, b in zip(values, bounds, strict=True)]
        return vector.encrypt_vector(public_key, packing.pack(fixed, bounds, layout))

    def phe_encrypt_floats(values: Sequence[float]) -> list[paillier.EncryptedNumber]:
        return [public_key.encrypt(v) for v in values]

    def phe_encrypt_ints(values: Sequence[float]) -> list[paillier.EncryptedNumber]:
        return [public_key.encrypt(to_fixed(v, SCALE)) for v in values]

    enc = _interleaved_each([phe_encrypt_floats, phe_encrypt_ints, ours_encrypt], floats)
    measures.append(Measure("encrypt, per participant", "ms", *(t * 1e3 for t in enc)))

    width = vector.ciphertext_length(n)
    ours_bytes = layout.ciphertexts * width
    name = "bytes per participant, binary (phe: + 1 B exponent if not 0)"
    measures.append(Measure(name, "B", metrics * (width + 1), metrics * width, ours_bytes))
    name = "bytes per participant, phe JSON as its docs show"
    json_floats = _json_bytes(phe_encrypt_floats(floats[0]))
    json_ints = _json_bytes(phe_encrypt_ints(floats[0]))
    measures.append(Measure(name, "B", json_floats, json_ints, ours_bytes))

    # Cohorts: build the largest once, time prefixes.
    largest = max(cohorts)
    obf = _Obfuscators(public_key, rng)
    cohort_values = [_fixed_values(rng, metrics) for _ in range(largest)]
    ours_rows = _our_cohort(public_key, cohort_values, bounds, layout, obf)
    phe_size = min(largest, baseline_max_cohort)
    float_rows = _phe_cohort(public_key, cohort_values[:phe_size], obf, _as_float)
    int_rows = _phe_cohort(public_key, cohort_values[:phe_size], obf, int)
    blobs = [vector.to_bytes(row, n) for row in ours_rows]

    ours_total: list[int] = []
    float_total: list[paillier.EncryptedNumber] = []
    int_total: list[paillier.EncryptedNumber] = []
    for size in sorted(cohorts):
        actions: list[Callable[[], object]] = [
            partial(vector.add_vectors, ours_rows[:size], n),
            partial(_decode_and_add, blobs[:size], n, layout.ciphertexts),
        ]
        if size <= phe_size:
            actions.append(partial(_phe_sum, float_rows[:size]))
            actions.append(partial(_phe_sum, int_rows[:size]))
        medians = [seconds / size * 1e6 for seconds in _interleaved(actions, runs)]
        phe_floats, phe_ints = (medians[2], medians[3]) if size <= phe_size else (None, None)
        name = f"aggregate, per contributor, cohort {size:,}"
        measures.append(Measure(name, "us", phe_floats, phe_ints, medians[0]))
        name = f"  same + from_bytes checks (coordinator), cohort {size:,}"
        measures.append(Measure(name, "us", phe_floats, phe_ints, medians[1]))

        ours_total = vector.add_vectors(ours_rows[:size], n)
        exact = [sum(column) for column in zip(*cohort_values[:size], strict=True)]
        unpacked = packing.unpack(
            [private_key.raw_decrypt(c) for c in ours_total], bounds, layout, size
        )
        ok = unpacked == exact
        detail = "fedcarbon == exact integer sum" if ok else "fedcarbon sum is WRONG"
        if size <= phe_size:
            float_total = _phe_sum(float_rows[:size])
            int_total = _phe_sum(int_rows[:size])
            by_floats = [private_key.decrypt(number) for number in float_total]
            by_ints = [private_key.decrypt(number) for number in int_total]
            floats_ok = all(_agrees(d, e) for d, e in zip(by_floats, exact, strict=True))
            ints_ok = by_ints == exact
            ok = ok and floats_ok and ints_ok
            detail += (
                f"; phe float sum {'rounds to it' if floats_ok else 'DIFFERS'} at scale {SCALE}"
                f"; phe int sum {'equals it' if ints_ok else 'DIFFERS'}"
            )
        checks.append(Check(f"{bits}-bit, {metrics} metrics, cohort {size:,}", ok, detail))

    # Decryption of the released aggregate (the largest cohort each side measured).
    def ours_decrypt() -> list[int]:
        plaintexts = [private_key.raw_decrypt(c) for c in ours_total]
        return packing.unpack(plaintexts, bounds, layout, largest)

    decrypting: list[Callable[[], object]] = [ours_decrypt]
    if float_total:
        decrypting.append(partial(_phe_decrypt, private_key, float_total))
        decrypting.append(partial(_phe_decrypt, private_key, int_total))
    medians = [seconds * 1e3 for seconds in _interleaved(decrypting, runs)]
    if float_total:
        measures.append(Measure("decrypt aggregate", "ms", medians[1], medians[2], medians[0]))
    else:
        measures.append(Measure("decrypt aggregate", "ms", None, None, medians[0]))
    return measures, checks, layout


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "capped"
    if unit == "B":
        return f"{value:,.0f} B"
    return f"{value:,.3f} {unit}" if value < 1 else f"{value:,.1f} {unit}"


def _ratio(phe_value: float | None, ours: float) -> str:
    return "-" if phe_value is None else f"{phe_value / ours:,.1f}x"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, nargs="+", default=[2048], help="moduli, e.g. 3072")
    parser.add_argument("--metrics", type=int, nargs="+", default=[5, 20])
    parser.add_argument(
        "--cohorts", type=int, nargs="+", help="contributors per cohort (default 10 100 1000)"
    )
    parser.add_argument("--runs", type=int, help="timed repetitions per median (default 5)")
    parser.add_argument(
        "--baseline-max-cohort",
        type=int,
        default=1000,
        help="largest cohort the phe baseline is run on (it is slow); larger ones show 'capped'",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer runs for `make bench` (default 3 instead of 5)",
    )
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 3 if args.quick else 5
    if args.cohorts is None:
        args.cohorts = [10, 100, 1000]

    print(
        f"Aggregation: packed fixed-point (fedcarbon) vs phe encrypt(float) + EncryptedNumber "
        f"addition (baseline) and phe with fixed-point ints; medians of {args.runs} runs"
    )
    print(
        f"phe {phe.__version__}, gmpy2 {gmpy2.version()}, phe.util.HAVE_GMP = "
        f"{phe.util.HAVE_GMP}; values in grams (scale {SCALE}), log-uniform "
        f"{LOW_KG:g}-{HIGH_KG:g} kg; packing for {MAX_CONTRIBUTORS:,} contributors"
    )
    if args.baseline_max_cohort < max(args.cohorts):
        print(f"phe baseline capped at cohorts of {args.baseline_max_cohort:,} (too slow above)")
    print()
    print(
        "| modulus | metrics | measure | phe floats (baseline) | phe fixed-point ints "
        "| fedcarbon | baseline / ours | ints / ours |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    all_checks: list[Check] = []
    layouts: list[str] = []
    for bits in args.bits:
        for metrics in args.metrics:
            measures, checks, layout = bench_setting(
                bits, metrics, args.cohorts, args.runs, args.baseline_max_cohort, args.seed
            )
            all_checks.extend(checks)
            layouts.append(
                f"{bits}-bit, {metrics} metrics: {layout.slot_bits}-bit slots, "
                f"{layout.slots_per_ciphertext} per plaintext, {layout.ciphertexts} ciphertext(s)"
            )
            for m in measures:
                print(
                    f"| {bits} | {metrics} | {m.name} | {_fmt(m.baseline, m.unit)} | "
                    f"{_fmt(m.ints, m.unit)} | {_fmt(m.ours, m.unit)} | "
                    f"{_ratio(m.baseline, m.ours)} | {_ratio(m.ints, m.ours)} |"
                )
            sys.stdout.flush()
    print()
    for line in layouts:
        print(f"packing: {line}")
    failed = [c for c in all_checks if not c.ok]
    for check in all_checks:
        print(f"correctness {'OK  ' if check.ok else 'FAIL'} {check.label}: {check.detail}")
    if failed:
        print(f"{len(failed)} correctness check(s) FAILED", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
