"""Derive fedcarbon's DESNZ 2023 factor dataset from the official flat file.

Source: UK Government GHG Conversion Factors for Company Reporting 2023, flat file v1.1
("ghg-conversion-factors-2023-flat-file-update.xlsx", sheet "Factors by Category"),
Department for Energy Security and Net Zero. Open Government Licence v3.0,
(c) Crown copyright 2023.

Each flat-file ID is ``<sheet>_<level>_<item>_<uom>_<ghg>``: the last part says which value the
row holds (1 = total kg CO2e, 2 = kg CO2e of CO2, 3 = of CH4, 4 = of N2O). One factor of ours
is one ID without its last part. DESNZ expresses every gas as kg CO2e with IPCC AR5 GWP100
values ("2023 Government greenhouse gas conversion factors for company reporting: Methodology
paper", DESNZ 2023, which follows the UK GHG inventory's AR5 basis). The values are checked
in the workbook itself: its "Refrigerant & other / Kyoto protocol products" rows give
Methane = 28 and Nitrous oxide = 265 kg CO2e per kg (AR5 WGI Table 8.A.1, no climate-carbon
feedback), and ``tests/unit/accounting/test_datasets.py`` asserts both. So the kg of each gas
is the CO2e value divided by that AR5 GWP; the DESNZ CO2e total is kept in ``co2e`` as a
cross-check. Biogenic CO2 of bioenergy comes from the
matching "Outside of scopes" row. Hotel stays keep DESNZ's country as the region (ISO
alpha-2; "UK (London)" is GB-LND). Refrigerants become ``{"<gas>": 1.0}`` per kg so the GWP the
user chose applies.

Usage:  python scripts/derive_desnz.py [FLAT_FILE.xlsx] [OUT.csv]
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from fedcarbon.accounting.factors import write_factor_rows

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared/data/desnz/ghg-conversion-factors-2023-flat-file-update.xlsx"
DEFAULT_OUT = REPO / "fedcarbon/accounting/data/desnz_2023.csv"
SHEET = "Factors by Category"

SOURCE = "DESNZ, UK Government GHG Conversion Factors for Company Reporting 2023 (flat file v1.1)"
LICENCE = "OGL-3.0"
YEAR = 2023
REGION = "GB"
AR5 = {"CO2": 1.0, "CH4": 28.0, "N2O": 265.0}  # GWP100 DESNZ 2023 uses (IPCC AR5)


UNITS = {
    "tonnes": "t",
    "litres": "L",
    "kWh (Net CV)": "kWh",
    "kWh (Gross CV)": "kWh",
    "kWh": "kWh",
    "cubic metres": "m**3",
    "GJ": "GJ",
    "kg": "kg",
    "km": "km",
    "passenger.km": "passenger*km",
    "tonne.km": "t*km",
    "Room per night": "room_night",
    "per FTE Working Hour": "hour",
}
"""DESNZ units of measure -> pint strings; others (miles, million litres) duplicate a kept unit."""

FUEL_ALIASES = {
    "natural_gas": "natural_gas",
    "natural_gas_100_mineral_blend": "natural_gas_mineral",
    "diesel_average_biofuel_blend": "diesel",
    "diesel_100_mineral_diesel": "diesel_mineral",
    "petrol_average_biofuel_blend": "petrol",
    "petrol_100_mineral_petrol": "petrol_mineral",
    "burning_oil": "kerosene",
    "aviation_turbine_fuel": "jet_kerosene",
    "coal_industrial": "coal_industrial",
    "coal_domestic": "coal_domestic",
    "coal_electricity_generation": "coal_electricity_generation",
    "processed_fuel_oils_residual_oil": "processed_fuel_oil_residual",
    "processed_fuel_oils_distillate_oil": "processed_fuel_oil_distillate",
}
MOBILE_FUELS = ("diesel", "diesel_mineral", "petrol", "petrol_mineral", "lpg", "cng", "lng")

AIR_HAUL = {
    "Domestic, to/from UK": "domestic",
    "Short-haul, to/from UK": "short_haul",
    "Long-haul, to/from UK": "long_haul",
    "International, to/from non-UK": "international",
}
SCOPE3_CATEGORY = {
    "WTT": "scope3.cat3",
    "Transmission and distribution": "scope3.cat3",
    "Water supply": "scope3.cat1",
    "Material use": "scope3.cat1",
    "Water treatment": "scope3.cat5",
    "Waste disposal": "scope3.cat5",
    "Business travel- air": "scope3.cat6",
    "Business travel- sea": "scope3.cat6",
    "Business travel- land": "scope3.cat6",
    "Hotel stay": "scope3.cat6",
    "Freighting goods": "scope3.cat4",
    "Homeworking": "scope3.cat7",
}


def slug(text: str | None) -> str:
    """Activity-code part: lower case, runs of other characters -> ``_``."""
    s = (text or "").lower().replace("&", "and").replace("%", "")
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")
    return s


@dataclass
class Group:
    """All rows of one DESNZ factor (one ID without its GHG suffix)."""

    ident: str
    scope: str
    level1: str
    level2: str
    level3: str
    level4: str
    column: str
    uom: str
    values: dict[int, float]


def read_groups(path: Path) -> list[Group]:
    """Rows of the flat file grouped by factor, in file order."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = workbook[SHEET]
    groups: dict[str, Group] = {}
    header_seen = False
    for row in sheet.iter_rows(values_only=True):
        if not header_seen:
            header_seen = row[0] == "ID"
            continue
        ident = row[0]
        if not isinstance(ident, str) or ident.count("_") != 4:
            continue
        base, ghg = ident.rsplit("_", 1)
        group = groups.get(base)
        if group is None:
            group = Group(
                ident=base,
                scope=str(row[1] or ""),
                level1=str(row[2] or ""),
                level2=str(row[3] or ""),
                level3=str(row[4] or ""),
                level4=str(row[5] or ""),
                column=str(row[6] or ""),
                uom=str(row[7] or ""),
                values={},
            )
            groups[base] = group
        if isinstance(row[9], int | float):
            group.values[int(ghg)] = float(row[9])
    workbook.close()
    return list(groups.values())


def _fuel_code(level3: str) -> str:
    name = slug(level3)
    return FUEL_ALIASES.get(name, name)


def _vehicle(group: Group) -> str:
    """Vehicle code part: ``car.<size>.<fuel>``, ``van.<class>.<fuel>``, ``hgv.<class>.<load>``."""
    l2 = group.level2.lower()
    size = slug(group.level3.replace(" car", "").replace("(up to 3.5 tonnes)", ""))
    detail = slug(group.column)
    if l2.startswith(("cars", "managed cars")):
        return f"car.{size}.{detail}"
    if "motorbike" in l2:
        return f"motorbike.{size}"
    if "van" in l2:
        return f"van.{size}.{detail}"
    kind = "hgv_refrigerated" if "refrigerated" in l2 else "hgv"
    size = slug(group.level3).replace("all_hgvs", "all")
    load = detail.replace("_laden", "")
    return f"{kind}.{size}.{'laden_' + load if load[:1].isdigit() else load}"


WTT_TRANSPORT = {
    # well-to-tank level 1 -> the level 1 of the direct factors it accompanies
    "WTT- business travel- air": "Business travel- air",
    "WTT- business travel- sea": "Business travel- sea",
    "WTT- pass vehs & travel- land": "Business travel- land",
    "WTT- delivery vehs & freight": "Freighting goods",
}
WTT_LEVEL2 = {
    "cars (by market segment)": "Cars (by market segment)",
    "cars (by size)": "Cars (by size)",
    "motorbike": "Motorbike",
    "taxis": "Taxis",
    "bus": "Bus",
    "rail": "Rail",
    "flights": "Flights",
    "ferry": "Ferry",
    "vans": "Vans",
    "hgv (all diesel)": "HGV (all diesel)",
    "hgv refrigerated (all diesel)": "HGV refrigerated (all diesel)",
    "freight flights": "Freight flights",
    "sea tanker": "Sea tanker",
    "cargo ship": "Cargo ship",
}


def _wtt_transport(group: Group) -> tuple[str, str, str] | None:
    """``wtt.<code>`` for the well-to-tank part of a travel or freight factor.

    The WTT rows repeat the direct rows' labels behind a "WTT- " prefix; mapping them back
    gives the same code as the direct factor, so ``travel.rail.national`` pairs with
    ``wtt.travel.rail.national``. The category is the direct factor's (cat 6 or cat 4).
    """
    level2 = WTT_LEVEL2.get(group.level2.removeprefix("WTT- ").lower())
    if level2 is None:
        return None
    direct = Group(
        ident=group.ident,
        scope=group.scope,
        level1=WTT_TRANSPORT[group.level1],
        level2=level2,
        level3=group.level3.strip(),
        level4=group.level4,
        column=group.column,
        uom=group.uom,
        values=group.values,
    )
    mapped = activity_code(direct)
    if mapped is None:
        return None
    code, _scope, category = mapped
    return f"wtt.{code}", "3", category


def activity_code(group: Group) -> tuple[str, str, str] | None:
    """(activity code, scope, category) for a group, or None when the group is not shipped."""
    l1, l2, l3 = group.level1, group.level2, group.level3
    gross = ".gross_cv" if group.uom == "kWh (Gross CV)" else ""
    if l1 == "Fuels":
        return f"fuel.{_fuel_code(l3)}{gross}", "1", "stationary"
    if l1 == "Bioenergy":
        return f"fuel.bio.{slug(l3)}", "1", "stationary"
    if l1 == "Passenger vehicles" or l1 == "Delivery vehicles":
        return f"vehicle.{_vehicle(group)}", "1", "mobile"
    if l1 == "UK electricity":
        return "electricity.grid", "2", "electricity"
    if l1 == "Heat and steam":
        return f"heat.{'district' if 'District' in l3 else 'onsite'}", "2", "heat"
    if l1 == "Transmission and distribution":
        code = "electricity.td_losses" if "electricity" in l2 else "heat.distribution_losses"
        return code, "3", "scope3.cat3"
    if l1 == "WTT- fuels":
        return f"wtt.fuel.{_fuel_code(l3)}{gross}", "3", "scope3.cat3"
    if l1 == "WTT- bioenergy":
        return f"wtt.fuel.bio.{slug(l3)}", "3", "scope3.cat3"
    if l1 == "WTT- UK electricity":
        return (
            ("wtt.electricity.td_losses" if "T&D" in l2 else "wtt.electricity.grid"),
            "3",
            ("scope3.cat3"),
        )
    if l1 == "WTT- heat and steam":
        if "distribution" in l2:
            code = "wtt.heat.distribution_losses"
        else:
            code = f"wtt.heat.{'district' if 'District' in l3 else 'onsite'}"
        return code, "3", "scope3.cat3"
    if l1 in WTT_TRANSPORT:
        return _wtt_transport(group)
    if l1 == "Water supply":
        return "water.supply", "3", "scope3.cat1"
    if l1 == "Water treatment":
        return "water.treatment", "3", "scope3.cat5"
    if l1 == "Material use":
        name = slug(l3.split(":", 1)[-1]) if ":" in l3 else slug(l3)
        prefix = slug(l3.split(":", 1)[0]) + "_" if ":" in l3 else ""
        variant = {
            "Primary material production": "",
            "Re-used": ".reused",
            "Open-loop source": ".open_loop",
            "Closed-loop source": ".closed_loop",
        }.get(group.column, "." + slug(group.column))
        return f"material.{prefix}{name}{variant}", "3", "scope3.cat1"
    if l1 == "Waste disposal":
        return f"waste.{slug(l3)}.{slug(group.column)}", "3", "scope3.cat5"
    if l1 == "Business travel- air":
        cabin = slug(group.level4.replace(" class", "")).replace("average_passenger", "average")
        rf = "" if group.column == "With RF" else ".no_rf"
        return f"travel.air.{AIR_HAUL[l3]}.{cabin}{rf}", "3", "scope3.cat6"
    if l1 == "Business travel- sea":
        return f"travel.ferry.{slug(l3.replace(' (all passenger)', ''))}", "3", "scope3.cat6"
    if l1 == "Business travel- land":
        if l2 in ("Taxis", "Bus", "Rail"):
            mode = {"Taxis": "taxi", "Bus": "bus", "Rail": "rail"}[l2]
            name = RAIL.get(l3, slug(l3))
            return f"travel.{mode}.{name}", "3", "scope3.cat6"
        return f"travel.{_vehicle(group)}", "3", "scope3.cat6"
    if l1 == "Freighting goods":
        if l2 == "Freight flights":
            rf = "" if group.column == "With RF" else ".no_rf"
            return f"freight.air.{AIR_HAUL[l3]}{rf}", "3", "scope3.cat4"
        if l2 == "Rail":
            return "freight.rail", "3", "scope3.cat4"
        if l2 in ("Sea tanker", "Cargo ship"):
            size = slug(group.level4)
            return f"freight.sea.{slug(l3)}.{size}", "3", "scope3.cat4"
        return f"freight.{_vehicle(group)}", "3", "scope3.cat4"
    if l1 == "Homeworking":
        name = "office_equipment_and_heating" if "+" in l2 else slug(l2)
        return f"homeworking.{name}", "3", "scope3.cat7"
    if l1 == "Hotel stay":
        return "travel.hotel", "3", "scope3.cat6"
    return None


RAIL = {
    "National rail": "national",
    "International rail": "international",
    "Light rail and tram": "light_rail_tram",
    "London Underground": "london_underground",
}

HOTEL_REGIONS = {
    # DESNZ "Hotel stay" country names -> ISO 3166 region ("UK (London)" -> GB-LND)
    "UK": "GB", "UK (London)": "GB-LND", "Argentina": "AR", "Australia": "AU",
    "Austria": "AT", "Belgium": "BE", "Brazil": "BR", "Canada": "CA", "Chile": "CL",
    "China": "CN", "Colombia": "CO", "Costa Rica": "CR", "Czech Republic": "CZ", "Egypt": "EG",
    "Fiji": "FJ", "Finland": "FI", "France": "FR", "Germany": "DE", "Greece": "GR",
    "Hong Kong, China": "HK", "India": "IN", "Indonesia": "ID", "Ireland": "IE", "Israel": "IL",
    "Italy": "IT", "Japan": "JP", "Jordan": "JO", "Kazakhstan": "KZ", "Korea": "KR",
    "Macau, China": "MO", "Malaysia": "MY", "Maldives": "MV", "Mexico": "MX",
    "Netherlands": "NL", "New Zealand": "NZ", "Oman": "OM", "Panama": "PA", "Peru": "PE",
    "Philippines": "PH", "Poland": "PL", "Portugal": "PT", "Qatar": "QA", "Romania": "RO",
    "Russian Federation": "RU", "Saudi Arabia": "SA", "Singapore": "SG", "South Africa": "ZA",
    "Spain": "ES", "Switzerland": "CH", "Taiwan, China": "TW", "Thailand": "TH", "Turkey": "TR",
    "United Arab Emirates": "AE", "United States": "US", "Vietnam": "VN",
}  # fmt: skip

ALIASES = {
    # short codes for the most used factors -> the full code they repeat
    "freight.hgv_diesel_average": "freight.hgv.all.average",
    "freight.hgv_refrigerated_average": "freight.hgv_refrigerated.all.average",
    "freight.van_average": "freight.van.average.diesel",
    "freight.sea_container": "freight.sea.container_ship.average",
    "freight.sea_tanker": "freight.sea.crude_tanker.average",
    "travel.car.average_petrol": "travel.car.average.petrol",
    "travel.car.average_diesel": "travel.car.average.diesel",
    "travel.car.average_unknown": "travel.car.average.unknown",
    "travel.air.short_haul_economy": "travel.air.short_haul.economy",
    "travel.air.long_haul_economy": "travel.air.long_haul.economy",
    "travel.air.domestic_average": "travel.air.domestic.average",
}


def _num(x: float) -> str:
    return repr(float(x))


def biogenic_index(groups: list[Group]) -> dict[tuple[str, str], float]:
    """kg biogenic CO2 per unit from the "Outside of scopes" rows, by (fuel name, unit)."""
    index: dict[tuple[str, str], float] = {}
    for g in groups:
        value = g.values.get(2, g.values.get(1))
        if g.scope == "Outside of Scopes" and value is not None:
            index[(g.level3.strip().lower(), g.uom)] = value
    return index


def derive(groups: list[Group]) -> Iterator[dict[str, str]]:
    """One output row per shipped DESNZ factor (aliases and mobile copies after the originals)."""
    biogenic = biogenic_index(groups)
    rows: list[dict[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for g in groups:
        if g.uom not in UNITS or 1 not in g.values:
            continue
        mapped = activity_code(g)
        if mapped is None:
            continue
        code, scope, category = mapped
        unit = UNITS[g.uom]
        region = HOTEL_REGIONS[g.level3] if g.level1 == "Hotel stay" else REGION
        if (code, region, unit) in seen:
            raise SystemExit(f"duplicate activity/region/unit {code} {region} {unit} at {g.ident}")
        seen.add((code, region, unit))
        total = g.values[1]
        gases: dict[str, float] = {}
        for index, gas in ((2, "CO2"), (3, "CH4"), (4, "N2O")):
            if index in g.values:
                gases[gas] = g.values[index] / AR5[gas]
        # Forecourt diesel/petrol carry their biofuel share's CO2 too (tonnes and litres only:
        # the "Outside of scopes" kWh rows do not say net or gross CV).
        bio = biogenic.get((g.level3.strip().lower(), g.uom), 0.0)
        if g.level1 not in ("Bioenergy", "Fuels"):
            bio = 0.0
        description = " / ".join(
            p for p in (g.level1, g.level2, g.level3, g.level4, g.column, g.uom) if p
        )
        rows.append(
            {
                "activity": code,
                "region": region,
                "unit": unit,
                "scope": scope,
                "category": category,
                "gases": ";".join(f"{k}={_num(v)}" for k, v in gases.items()),
                "co2e": _num(total),
                "co2e_gwp_basis": "AR5",
                "biogenic_co2": _num(bio) if bio else "",
                "year": str(YEAR),
                "source": SOURCE,
                "source_ref": f"{SHEET}!ID {g.ident}_1..4",
                "licence": LICENCE,
                "description": description,
            }
        )
    rows.extend(refrigerant_rows(groups))
    by_code = {(r["activity"], r["region"], r["unit"]): r for r in rows}
    extra: list[dict[str, str]] = []
    for r in rows:
        fuel = r["activity"].removeprefix("fuel.")
        if r["activity"].startswith("fuel.") and fuel in MOBILE_FUELS:
            extra.append({**r, "activity": f"fuel.mobile.{fuel}", "category": "mobile"})
    for alias, target in ALIASES.items():
        for (code, _region, _unit), r in by_code.items():
            if code == target:
                extra.append({**r, "activity": alias})
    yield from rows
    yield from extra


def l1_is_refrigerant(g: Group) -> bool:
    return g.level1 == "Refrigerant & other"


def refrigerant_rows(groups: list[Group]) -> list[dict[str, str]]:
    """``refrigerant.<gas>``: 1 kg of the gas per kg released (Kyoto gases and HFC blends).

    A blend is split into its components' mass fractions (``gwp.BLENDS``) so the per-gas
    inventory lists HFC-32 and HFC-125, not "R-410A".
    """
    sys.path.insert(0, str(REPO))
    from fedcarbon.accounting.errors import UnknownGasError
    from fedcarbon.accounting.gwp import BLENDS, canonical_gas, gwp100

    rows = []
    for g in groups:
        if not l1_is_refrigerant(g) or g.column != "Emissions including only Kyoto products":
            continue
        if 1 not in g.values:
            continue
        name = re.sub(r".*\((.+)\)$", r"\1", g.level3).replace("I0", "10")
        name = {
            "Carbon dioxide": "CO2",
            "Methane": "CH4",
            "Nitrous oxide": "N2O",
            "Nitrogen trifluoride": "NF3",
            "Trifluoromethyl sulphur pentafluoride": "SF5CF3",
            "PFC-3-1-10": "PFC-31-10",
            "PFC-4-1-12": "PFC-41-12",
            "PFC-5-1-14": "PFC-51-14",
            "PFC-9-1-18": "PFC-91-18",
        }.get(name, name)
        try:
            gas = canonical_gas(name)
            for basis in ("AR5", "AR6"):  # only gases fedcarbon can weight in both sets
                gwp100(gas, basis)
        except UnknownGasError:
            continue
        rows.append(
            {
                "activity": f"refrigerant.{gas}",
                "region": "GLOBAL",
                "unit": "kg",
                "scope": "1",
                "category": "fugitive",
                "gases": ";".join(f"{k}={_num(v)}" for k, v in BLENDS.get(gas, {gas: 1.0}).items()),
                "co2e": _num(g.values[1]),
                "co2e_gwp_basis": "AR5",
                "biogenic_co2": "",
                "year": str(YEAR),
                "source": SOURCE,
                "source_ref": f"{SHEET}!ID {g.ident}_1",
                "licence": LICENCE,
                "description": f"{g.level2} / {g.level3} / {g.column} / kg released",
            }
        )
    return rows


def write(rows: Iterator[dict[str, str]], out: Path) -> int:
    return write_factor_rows(rows, out)


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    count = write(derive(read_groups(source)), out)
    print(f"wrote {count} factors to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
