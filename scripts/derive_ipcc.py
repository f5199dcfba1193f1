"""Derive fedcarbon's IPCC 2006 default combustion factors from a hand transcription.

Source: 2006 IPCC Guidelines for National Greenhouse Gas Inventories, Volume 2 (Energy),
IPCC/IGES 2006. The numbers are transcribed by hand, one fuel per line, in
``scripts/sources/ipcc2006_combustion.csv`` so that a reviewer can check each one against
the tables (page numbers as printed in the 2006 PDFs):

* T1.2   - Vol 2 Ch 1 Table 1.2, default net calorific values (TJ/Gg), pp. 1.18-1.19
* T1.4   - Vol 2 Ch 1 Table 1.4, default CO2 emission factors (kg/TJ NCV), pp. 1.23-1.24
* T2.2   - Vol 2 Ch 2 Table 2.2, stationary combustion in the energy industries,
           CH4 and N2O (kg/TJ NCV), pp. 2.16-2.17
* T2.3   - Vol 2 Ch 2 Table 2.3, stationary combustion in manufacturing industries and
           construction, CH4 and N2O (kg/TJ NCV), pp. 2.18-2.19
* T3.2.1 - Vol 2 Ch 3 Table 3.2.1, road transport default CO2 (kg/TJ), p. 3.16
* T3.2.2 - Vol 2 Ch 3 Table 3.2.2, road transport default CH4 and N2O (kg/TJ), p. 3.21

``fuel.<name>`` uses the manufacturing-industries table (T2.3): a company boiler or kiln is
closer to it than to a power station (``fuel.energy_industries.<name>``, T2.2). Mobile
petrol defaults to the "low mileage light duty vehicle vintage 1995 or later" row; the
older-technology rows are ``fuel.mobile.petrol.oxidation_catalyst`` / ``.uncontrolled``.

Each fuel yields a per-TJ row (NCV basis, as published) and a per-tonne row
(kg/t = kg/TJ x NCV[TJ/Gg] / 1000). Biomass CO2 goes to ``biogenic_co2``, outside the scopes.
All rows are region ``GLOBAL``.

Usage:  python scripts/derive_ipcc.py [TRANSCRIPTION.csv] [OUT.csv]
"""

from __future__ import annotations

import csv
import sys
from decimal import Decimal
from pathlib import Path

from fedcarbon.accounting.factors import write_factor_rows

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO / "scripts/sources/ipcc2006_combustion.csv"
DEFAULT_OUT = REPO / "fedcarbon/accounting/data/ipcc_2006.csv"
SOURCE = "IPCC 2006 Guidelines for National Greenhouse Gas Inventories, Vol 2 Energy"
LICENCE = "IPCC-attribution"
YEAR = 2006
TABLES = {
    "T1.2": "Vol2 Ch1 Table 1.2",
    "T1.4": "Vol2 Ch1 Table 1.4",
    "T2.2": "Vol2 Ch2 Table 2.2",
    "T2.3": "Vol2 Ch2 Table 2.3",
    "T3.2.1": "Vol2 Ch3 Table 3.2.1",
    "T3.2.2": "Vol2 Ch3 Table 3.2.2",
}


def _num(value: Decimal) -> str:
    """Exact decimal text (no binary float noise), e.g. ``3.1863``."""
    text = format(value.normalize(), "f")
    return text


def derive(entries: list[dict[str, str]]) -> list[dict[str, str]]:
    """Per-TJ and per-tonne rows for every code of every transcribed fuel, in file order."""
    rows = []
    for entry in entries:
        ncv = Decimal(entry["ncv_tj_per_gg"])
        per_tj = {
            "CO2": Decimal(entry["co2_kg_per_tj"]),
            "CH4": Decimal(entry["ch4_kg_per_tj"]),
            "N2O": Decimal(entry["n2o_kg_per_tj"]),
        }
        biogenic = entry["co2_is_biogenic"] == "yes"
        refs = ", ".join(TABLES[t] for t in entry["factor_tables"].split(";"))
        for unit, scale in (("TJ", Decimal(1)), ("t", ncv / Decimal(1000))):
            values = {gas: v * scale for gas, v in per_tj.items()}
            co2 = values.pop("CO2")
            if not biogenic:
                values = {"CO2": co2, **values}
            gases = ";".join(f"{gas}={_num(v)}" for gas, v in values.items())
            per = "per TJ (NCV)" if unit == "TJ" else f"per tonne (NCV {ncv} TJ/Gg)"
            for code in entry["codes"].split():
                rows.append(
                    {
                        "activity": code,
                        "region": "GLOBAL",
                        "unit": unit,
                        "scope": "1",
                        "category": entry["category"],
                        "gases": gases,
                        "co2e": "",
                        "co2e_gwp_basis": "",
                        "biogenic_co2": _num(co2) if biogenic else "",
                        "year": str(YEAR),
                        "source": SOURCE,
                        "source_ref": refs,
                        "licence": LICENCE,
                        "description": f"{entry['ipcc_fuel']}, IPCC default {per}",
                    }
                )
    return rows


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    with source.open(encoding="utf-8", newline="") as handle:
        rows = derive(list(csv.DictReader(handle)))
    write_factor_rows(rows, out)
    print(f"wrote {len(rows)} factors to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
