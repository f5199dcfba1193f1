"""Derive fedcarbon's grid-electricity dataset from Ember's yearly average intensities.

Source: Ember, yearly average carbon intensity of electricity generation by country
(gCO2e/kWh), as republished by the Green Web Foundation's CO2.js (``data/output/``,
``average-intensities.json``), file ``../shared/data/grid/ember-average-intensities.json``.
Licence: CC BY-SA 4.0 - attribute Ember; the derived CSV is shared under the same licence.

Ember's intensity is a **lifecycle** figure (generation plus fuel supply chain and plant
manufacture, CO2e, ``co2e_gwp_basis`` AR5). The Scope 2 Guidance counts only the combustion at
the generator in Scope 2 and the upstream part in Scope 3 category 3 (Technical Guidance for
Calculating Scope 3 Emissions, 2013, Table 3.1, activity B). So each country gets two rows:

* ``electricity.grid`` (Scope 2) = intensity x c, and
* ``wtt.electricity.grid`` (Scope 3 category 3) = intensity x (1 - c),

where c, the combustion share of the country's lifecycle intensity, is modelled from its
generation mix (``scripts/sources/owid_electricity_mix.csv``: Our World in Data's energy
dataset, from Ember and the Energy Institute Statistical Review, CC BY 4.0, as packaged in
codecarbon 3.3.2's ``global_energy_mix.json``) and the IPCC AR5 WGIII Annex III Table A.III.2
medians (g CO2e/kWh, direct / lifecycle): coal PC 760 / 820, gas combined cycle 370 / 490;
oil, absent from that table, takes coal's values (a small share of most grids); every
non-fossil source has no direct fossil emissions (biogenic CO2 is outside the scopes) and its
lifecycle median: biomass 230, hydro 24, nuclear 12, solar PV (utility) 48, wind onshore 11,
geothermal and other 38. c = sum(TWh_f x direct_f) / sum(TWh_f x lifecycle_f). A country
without a mix takes the world's c (summed over all countries), said in the row's description.

Country codes are turned from ISO alpha-3 into alpha-2; Ember's "World" row becomes region
``GLOBAL``, the fallback for countries Ember does not cover; other aggregates are dropped.

Usage:  python scripts/derive_grid.py [ember-average-intensities.json] [OUT.csv] [MIX.csv]
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from iso3166 import ALPHA3_TO_ALPHA2

from fedcarbon.accounting.factors import write_factor_rows

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared/data/grid/ember-average-intensities.json"
DEFAULT_OUT = REPO / "fedcarbon/accounting/data/ember_grid.csv"
DEFAULT_MIX = REPO / "scripts/sources/owid_electricity_mix.csv"
SOURCE = "Ember, yearly electricity data: average CO2 intensity of generation (via CO2.js)"
LICENCE = "CC-BY-SA-4.0"

# IPCC AR5 WGIII Annex III Table A.III.2 medians, g CO2e/kWh: (direct, lifecycle) per source.
_GRAMS: dict[str, tuple[float, float]] = {
    "coal_TWh": (760.0, 820.0),
    "gas_TWh": (370.0, 490.0),
    "oil_TWh": (760.0, 820.0),  # not in the table: coal's values
    "biofuel_TWh": (0.0, 230.0),
    "hydroelectricity_TWh": (0.0, 24.0),
    "nuclear_TWh": (0.0, 12.0),
    "solar_TWh": (0.0, 48.0),
    "wind_TWh": (0.0, 11.0),
    "other_renewable_exc_biofuel_TWh": (0.0, 38.0),
}


def combustion_shares(rows: list[dict[str, str]]) -> dict[str, tuple[float, str]]:
    """ISO alpha-3 (and ``World``) -> (combustion share of the lifecycle intensity, mix year)."""
    shares: dict[str, tuple[float, str]] = {}
    totals = dict.fromkeys(_GRAMS, 0.0)
    for row in rows:
        twh = {source: float(row[source]) for source in _GRAMS}
        for source, value in twh.items():
            totals[source] += value
        lifecycle = sum(twh[s] * _GRAMS[s][1] for s in _GRAMS)
        if lifecycle > 0:
            direct = sum(twh[s] * _GRAMS[s][0] for s in _GRAMS)
            shares[row["iso_code"]] = (direct / lifecycle, row["year"])
    world_direct = sum(totals[s] * _GRAMS[s][0] for s in _GRAMS)
    world_lifecycle = sum(totals[s] * _GRAMS[s][1] for s in _GRAMS)
    shares["World"] = (world_direct / world_lifecycle, "world (all countries')")
    return shares


def derive(
    entries: dict[str, dict[str, object]], shares: dict[str, tuple[float, str]]
) -> list[dict[str, str]]:
    """Per country (sorted by region) plus ``GLOBAL`` from World: the Scope 2 combustion row
    and the Scope 3 category 3 upstream row, which add up to Ember's lifecycle intensity."""
    rows = []
    for key, entry in entries.items():
        code = str(entry.get("country_code") or "")
        if code:
            region = ALPHA3_TO_ALPHA2[code]
        elif key == "World":
            region = "GLOBAL"
        else:
            continue
        grams = entry["emissions_intensity_gco2_per_kwh"]
        if not isinstance(grams, int | float):
            raise SystemExit(f"{key}: intensity {grams!r} is not a number")
        share, mix_year = shares.get(code or "World") or shares["World"]
        mix = (
            f"combustion share {share:.3f} from the {mix_year} generation mix"
            if code in shares or not code
            else f"combustion share {share:.3f} of the world mix (no mix for {code})"
        )
        name = entry["country_or_region"]
        for activity, scope, category, part, what in (
            ("electricity.grid", "2", "electricity", share, "combustion part (Scope 2)"),
            ("wtt.electricity.grid", "3", "scope3.cat3", 1.0 - share, "upstream part (cat. 3)"),
        ):
            rows.append(
                {
                    "activity": activity,
                    "region": region,
                    "unit": "kWh",
                    "scope": scope,
                    "category": category,
                    "gases": "",
                    "co2e": format(float(grams) * part / 1000.0, ".10g"),
                    "co2e_gwp_basis": "AR5",
                    "biogenic_co2": "",
                    "year": str(entry["year"]),
                    "source": SOURCE,
                    "source_ref": f"ember-average-intensities.json[{key!r}]",
                    "licence": LICENCE,
                    "description": (
                        f"{name}: {what} of the {grams} gCO2e/kWh lifecycle average intensity "
                        f"of generation; {mix} (IPCC AR5 WGIII Annex III)"
                    ),
                }
            )
    rows.sort(key=lambda r: (r["region"], r["activity"]))
    return rows


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    mix = Path(argv[3]) if len(argv) > 3 else DEFAULT_MIX
    with mix.open(newline="", encoding="utf-8") as handle:
        shares = combustion_shares(list(csv.DictReader(handle)))
    rows = derive(json.loads(source.read_text(encoding="utf-8")), shares)
    write_factor_rows(rows, out)
    print(f"wrote {len(rows)} factors to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
