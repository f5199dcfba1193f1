"""Fuel densities, so a volume of fuel can use a factor published per mass or per energy.

The IPCC 2006 default factors (``ipcc_2006.csv``, the fallback outside the UK) are given per TJ
(net calorific value) and per tonne (through the default NCV of Vol 2 ch. 1 Table 1.2), never
per litre or cubic metre. A record in litres or m3 therefore needs the fuel's density to reach
the per-tonne factor; NCVs are already in that per-tonne row.

The IPCC Guidelines give no default densities, so the density is the one behind the UK DESNZ
2023 conversion factors (their "Fuel properties"): DESNZ derive each per-litre / per-m3 factor
from the per-tonne one with the fuel's density, so density = (kg CO2 per volume) / (kg CO2 per
tonne) x 1000 kg/t, computed from the two published rows of the built-in ``desnz-2023`` dataset.
These are UK fuel-market densities (diesel with its average biofuel blend, gas at 15 degC and
1013.25 mbar); a record using one carries the flag ``fuel-density:<source>`` so it is disclosed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from fedcarbon.accounting.errors import UnitError
from fedcarbon.accounting.units import conversion_factor, dimension_of

DENSITY_DATASET = "desnz-2023"
"""The built-in dataset whose per-volume and per-mass rows give the density."""


@dataclass(frozen=True)
class FuelDensity:
    """kg of fuel per m3, and where that figure comes from (``dataset@version:activity``)."""

    activity: str
    kg_per_m3: float
    source: str


def is_volume(unit: str) -> bool:
    """True when ``unit`` is a volume (L, m3, gal, scf ...)."""
    try:
        return dimension_of(unit) == dimension_of("m**3")
    except UnitError:
        return False


def _is_mass(unit: str) -> bool:
    try:
        return dimension_of(unit) == dimension_of("kg")
    except UnitError:
        return False


@functools.cache
def fuel_density(activity: str) -> FuelDensity | None:
    """The density of the fuel of ``activity`` from DESNZ 2023, or None when DESNZ has none.

    Both rows must be the same fuel in the same region (GB) and have CO2; the ratio of CO2
    per volume to CO2 per mass is the mass per volume.
    """
    from fedcarbon.accounting.factors import FactorCatalog

    rows = [
        f
        for f in FactorCatalog.default()
        if f.dataset == DENSITY_DATASET and f.activity == activity and f.gases.get("CO2")
    ]
    per_volume = next((f for f in rows if is_volume(f.unit)), None)
    per_mass = next((f for f in rows if _is_mass(f.unit)), None)
    if per_volume is None or per_mass is None:
        return None
    co2_per_m3 = per_volume.gases["CO2"] / conversion_factor(per_volume.unit, "m**3")
    co2_per_kg = per_mass.gases["CO2"] / conversion_factor(per_mass.unit, "kg")
    return FuelDensity(
        activity=activity,
        kg_per_m3=co2_per_m3 / co2_per_kg,
        source=f"{per_volume.dataset}@{per_volume.dataset_version}:{activity}",
    )


def volume_to_mass(unit: str, activity: str) -> tuple[float, FuelDensity] | None:
    """kg per one ``unit`` of volume of the fuel, or None (not a volume, or no density)."""
    if not is_volume(unit):
        return None
    density = fuel_density(activity)
    if density is None:
        return None
    return conversion_factor(unit, "m**3") * density.kg_per_m3, density


__all__ = ["DENSITY_DATASET", "FuelDensity", "fuel_density", "is_volume", "volume_to_mass"]
