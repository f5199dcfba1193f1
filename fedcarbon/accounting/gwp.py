"""100-year global warming potentials (GWP100): the weights that turn kg of a gas into kg CO2e.

Values are those of the GHG Protocol "Global Warming Potential Values" table (version 2.0,
August 2024), which reproduces IPCC AR5 WGI Table 8.A.1 (without climate-carbon feedbacks) and
IPCC AR6 WGI Table 7.15 / Table 7.SM.7; AR4 values are IPCC AR4 WGI ch. 2 Table 2.14 (100-year
column) as the 2016 edition of the GHG Protocol table lists them, kept to reproduce figures
published with AR4 (the US EPA supply-chain factors' CO2e, older inventories). The AR5 column is
also the one the UK DESNZ 2023 conversion factors use (their "Refrigerant & other" rows list
CH4 28, N2O 265, HFC-134a 1300).

Methane: AR5 and AR6 give a higher value for fossil methane because its carbon ends up as
fossil CO2 (AR4 gives one value, 25, for both). ``"CH4"`` here means the non-fossil value
(AR6 27.0, AR5 28), which the GHG Protocol applies to combustion, waste and agriculture;
``"CH4_fossil"`` (AR6 29.8, AR5 30) is for fugitive fossil methane (gas leaks, coal mines), and
the engine uses it for a ``release.CH4`` record. Combustion factors report CH4 per unit of fuel
already separate from the CO2, so using the fossil value there would count the oxidised carbon
twice.

Refrigerant blends are not in the IPCC tables: their GWP is the mass-weighted sum of their
components' GWPs (the GHG Protocol / IPCC 2006 GL Vol 3 ch. 7 convention), with compositions
from ANSI/ASHRAE Standard 34 (refrigerant designations and safety classification).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from fedcarbon.accounting.errors import UnknownGasError, UnknownGwpSetError

GWP_SETS: tuple[str, ...] = ("AR6", "AR5", "AR4")
DEFAULT_GWP = "AR6"  # GHG Protocol recommends the latest IPCC assessment (AR6, 2021).

# gas -> (AR4, AR5, AR6). AR4: IPCC AR4 WGI ch. 2 Table 2.14, 100-year (as tabulated by the
# GHG Protocol, "Global Warming Potential Values", 2016). AR5: IPCC AR5 WGI Table 8.A.1 (no
# climate-carbon feedback), pp. 731-737.
# AR6: IPCC AR6 WGI ch. 7 Table 7.15 (CO2, CH4, N2O) and Table 7.SM.7 (halogenated gases).
# None means the GHG Protocol table gives no value for that report.
_GwpRow = tuple[float | None, float | None, float | None]
_TABLE: dict[str, _GwpRow] = {
    "CO2": (1.0, 1.0, 1.0),
    "CH4": (25.0, 28.0, 27.0),  # non-fossil (biogenic) methane; see module docstring
    "CH4_non_fossil": (25.0, 28.0, 27.0),
    "CH4_fossil": (25.0, 30.0, 29.8),
    "N2O": (298.0, 265.0, 273.0),
    "SF6": (22800.0, 23500.0, 25200.0),
    "NF3": (17200.0, 16100.0, 17400.0),
    "SF5CF3": (17700.0, 17400.0, 18500.0),
    # Hydrofluorocarbons
    "HFC-23": (14800.0, 12400.0, 14600.0),
    "HFC-32": (675.0, 677.0, 771.0),
    "HFC-41": (None, 116.0, 135.0),
    "HFC-125": (3500.0, 3170.0, 3740.0),
    "HFC-134": (None, 1120.0, 1260.0),
    "HFC-134a": (1430.0, 1300.0, 1530.0),
    "HFC-143": (None, 328.0, 364.0),
    "HFC-143a": (4470.0, 4800.0, 5810.0),
    "HFC-152": (None, 16.0, 21.5),
    "HFC-152a": (124.0, 138.0, 164.0),
    "HFC-161": (None, 4.0, 4.84),
    "HFC-227ea": (3220.0, 3350.0, 3600.0),
    "HFC-236cb": (None, 1210.0, 1350.0),
    "HFC-236ea": (None, 1330.0, None),  # AR6 value not transcribed here (unverified); AR5 only
    "HFC-236fa": (9810.0, 8060.0, 8690.0),
    "HFC-245ca": (None, 716.0, 787.0),
    "HFC-245fa": (1030.0, 858.0, 962.0),
    "HFC-365mfc": (794.0, 804.0, 914.0),
    "HFC-43-10mee": (1640.0, 1650.0, 1600.0),
    # Perfluorocarbons
    "PFC-14": (7390.0, 6630.0, 7380.0),  # CF4
    "PFC-116": (12200.0, 11100.0, 12400.0),  # C2F6
    "PFC-218": (8830.0, 8900.0, 9290.0),  # C3F8
    "PFC-318": (10300.0, 9540.0, 10200.0),  # c-C4F8
    "PFC-31-10": (8860.0, 9200.0, 10000.0),  # C4F10
    "PFC-41-12": (9160.0, 8550.0, 9220.0),  # C5F12
    "PFC-51-14": (9300.0, 7910.0, 8620.0),  # C6F14
    "PFC-91-18": (None, 7190.0, 7480.0),  # C10F18
}

# Refrigerant blends: component mass fractions (ANSI/ASHRAE Standard 34). Only blends whose
# every component has a GWP in the table above are listed, so nothing is silently dropped.
BLENDS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "R-404A": MappingProxyType({"HFC-125": 0.44, "HFC-143a": 0.52, "HFC-134a": 0.04}),
        "R-407A": MappingProxyType({"HFC-32": 0.20, "HFC-125": 0.40, "HFC-134a": 0.40}),
        "R-407B": MappingProxyType({"HFC-32": 0.10, "HFC-125": 0.70, "HFC-134a": 0.20}),
        "R-407C": MappingProxyType({"HFC-32": 0.23, "HFC-125": 0.25, "HFC-134a": 0.52}),
        "R-407F": MappingProxyType({"HFC-32": 0.30, "HFC-125": 0.30, "HFC-134a": 0.40}),
        "R-410A": MappingProxyType({"HFC-32": 0.50, "HFC-125": 0.50}),
        "R-410B": MappingProxyType({"HFC-32": 0.45, "HFC-125": 0.55}),
        "R-507A": MappingProxyType({"HFC-125": 0.50, "HFC-143a": 0.50}),
        "R-508B": MappingProxyType({"HFC-23": 0.46, "PFC-116": 0.54}),
    }
)

# Single-component refrigerant numbers (ASHRAE 34) that are names for table gases.
_REFRIGERANT_ALIASES: dict[str, str] = {
    "R-23": "HFC-23",
    "R-32": "HFC-32",
    "R-41": "HFC-41",
    "R-125": "HFC-125",
    "R-134": "HFC-134",
    "R-134a": "HFC-134a",
    "R-143a": "HFC-143a",
    "R-152a": "HFC-152a",
    "R-227ea": "HFC-227ea",
    "R-236fa": "HFC-236fa",
    "R-245fa": "HFC-245fa",
    "R-14": "PFC-14",
    "R-116": "PFC-116",
    "R-218": "PFC-218",
    "R-C318": "PFC-318",
    "R-744": "CO2",
}


def _key(name: str) -> str:
    """Spelling-insensitive key: 'HFC-134a', 'hfc134a', 'R410A' and 'R-410A' compare equal."""
    return re.sub(r"[^A-Z0-9]", "", name.upper())


_CANONICAL: dict[str, str] = {_key(g): g for g in (*_TABLE, *BLENDS)}
_CANONICAL.update({_key(alias): gas for alias, gas in _REFRIGERANT_ALIASES.items()})
_CANONICAL[_key("CH4_biogenic")] = "CH4_non_fossil"
_CANONICAL[_key("HFC-4310mee")] = "HFC-43-10mee"


def canonical_gas(name: str) -> str:
    """Return the table's spelling of ``name`` (e.g. ``"R410A"`` -> ``"R-410A"``).

    Raises:
        UnknownGasError: the name is neither a table gas, a refrigerant alias nor a blend.
    """
    try:
        return _CANONICAL[_key(name)]
    except KeyError:
        raise UnknownGasError(name) from None


def known_gases() -> tuple[str, ...]:
    """All canonical gas and blend names, table gases first."""
    return (*_TABLE, *BLENDS)


def _basis_index(basis: str) -> int:
    if basis not in GWP_SETS:
        raise UnknownGwpSetError(basis, GWP_SETS)
    return ("AR4", "AR5", "AR6").index(basis)


def gwp100(gas: str, basis: str = DEFAULT_GWP) -> float:
    """GWP100 of one kg of ``gas`` relative to one kg of CO2, in the chosen IPCC assessment.

    A blend's GWP is sum(mass fraction_i * GWP_i) over its components (see ``BLENDS``).

    Raises:
        UnknownGasError: unknown gas, or no value for the gas in that set.
        UnknownGwpSetError: ``basis`` is not one of ``GWP_SETS``.
    """
    index = _basis_index(basis)
    name = canonical_gas(gas)
    blend = BLENDS.get(name)
    if blend is not None:
        return blend_gwp100(blend, basis)
    value = _TABLE[name][index]
    if value is None:
        raise UnknownGasError(name, basis)
    return value


def blend_gwp100(mass_fractions: Mapping[str, float], basis: str = DEFAULT_GWP) -> float:
    """Mass-weighted GWP100 of a mixture: sum(w_i * GWP_i); fractions must sum to 1."""
    total = sum(mass_fractions.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"blend mass fractions sum to {total}, not 1")
    return sum(w * gwp100(component, basis) for component, w in mass_fractions.items())


def co2e_kg(gas_kg: Mapping[str, float], basis: str = DEFAULT_GWP) -> float:
    """Sum of kg of each gas times its GWP100; the key ``"CO2e"`` is taken as already CO2e."""
    total = 0.0
    for gas, kg in gas_kg.items():
        total += kg if gas == "CO2e" else kg * gwp100(gas, basis)
    return total
