"""GWP100 tables and blends (fedcarbon.accounting.gwp).

Expected values are those of the GHG Protocol "Global Warming Potential Values" table
(v2.0, August 2024): AR5 = IPCC AR5 WGI Table 8.A.1, AR6 = IPCC AR6 WGI Table 7.15/7.SM.7.
The AR5 column is also cross-checked against the DESNZ 2023 flat file's "Kyoto protocol
products" rows in test_datasets.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedcarbon.accounting.errors import UnknownGasError, UnknownGwpSetError
from fedcarbon.accounting.gwp import (
    BLENDS,
    DEFAULT_GWP,
    GWP_SETS,
    blend_gwp100,
    canonical_gas,
    co2e_kg,
    gwp100,
)

PUBLISHED = [
    # gas, AR5, AR6
    ("CO2", 1, 1),
    ("CH4", 28, 27.0),
    ("CH4_non_fossil", 28, 27.0),
    ("CH4_fossil", 30, 29.8),
    ("N2O", 265, 273),
    ("SF6", 23500, 25200),
    ("NF3", 16100, 17400),
    ("HFC-23", 12400, 14600),
    ("HFC-32", 677, 771),
    ("HFC-125", 3170, 3740),
    ("HFC-134a", 1300, 1530),
    ("HFC-143a", 4800, 5810),
    ("HFC-152a", 138, 164),
    ("HFC-227ea", 3350, 3600),
    ("HFC-245fa", 858, 962),
    ("HFC-365mfc", 804, 914),
    ("HFC-43-10mee", 1650, 1600),
    ("PFC-14", 6630, 7380),
    ("PFC-116", 11100, 12400),
    ("PFC-218", 8900, 9290),
    ("PFC-318", 9540, 10200),
]


@pytest.mark.parametrize(("gas", "ar5", "ar6"), PUBLISHED)
def test_gwp100_equals_published_ar5_value(gas: str, ar5: float, ar6: float) -> None:
    assert gwp100(gas, "AR5") == ar5


@pytest.mark.parametrize(("gas", "ar5", "ar6"), PUBLISHED)
def test_gwp100_equals_published_ar6_value(gas: str, ar5: float, ar6: float) -> None:
    assert gwp100(gas, "AR6") == ar6


def test_default_gwp_set_is_ar6() -> None:
    assert DEFAULT_GWP == "AR6" and gwp100("N2O") == 273


def test_gwp_sets_are_ar6_ar5_and_ar4() -> None:
    assert GWP_SETS == ("AR6", "AR5", "AR4")


@pytest.mark.parametrize(
    ("blend", "ar5"),
    # DESNZ 2023 "Blends" rows (AR5, rounded to whole kg CO2e by DESNZ)
    [("R-404A", 3943), ("R-407C", 1624), ("R-410A", 1924)],
)
def test_blend_gwp_matches_desnz_published_ar5(blend: str, ar5: float) -> None:
    assert gwp100(blend, "AR5") == pytest.approx(ar5, abs=0.5)


def test_r410a_ar6_is_half_hfc32_half_hfc125() -> None:
    assert gwp100("R-410A", "AR6") == pytest.approx(0.5 * 771 + 0.5 * 3740)


def test_single_component_refrigerant_number_is_its_gas() -> None:
    assert gwp100("R-32", "AR6") == gwp100("HFC-32", "AR6")


@pytest.mark.parametrize("spelling", ["R410A", "r-410a", "R 410A", "R-410A"])
def test_canonical_gas_accepts_common_spellings(spelling: str) -> None:
    assert canonical_gas(spelling) == "R-410A"


def test_every_blend_has_fractions_summing_to_one() -> None:
    assert all(abs(sum(f.values()) - 1.0) < 1e-9 for f in BLENDS.values())


@st.composite
def _mixtures(draw: st.DrawFn) -> dict[str, float]:
    gases = draw(
        st.lists(
            st.sampled_from(["HFC-32", "HFC-125", "HFC-134a", "HFC-143a", "PFC-116", "HFC-23"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    weights = draw(
        st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=len(gases), max_size=len(gases))
    )
    total = sum(weights)
    return {g: w / total for g, w in zip(gases, weights, strict=True)}


@given(mixture=_mixtures(), basis=st.sampled_from(GWP_SETS))
def test_blend_gwp_is_mass_weighted_sum_of_components(
    mixture: dict[str, float], basis: str
) -> None:
    expected = sum(w * gwp100(g, basis) for g, w in mixture.items())
    assert blend_gwp100(mixture, basis) == pytest.approx(expected, rel=1e-12)


@given(kg=st.floats(min_value=0.0, max_value=1e6), blend=st.sampled_from(sorted(BLENDS)))
def test_co2e_of_a_blend_equals_co2e_of_its_components(kg: float, blend: str) -> None:
    components = {g: kg * w for g, w in BLENDS[blend].items()}
    assert co2e_kg({blend: kg}) == pytest.approx(co2e_kg(components), rel=1e-9, abs=1e-9)


def test_co2e_kg_weights_each_gas() -> None:
    assert co2e_kg({"CO2": 2.0, "CH4": 1.0, "N2O": 1.0}, "AR5") == 2.0 + 28 + 265


def test_co2e_kg_takes_co2e_entries_as_already_weighted() -> None:
    assert co2e_kg({"CO2e": 5.0, "CO2": 1.0}, "AR6") == 6.0


def test_unknown_gas_raises_naming_the_gas() -> None:
    with pytest.raises(UnknownGasError, match="HFC-9999"):
        gwp100("HFC-9999")


def test_unknown_gwp_set_raises() -> None:
    with pytest.raises(UnknownGwpSetError, match="SAR"):
        gwp100("CO2", "SAR")


def test_gas_without_value_in_a_set_raises() -> None:
    with pytest.raises(UnknownGasError, match="HFC-236ea"):
        gwp100("HFC-236ea", "AR6")


def test_blend_fractions_not_summing_to_one_are_refused() -> None:
    with pytest.raises(ValueError, match="sum"):
        blend_gwp100({"HFC-32": 0.5, "HFC-125": 0.4})
