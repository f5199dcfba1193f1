"""Derive fedcarbon's spend-conversion tables: US CPI-U annual averages and annual FX rates.

Spend-based Scope 3 factors are per unit of one currency at one price year (the US EPA
supply-chain factors: kg per 2021 USD). A spend line in another currency or another year is
converted at the spend year's annual average exchange rate and then deflated with the US
consumer price index to the factor's price year (``fedcarbon/accounting/money.py``).

Sources (both US Government data, public domain; republished as Open Data Commons PDDL data
packages by datahub.io ``core``):

* US Bureau of Labor Statistics, CPI for All Urban Consumers (CPI-U), US city average, all
  items, 1982-84=100, series CUUR0000SA0, monthly (datahub ``datasets/cpi-us``,
  ``data/cpiai.csv``). The annual average is the mean of the 12 monthly indexes rounded to 3
  decimals, which is how BLS publishes it (2021: 270.970); years with fewer than 12 months
  are left out.
* Board of Governors of the Federal Reserve System, H.10 / G.5A foreign exchange rates, via
  FRED (datahub ``datasets/exchange-rates``): the annual averages (``data/annual.csv``, FRED
  ``AEX..US`` series) as currency units per US dollar; the pound has no annual series there,
  so its rate is the mean of the 12 monthly averages (``data/monthly.csv``, ``EXUSUK``
  inverted).

Usage:  python scripts/derive_money.py CPIAI.csv FX_ANNUAL.csv FX_MONTHLY.csv [OUT_DIR]
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "fedcarbon/accounting/data/money"
FIRST_YEAR = 2010

CURRENCY_OF: dict[str, str] = {
    "Australia": "AUD", "Brazil": "BRL", "Canada": "CAD", "China": "CNY", "Denmark": "DKK",
    "Euro": "EUR", "Hong Kong": "HKD", "India": "INR", "Japan": "JPY", "Mexico": "MXN",
    "New Zealand": "NZD", "Norway": "NOK", "Singapore": "SGD", "South Africa": "ZAR",
    "South Korea": "KRW", "Sweden": "SEK", "Switzerland": "CHF", "United Kingdom": "GBP",
}  # fmt: skip
"""FRED country names -> ISO 4217 codes known to fedcarbon's unit registry."""


def cpi_rows(path: Path) -> list[dict[str, str]]:
    months: dict[int, list[float]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            months[int(row["Date"][:4])].append(float(row["Index"]))
    return [
        {
            "year": str(year),
            "index": f"{sum(values) / 12:.3f}",
            "source": "BLS CPI-U CUUR0000SA0, annual average of 12 monthly indexes",
        }
        for year, values in sorted(months.items())
        if year >= FIRST_YEAR and len(values) == 12
    ]


def fx_rows(annual: Path, monthly: Path) -> list[dict[str, str]]:
    rates: dict[tuple[str, int], tuple[float, str]] = {}
    with annual.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code, value = CURRENCY_OF.get(row["Country"]), row["Exchange rate"].strip()
            year = int(row["Date"][:4])
            if code and value and year >= FIRST_YEAR:
                rates[(code, year)] = (float(value), "Federal Reserve G.5A annual average (FRED)")
    by_month: dict[int, list[float]] = defaultdict(list)
    with monthly.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["Country"] == "United Kingdom" and row["Exchange rate"].strip():
                by_month[int(row["Date"][:4])].append(float(row["Exchange rate"]))
    for year, values in by_month.items():
        if year >= FIRST_YEAR and len(values) == 12:
            rates[("GBP", year)] = (
                sum(values) / 12,
                "Federal Reserve H.10 EXUSUK, mean of 12 monthly averages (FRED)",
            )
    last_cpi_year = max(year for _, year in rates)
    return [
        {"year": str(year), "currency": code, "per_usd": f"{rate:.6g}", "source": source}
        for (code, year), (rate, source) in sorted(rates.items(), key=lambda i: (i[0][1], i[0][0]))
        if year <= last_cpi_year
    ]


def write(rows: list[dict[str, str]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    out = Path(argv[4]) if len(argv) > 4 else DEFAULT_OUT
    cpi = cpi_rows(Path(argv[1]))
    years = {row["year"] for row in cpi}
    fx = [row for row in fx_rows(Path(argv[2]), Path(argv[3])) if row["year"] in years]
    write(cpi, out / "us_cpi_u.csv")
    write(fx, out / "exchange_rates.csv")
    print(f"{len(cpi)} CPI years, {len(fx)} exchange rates -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
