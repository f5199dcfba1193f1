"""Spend in any currency and year, converted to the currency and price year of a spend factor.

Spend-based factors are kg per unit of one currency at one price year (the US EPA supply-chain
factors: kg per **2021** US dollar, purchaser price). A purchase of EUR 1,000 in 2024 is first
turned into US dollars at the 2024 annual average exchange rate, then deflated to 2021 prices
with the US consumer price index:

    USD_2021 = EUR_2024 / (EUR per USD, 2024) x CPI(2021) / CPI(2024)

(GHG Protocol Technical Guidance for Calculating Scope 3 Emissions, 2013, category 1
spend-based method: "adjust for inflation" and convert currencies to those of the EEIO model;
US EPA, Supply Chain GHG Emission Factors v1.2 documentation: factors are in 2021 USD and
spend in other years must be adjusted). CPI-U is a general price index: a commodity-specific
deflator (BEA gross-output price indexes) would be more exact per NAICS code, which is why
each conversion is flagged on the result.

The tables ship in ``data/money/us_cpi_u.csv`` and ``data/money/exchange_rates.csv`` (derived by
``scripts/derive_money.py`` from BLS CPI-U and Federal Reserve H.10/G.5A rates; public
domain, see ``data/LICENCES.md``). Units: ``USD``, ``EUR`` ... are money of the record's own
year (the price year is then *assumed* and flagged ``spend:price-year-assumed:<year>``);
``EUR_2023`` states the price year explicitly.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from fedcarbon.accounting.errors import MoneyConversionError
from fedcarbon.accounting.units import is_currency

CPI_FILE = "us_cpi_u.csv"
FX_FILE = "exchange_rates.csv"


@dataclass(frozen=True)
class Money:
    """A currency and, when the unit states it, its price year (``EUR_2023``)."""

    code: str
    year: int | None


def parse_money(unit: str) -> Money | None:
    """The currency and price year of a money unit, or None when the unit is not money."""
    text = unit.strip()
    if not is_currency(text):
        return None
    code, _, year = text.partition("_")
    return Money(code, int(year) if year else None)


def _data(name: str) -> list[dict[str, str]]:
    text = resources.files("fedcarbon.accounting.data.money").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def price_index() -> Mapping[int, float]:
    """US CPI-U annual averages (1982-84 = 100) by year."""
    return {int(r["year"]): float(r["index"]) for r in _data(CPI_FILE)}


@functools.cache
def exchange_rates() -> Mapping[tuple[str, int], float]:
    """Annual average units of a currency per US dollar, by (currency, year); USD is 1."""
    rates = {(r["currency"], int(r["year"])): float(r["per_usd"]) for r in _data(FX_FILE)}
    rates.update({("USD", year): 1.0 for year in price_index()})
    return rates


def _cpi(year: int) -> float:
    table = price_index()
    if year not in table:
        raise MoneyConversionError(
            f"no US CPI-U annual average for {year} in the shipped table "
            f"({min(table)}-{max(table)}); state the price year in the unit (e.g. USD_{max(table)})"
        )
    return table[year]


def _per_usd(code: str, year: int) -> float:
    rate = exchange_rates().get((code, year))
    if rate is None:
        known = sorted({c for c, _ in exchange_rates()})
        raise MoneyConversionError(
            f"no annual exchange rate for {code} in {year} in the shipped table (currencies: "
            f"{', '.join(known)}; years {min(price_index())}-{max(price_index())}); convert "
            "the amount yourself and give it in one of them"
        )
    return rate


def spend_conversion(
    from_unit: str, to_unit: str, spend_year: int
) -> tuple[float, tuple[str, ...]]:
    """How many ``to_unit`` one ``from_unit`` of spend in ``spend_year`` is, and the flags.

    Raises:
        MoneyConversionError: a unit that is not money, a factor without a price year, or a
            year or currency the shipped tables do not have.
    """
    source, target = parse_money(from_unit), parse_money(to_unit)
    if source is None or target is None:
        raise MoneyConversionError(f"{from_unit!r} -> {to_unit!r} is not a conversion of money")
    if target.year is None:
        raise MoneyConversionError(
            f"the factor's unit {to_unit!r} has no price year, so spend in {from_unit!r} "
            f"cannot be converted to it; give the spend in {to_unit}"
        )
    flags: list[str] = []
    year = source.year
    if year is None:
        year = spend_year
        flags.append(f"spend:price-year-assumed:{year}")
    usd = 1.0 / _per_usd(source.code, year)
    usd_then = usd * _cpi(target.year) / _cpi(year)
    factor = usd_then * _per_usd(target.code, target.year)
    flags.append(f"spend:converted:{source.code}_{year}->{target.code}_{target.year}")
    return factor, tuple(flags)


__all__ = ["Money", "exchange_rates", "parse_money", "price_index", "spend_conversion"]
