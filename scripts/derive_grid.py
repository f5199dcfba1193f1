"""Derive fedcarbon's grid-electricity dataset from Ember's yearly average intensities.

Source: Ember, yearly average carbon intensity of electricity generation by country
(gCO2e/kWh), as republished by the Green Web Foundation's CO2.js (``data/output/``,
``average-intensities.json``), file ``../shared/data/grid/ember-average-intensities.json``.
Licence: CC BY-SA 4.0 - attribute Ember; the derived CSV is shared under the same licence.

Ember computes the intensity from generation by fuel with IPCC AR5 WGIII Annex III lifecycle
emission factors, so it is a CO2e value (``co2e_gwp_basis`` AR5) and includes upstream
(lifecycle) emissions: slightly above a pure combustion Scope 2 factor. Country codes are
turned from ISO alpha-3 into alpha-2; Ember's "World" row becomes region ``GLOBAL``, the
fallback for countries Ember does not cover; other aggregates (EU, G20, ...) are dropped.

Usage:  python scripts/derive_grid.py [ember-average-intensities.json] [OUT.csv]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from iso3166 import ALPHA3_TO_ALPHA2

from fedcarbon.accounting.factors import write_factor_rows

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared/data/grid/ember-average-intensities.json"
DEFAULT_OUT = REPO / "fedcarbon/accounting/data/ember_grid.csv"
SOURCE = "Ember, yearly electricity data: average CO2 intensity of generation (via CO2.js)"
LICENCE = "CC-BY-SA-4.0"


def derive(entries: dict[str, dict[str, object]]) -> list[dict[str, str]]:
    """One ``electricity.grid`` row per country (sorted by region) plus ``GLOBAL`` from World."""
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
        rows.append(
            {
                "activity": "electricity.grid",
                "region": region,
                "unit": "kWh",
                "scope": "2",
                "category": "electricity",
                "gases": "",
                "co2e": format(float(grams) / 1000.0, ".10g"),
                "co2e_gwp_basis": "AR5",
                "biogenic_co2": "",
                "year": str(entry["year"]),
                "source": SOURCE,
                "source_ref": f"ember-average-intensities.json[{key!r}]",
                "licence": LICENCE,
                "description": (
                    f"{entry['country_or_region']}: {grams} gCO2e/kWh, lifecycle average "
                    "intensity of electricity generation (location-based Scope 2)"
                ),
            }
        )
    rows.sort(key=lambda r: r["region"])
    return rows


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    rows = derive(json.loads(source.read_text(encoding="utf-8")))
    write_factor_rows(rows, out)
    print(f"wrote {len(rows)} factors to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
