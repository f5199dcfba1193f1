"""Units: the pint registry reads accounting units, refuses ambiguous ones, converts exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedcarbon.accounting.errors import UnitConversionError, UnitError
from fedcarbon.accounting.units import conversion_factor, is_currency, is_mass, parse_unit


@pytest.mark.parametrize(
    ("source", "target", "factor"),
    [
        ("MWh", "kWh", 1000.0),
        ("GJ", "kWh", 277.777777777778),
        ("therm", "kWh", 29.3071111111111),  # EC therm, 105.505 585 MJ
        ("US_therm", "kWh", 29.3001111111111),  # US therm, 105.480 4 MJ
        ("gal", "L", 3.785411784),  # US gallon
        ("imperial_gallon", "L", 4.54609),
        ("m3", "L", 1000.0),
        ("t", "kg", 1000.0),
        ("tonne.km", "kg*km", 1000.0),
        ("tkm", "t*km", 1.0),
        ("passenger.km", "pkm", 1.0),
        ("MMBtu", "GJ", 1.055056),
        ("scf", "m**3", 0.028316846592),
    ],
)
def test_conversion_factor(source: str, target: str, factor: float) -> None:
    assert conversion_factor(source, target) == factor


def test_bare_ton_is_refused_as_ambiguous() -> None:
    with pytest.raises(UnitError, match="short ton"):
        parse_unit("ton")


@pytest.mark.parametrize("text", ["MBtu", "Mscf"])
def test_roman_thousand_prefixes_are_refused(text: str) -> None:
    with pytest.raises(UnitError, match="thousand"):
        parse_unit(text)


def test_wrong_case_unit_gets_a_suggestion() -> None:
    with pytest.raises(UnitError, match="did you mean 'kWh'"):
        parse_unit("kwh")


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(UnitError, match="'furlongs_per_fortnight2'"):
        parse_unit("furlongs_per_fortnight2")


def test_temperature_is_refused() -> None:
    with pytest.raises(UnitError, match="temperature"):
        parse_unit("degC")


def test_numeric_multiplier_is_refused() -> None:
    with pytest.raises(UnitError, match="multiplier"):
        parse_unit("1000 kWh")


def test_currencies_never_convert_into_each_other() -> None:
    with pytest.raises(UnitConversionError):
        conversion_factor("USD", "GBP")


def test_price_year_currency_is_its_own_dimension() -> None:
    with pytest.raises(UnitConversionError):
        conversion_factor("USD", "USD_2021")


def test_energy_does_not_convert_to_volume() -> None:
    with pytest.raises(UnitConversionError, match=r"'kWh'.*'L'"):
        conversion_factor("kWh", "L")


def test_passenger_km_does_not_convert_to_vehicle_km() -> None:
    with pytest.raises(UnitConversionError):
        conversion_factor("pkm", "vkm")


def test_currency_and_mass_are_recognised() -> None:
    assert (is_currency("EUR"), is_currency("kg"), is_mass("t"), is_mass("kWh")) == (
        True,
        False,
        True,
        False,
    )


_EQUIVALENT = [
    ("kWh", "MWh", "GJ", "therm", "Btu"),
    ("L", "m**3", "gal", "imperial_gallon"),
    ("kg", "t", "lb"),
    ("t*km", "kg*km", "tonne*mile"),
]


@given(
    group=st.sampled_from(_EQUIVALENT),
    data=st.data(),
)
def test_conversion_round_trip_is_identity(group: tuple[str, ...], data: st.DataObject) -> None:
    a = data.draw(st.sampled_from(group))
    b = data.draw(st.sampled_from(group))
    assert conversion_factor(a, b) * conversion_factor(b, a) == pytest.approx(1.0, rel=1e-13)


@given(group=st.sampled_from(_EQUIVALENT), data=st.data())
def test_conversion_is_transitive(group: tuple[str, ...], data: st.DataObject) -> None:
    a, b, c = (data.draw(st.sampled_from(group)) for _ in range(3))
    direct = conversion_factor(a, c)
    assert conversion_factor(a, b) * conversion_factor(b, c) == pytest.approx(direct, rel=1e-13)
