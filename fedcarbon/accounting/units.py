"""Units of activity data, read and converted by pint so a kWh is never mistaken for a MWh.

One shared pint registry extends pint's defaults with the units carbon accounting needs:

- energy: pint's own ``kWh``, ``MWh``, ``GJ``, ``Btu``, and ``MMBtu`` (million Btu). ``MBtu``
  and ``Mscf`` are refused: pint would read M as mega, US practice means a thousand.
  ``therm`` is the **EC therm** (100,000 Btu = 105.505 585 MJ), the therm UK gas bills and the
  DESNZ factors use; the US legal therm (105.480 4 MJ) is ``US_therm``. The two differ by
  0.02 %, so write the one on the invoice.
- volume: ``scf`` (standard cubic foot of gas, taken as one cubic foot), ``m**3`` (also
  ``m3``), ``L``/``litre``/``liter``; ``gal`` and ``gallon`` are the **US** liquid gallon
  (3.785 411 784 L); the imperial gallon is ``imperial_gallon``.
- mass: ``kg``, ``t`` / ``tonne`` (1,000 kg). Bare ``ton`` is refused as ambiguous (pint reads it
  as a 907 kg short ton); write ``tonne``, ``short_ton`` or ``long_ton``.
- transport and travel: ``tonne*km`` (``tkm``), ``passenger*km`` (``pkm``), ``vehicle*km``
  (``vkm``), ``room_night`` (hotel stays). ``passenger``, ``vehicle`` and ``room_night`` are
  dimensions of their own, so a passenger-km never converts into a vehicle-km.
- money: ISO 4217 codes (``USD``, ``GBP``, ``EUR`` ...), each **its own dimension**: spend never
  converts between currencies silently, since the exchange rate and price year are an
  accounting choice the user must make and state. ``USD_2021`` style codes (currency at a price
  year) are further dimensions of their own, created on first use.
- items: ``piece`` (``pcs``, ``item``) for counted products.

Conversion factors are rounded to 15 significant digits so that decimal unit steps stay exact
(1 MWh is exactly 1000 kWh, not 1000.0000000000001), which keeps results independent of the
unit a quantity was written in.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pint

from fedcarbon.accounting.errors import UnitConversionError, UnitError

CURRENCIES: tuple[str, ...] = (
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "CNY",
    "CAD",
    "AUD",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "HUF",
    "INR",
    "BRL",
    "MXN",
    "ZAR",
    "KRW",
    "SGD",
    "HKD",
    "NZD",
    "TRY",
)
"""ISO 4217 currency codes known as units; each one is a separate pint dimension."""

_AMBIGUOUS = {
    "ton": "pint reads 'ton' as a US short ton (907.18 kg); write 'tonne' (1000 kg), "
    "'short_ton' or 'long_ton'",
    "tons": "write 'tonne' (1000 kg), 'short_ton' or 'long_ton'",
    "MBtu": "pint would read M as mega; in US usage MBtu is a thousand Btu - write 'kBtu' or "
    "'MMBtu' (million Btu)",
    "Mscf": "pint would read M as mega; in US usage Mscf is a thousand scf - write 'kscf'",
    "MMscf": "write the quantity in 'scf' or 'kscf'",
}

_COMMON_UNITS = (
    "kWh", "MWh", "GWh", "Wh", "kJ", "MJ", "GJ", "TJ", "therm", "MMBtu", "kg", "g", "t", "L",
    "mL", "m**3", "gal", "scf", "km", "mi", "USD", "GBP", "EUR",
)  # fmt: skip
_BY_LOWER = {unit.lower(): unit for unit in _COMMON_UNITS}

_CURRENCY_YEAR_RE = re.compile(r"\b([A-Z]{3})_((?:19|20)\d\d)\b")
_DOTTED_PRODUCT_RE = re.compile(r"(?<=[A-Za-z])\.(?=[A-Za-z])")
_POWER_SUFFIX_RE = re.compile(r"\b(m|cm|mm|km|ft)([23])\b")

_registry: Any = None


def registry() -> Any:
    """The shared pint registry (built once; pint's own defaults plus the units above)."""
    global _registry
    if _registry is None:
        ureg: Any = pint.UnitRegistry(
            preprocessors=[
                lambda s: _DOTTED_PRODUCT_RE.sub("*", s),  # DESNZ writes 'tonne.km'
                lambda s: _POWER_SUFFIX_RE.sub(r"\1**\2", s),  # 'm3' -> 'm**3'
            ]
        )
        for code in CURRENCIES:
            ureg.define(f"{code} = [currency_{code}]")
        ureg.define("passenger = [passenger]")
        ureg.define("vehicle = [vehicle]")
        ureg.define("room_night = [room_night]")
        ureg.define("piece = [piece] = pcs = item")
        ureg.define("tkm = tonne * kilometer")
        ureg.define("pkm = passenger * kilometer")
        ureg.define("vkm = vehicle * kilometer")
        ureg.define("MMBtu = 1e6 * Btu = mmBtu = MMBTU")  # million Btu, US energy statistics
        ureg.define("scf = foot ** 3")  # standard cubic foot of gas (volume at standard state)
        _registry = ureg
    return _registry


def _define_price_year_currencies(text: str) -> None:
    ureg = registry()
    for code, year in _CURRENCY_YEAR_RE.findall(text):
        name = f"{code}_{year}"
        if code in CURRENCIES and name not in ureg:
            ureg.define(f"{name} = [currency_{code}_{year}]")


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> Any:
    """Parse a unit string into a pint unit, refusing ambiguous and offset (temperature) units.

    Raises:
        UnitError: the text is not a unit pint knows, is ambiguous, or has a scale offset.
    """
    stripped = text.strip()
    if not stripped:
        raise UnitError(text, "is empty")
    for word in re.findall(r"[A-Za-z_]+", stripped):
        if word in _AMBIGUOUS:
            raise UnitError(text, _AMBIGUOUS[word])
    _define_price_year_currencies(stripped)
    ureg = registry()
    try:
        quantity = ureg.parse_expression(stripped)
    except (pint.errors.PintError, SyntaxError, TypeError, ValueError, AttributeError) as exc:
        hint = _BY_LOWER.get(stripped.lower().rstrip("s"))
        suggestion = f"; did you mean {hint!r}?" if hint else ""
        raise UnitError(text, f"not a unit pint can read ({exc}){suggestion}") from None
    if not isinstance(quantity, ureg.Quantity):
        raise UnitError(text, "is a bare number, not a unit")
    if quantity.magnitude != 1:
        raise UnitError(text, "has a numeric multiplier; put the number in the quantity")
    if "[temperature]" in str(quantity.dimensionality):
        raise UnitError(text, "temperatures cannot scale an emission factor")
    return quantity.units


def _round15(value: float) -> float:
    return float(f"{value:.15g}")


@lru_cache(maxsize=16384)
def conversion_factor(from_unit: str, to_unit: str) -> float:
    """How many ``to_unit`` one ``from_unit`` is (e.g. MWh -> kWh gives 1000.0).

    Raises:
        UnitError: either unit cannot be parsed.
        UnitConversionError: the units have different dimensions (kWh against litres, USD
            against GBP).
    """
    source = parse_unit(from_unit)
    target = parse_unit(to_unit)
    if source.dimensionality != target.dimensionality:
        raise UnitConversionError(from_unit, to_unit)
    ureg = registry()
    return _round15(float(ureg.Quantity(1.0, source).to(target).magnitude))


def is_currency(unit: str) -> bool:
    """True when the unit is money (any currency, possibly at a price year)."""
    dims = parse_unit(unit).dimensionality
    return len(dims) == 1 and next(iter(dims)).startswith("[currency_")


def is_mass(unit: str) -> bool:
    """True when the unit is a plain mass (kg, t, lb ...), e.g. for gas releases."""
    return bool(parse_unit(unit).dimensionality == registry().kilogram.dimensionality)


def dimension_of(unit: str) -> str:
    """A readable dimension such as ``[length] ** 2 * [mass] / [time] ** 2`` for messages."""
    return str(parse_unit(unit).dimensionality)
