"""Derive fedcarbon's spend-based Scope 3 dataset from US EPA Supply Chain GHG Emission Factors.

Source: US EPA Office of Research and Development, "Supply Chain Greenhouse Gas Emission
Factors v1.2 by NAICS-6" (DOI 10.23719/1528686), per-gas file
``SupplyChainGHGEmissionFactors_v1.2_NAICS_byGHG_USD2021.csv``: kg of each gas per 2021 US
dollar of purchaser price, GHG data year 2019. US Government work, public domain.

* The per-gas file is used (not the CO2e one) so the user's GWP set applies to every gas;
  the EPA CO2e total (IPCC AR4 GWP100) from the companion file is kept in ``co2e`` as a
  cross-check.
* Column used: "Supply Chain Emission Factors with Margins" - the factor for a purchaser
  price (what an invoice shows), as the EPA README recommends for spend data.
* "HFCs and PFCs, unspecified" is an unspeciated mix the EPA reports in kg CO2e (AR4), not in
  kg of a gas: recombining the gases with AR4 GWPs reproduces the published CO2e totals only
  with that row counted at weight 1 (checked in ``tests/unit/accounting/test_datasets.py``).
  It is therefore kept as ``CO2e=...`` inside ``gases`` with ``co2e_gwp_basis`` AR4.
* Zero gas values are dropped. Activity code ``spend.naics.<NAICS-6>``, unit ``USD_2021``
  (2021 US dollars at purchaser price); the engine converts spend in another currency or
  price year (``fedcarbon/accounting/money.py``). Region ``GLOBAL``: the factors describe the US
  economy and are used as a proxy elsewhere, as the GHG Protocol Scope 3 guidance permits for
  spend-based estimates.

Usage:  python scripts/derive_eeio.py [BY_GHG.csv] [CO2E.csv] [OUT.csv]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from fedcarbon.accounting.factors import write_factor_rows

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared/data/eeio"
DEFAULT_BY_GHG = SHARED / "SupplyChainGHGEmissionFactors_v1.2_NAICS_byGHG_USD2021.csv"
DEFAULT_CO2E = SHARED / "SupplyChainGHGEmissionFactors_v1.2_NAICS_CO2e_USD2021.csv"
DEFAULT_OUT = REPO / "fedcarbon/accounting/data/epa_supply_chain_v1_2.csv"
VALUE = "Supply Chain Emission Factors with Margins"
SOURCE = "US EPA, Supply Chain GHG Emission Factors v1.2 by NAICS-6 (DOI 10.23719/1528686)"
LICENCE = "US-Government-Work (public domain)"
YEAR = 2019  # GHG data year; prices are 2021 USD

GASES = {
    "Carbon dioxide": "CO2",
    "Methane": "CH4",
    "Nitrous oxide": "N2O",
    "Sulfur hexafluoride": "SF6",
    "Nitrogen trifluoride": "NF3",
    "Carbon tetrafluoride": "PFC-14",
    "Hexafluoroethane": "PFC-116",
    "Perfluoropropane": "PFC-218",
    "Perfluorocyclobutane": "PFC-318",
    "HFC-23": "HFC-23",
    "HFC-32": "HFC-32",
    "HFC-125": "HFC-125",
    "HFC-134a": "HFC-134a",
    "HFC-143a": "HFC-143a",
    "HFC-236fa": "HFC-236fa",
    "HFCs and PFCs, unspecified": "CO2e",
}


def derive(by_ghg: list[dict[str, str]], co2e: list[dict[str, str]]) -> list[dict[str, str]]:
    """One ``spend.naics.<code>`` row per NAICS code, in the per-gas file's order."""
    totals = {r["NAICS Code 2017"]: r for r in co2e}
    gases: dict[str, dict[str, float]] = {}
    titles: dict[str, tuple[str, str]] = {}
    for r in by_ghg:
        code = r["NAICS Code 2017"]
        if r["Unit"] != "kg/2021 USD, purchaser price":
            raise SystemExit(f"NAICS {code}: unexpected unit {r['Unit']!r}")
        gas = GASES[r["GHG"]]
        value = float(r[VALUE])
        per_code = gases.setdefault(code, {})
        titles[code] = (r["NAICS Title 2017"], r["Reference USEEIO Code"])
        if value != 0.0:
            per_code[gas] = value
    rows = []
    for code, values in gases.items():
        title, useeio = titles[code]
        total = totals[code]
        ordered = sorted(values.items(), key=lambda kv: list(GASES.values()).index(kv[0]))
        rows.append(
            {
                "activity": f"spend.naics.{code}",
                "region": "GLOBAL",
                "unit": "USD_2021",
                "scope": "3",
                "category": "scope3.cat1",
                "gases": ";".join(f"{gas}={value!r}" for gas, value in ordered),
                "co2e": repr(float(total[VALUE])),
                "co2e_gwp_basis": "AR4",
                "biogenic_co2": "",
                "year": str(YEAR),
                "source": SOURCE,
                "source_ref": f"NAICS {code} (USEEIO {useeio}), {VALUE}",
                "licence": LICENCE,
                "description": f"{title} - kg per 2021 USD purchaser price (US economy)",
            }
        )
    return rows


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def main(argv: list[str]) -> int:
    by_ghg = Path(argv[1]) if len(argv) > 1 else DEFAULT_BY_GHG
    co2e = Path(argv[2]) if len(argv) > 2 else DEFAULT_CO2E
    out = Path(argv[3]) if len(argv) > 3 else DEFAULT_OUT
    rows = derive(_read(by_ghg), _read(co2e))
    write_factor_rows(rows, out)
    print(f"wrote {len(rows)} factors to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
