"""Source-stream emissions: calculation-based formulas, mass balance, biomass, bad factors."""

import pytest

from fedcarbon.cbam.emissions import (
    CO2_PER_CARBON,
    Method,
    SourceStream,
    stream_emissions,
    validate_stream,
)
from fedcarbon.cbam.errors import CalculationError


def _stream(**kw: object) -> SourceStream:
    base: dict[str, object] = {"name": "s", "method": Method.COMBUSTION, "shares": {"p": 1.0}}
    return SourceStream(**(base | kw))  # type: ignore[arg-type]


def test_combustion_is_ad_times_ncv_times_ef_times_oxf() -> None:
    stream = _stream(
        activity_data=1000, net_calorific_value=25.0, emission_factor=0.0946, oxidation_factor=0.99
    )
    assert stream_emissions(stream).value == pytest.approx(1000 * 25.0 * 0.0946 * 0.99)


def test_biomass_fraction_is_zero_rated() -> None:
    stream = _stream(
        activity_data=100, net_calorific_value=10, emission_factor=0.1, biomass_fraction=0.4
    )
    assert stream_emissions(stream).value == pytest.approx(100 * 10 * 0.1 * 0.6)


def test_process_emissions_use_conversion_factor() -> None:
    stream = _stream(
        method=Method.PROCESS, activity_data=200, emission_factor=0.44, conversion_factor=0.98
    )
    assert stream_emissions(stream).value == pytest.approx(200 * 0.44 * 0.98)


def test_mass_balance_uses_3_664_and_subtracts_outputs() -> None:
    coke = _stream(method=Method.MASS_BALANCE, activity_data=100, carbon_content=0.85)
    steel = _stream(
        method=Method.MASS_BALANCE, activity_data=1000, carbon_content=0.002, output=True
    )
    assert CO2_PER_CARBON == 3.664
    assert stream_emissions(coke).value + stream_emissions(steel).value == pytest.approx(
        3.664 * (100 * 0.85 - 1000 * 0.002)
    )


def test_formula_shows_the_numbers_that_entered() -> None:
    figure = stream_emissions(_stream(activity_data=10, net_calorific_value=2, emission_factor=0.5))
    assert "10 x 2 x 0.5 x 1" in figure.formula and figure.source.startswith("Implementing")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("activity_data", -1.0, "activity_data"),
        ("activity_data", float("nan"), "activity_data"),
        ("biomass_fraction", 1.5, "biomass_fraction"),
        ("oxidation_factor", 2.0, "oxidation_factor"),
        ("shares", {"p": 0.5}, "add up"),
        ("shares", {"nowhere": 1.0}, "nowhere"),
    ],
)
def test_impossible_inputs_are_refused_naming_the_field(
    field: str, value: object, message: str
) -> None:
    stream = _stream(**{"net_calorific_value": 1.0, field: value})
    with pytest.raises(CalculationError, match=message):
        validate_stream(stream, {"p"}, "source_streams[s]")
