"""Footprint engine throughput: rows per second for 1,000,000 activity records.

Run: ``.venv/bin/python benchmarks/bench_accounting.py [--records 1000000] [--runs 3]
[--baseline-records 20000] [--csv]``.

Prints a Markdown table of medians: the vectorised ``compute_footprint`` on the full set and on
the baseline sample, against the baseline - a plain Python loop that, per record, looks the
factor up, converts the unit with pint and weights the gases (what a straightforward
implementation does). ``--csv`` also times reading the records from an activity CSV. The
records are a synthetic but realistic mix: DESNZ fuels, grid electricity in five countries
with and without instruments, refrigerant releases, freight, travel and EPA spend lines.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fedcarbon.accounting import gwp as gwp_table
from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.factors import FactorCatalog
from fedcarbon.accounting.records import ActivityRecord, read_activity_csv, write_activity_csv
from fedcarbon.accounting.units import registry

# (activity, units it may be written in, region, instrument)
MIX: list[tuple[str, tuple[str, ...], str, str | None]] = [
    ("fuel.natural_gas.gross_cv", ("kWh", "MWh", "therm"), "GB", None),
    ("fuel.diesel", ("L", "gal"), "GB", None),
    ("fuel.petrol", ("L",), "GB", None),
    ("fuel.lpg", ("L", "kg"), "GB", None),
    ("electricity.grid", ("kWh", "MWh"), "GB", None),
    ("electricity.grid", ("kWh",), "GB", "REGO"),
    ("electricity.grid", ("kWh",), "GB", "supplier:0.15"),
    ("electricity.grid", ("kWh", "MWh"), "DE", None),
    ("electricity.grid", ("kWh",), "DE", "GO"),
    ("electricity.grid", ("kWh",), "FR", None),
    ("electricity.grid", ("kWh",), "US", "REC"),
    ("electricity.grid", ("MWh",), "CN", None),
    ("release.R-410A", ("kg", "g"), "GB", None),
    ("release.HFC-134a", ("kg",), "GB", None),
    ("spend.naics.331110", ("USD",), "US", None),
    ("spend.naics.111110", ("USD",), "US", None),
]


def make_records(n: int, seed: int = 7) -> list[ActivityRecord]:
    """``n`` records cycling through ``MIX`` with random quantities and units."""
    rnd = random.Random(seed)
    records = []
    start, end = date(2024, 1, 1), date(2024, 12, 31)
    for i in range(n):
        activity, units, region, instrument = MIX[i % len(MIX)]
        records.append(
            ActivityRecord(
                f"r{i}",
                start,
                end,
                f"site{i % 50}",
                activity,
                rnd.uniform(1.0, 1000.0),
                units[rnd.randrange(len(units))],
                region,
                instrument=instrument,
                data_quality="primary" if i % 3 == 0 else None,
            )
        )
    return records


def per_record_loop(records: list[ActivityRecord], catalog: FactorCatalog, basis: str) -> float:
    """Baseline: one lookup, one pint conversion and one gas weighting per record."""
    ureg = registry()
    total = 0.0
    for r in records:
        if r.activity.startswith("release."):
            kg = ureg.Quantity(r.quantity, r.unit).to("kg").magnitude
            total += kg * gwp_table.gwp100(r.activity[len("release.") :], basis)
            continue
        factor = catalog.lookup(r.activity, r.region, r.period_start.year, unit=r.unit)
        amount = ureg.Quantity(r.quantity, r.unit).to(factor.unit).magnitude
        co2e = amount * gwp_table.co2e_kg(factor.gases, basis)
        if factor.scope == "2" and r.instrument:
            continue  # location-based only in the baseline; instruments skipped
        total += co2e
    return total


def _median(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--baseline-records", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--csv", action="store_true", help="also time reading a CSV")
    args = parser.parse_args()

    catalog = FactorCatalog.default()
    records = make_records(args.records)
    sample = records[: args.baseline_records]
    compute_footprint(sample[:100], catalog)  # warm caches (pint registry, dataset parse)

    baseline = _median(lambda: per_record_loop(sample, catalog, "AR6"), args.runs)
    engine_sample = _median(lambda: compute_footprint(sample, catalog), args.runs)
    engine_full = _median(lambda: compute_footprint(records, catalog), args.runs)
    base_rate = len(sample) / baseline

    rows = [
        ("per-record Python loop (baseline)", len(sample), baseline),
        ("compute_footprint", len(sample), engine_sample),
        ("compute_footprint", len(records), engine_full),
    ]
    if args.csv:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "activities.csv"
            write_activity_csv(records, path)
            reading = _median(lambda: read_activity_csv(path), 1)
        rows.append(("read_activity_csv (1 run)", len(records), reading))

    print(f"Footprint engine, median of {args.runs} runs, GWP AR6, {len(MIX)} activity kinds\n")
    print("| operation | records | median s | rows/s | vs baseline |")
    print("|---|---:|---:|---:|---:|")
    for name, n, seconds in rows:
        rate = n / seconds
        print(f"| {name} | {n:,} | {seconds:.3f} | {rate:,.0f} | {rate / base_rate:.1f}x |")


if __name__ == "__main__":
    main()
