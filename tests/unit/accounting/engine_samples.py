"""Small factor catalog and record builder shared by the engine, CLI and unit tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fedcarbon.accounting.factors import FactorCatalog
from fedcarbon.accounting.records import ActivityRecord

# Made-up but plausible factors (kg of gas per unit), covering every branch of the engine.
FACTORS_CSV = """\
activity,region,unit,scope,category,gases,co2e,co2e_gwp_basis,biogenic_co2,year,source,source_ref,licence,description
fuel.gas,GB,kWh,1,stationary,CO2=0.2;CH4=1e-05;N2O=1e-06,,,,2023,test set,r1,CC0-1.0,natural gas
fuel.diesel,GB,L,1,mobile,CO2=2.5;CH4=0.0001;N2O=3e-05,,,0.2,2023,test set,r2,CC0-1.0,diesel
process.clinker,GLOBAL,t,1,process,CO2=520,,,,2023,test set,r3,CC0-1.0,clinker calcination
electricity.grid,GB,kWh,2,electricity,CO2=0.2;CH4=3e-05;N2O=4e-06,,,,2023,test set,r4,CC0-1.0,grid
electricity.grid,DE,kWh,2,electricity,,0.38,AR5,,2023,test set,r5,CC0-1.0,DE grid (CO2e only)
electricity.residual_mix,DE,kWh,2,electricity,,0.6,AR5,,2023,test set,r6,CC0-1.0,DE residual mix
heat.district,GB,kWh,2,heat,CO2=0.17,,,,2023,test set,r7,CC0-1.0,district heat
spend.naics.331110,US,USD,3,scope3.cat1,,0.9,AR4,,2023,test set,r8,CC0-1.0,iron and steel mills
travel.rail,GB,passenger*km,3,scope3.cat6,CO2=0.035,,,,2023,test set,r9,CC0-1.0,national rail
freight.hgv,GB,km,3,scope3.cat4,CO2=0.9,,,,2023,test set,r10a,CC0-1.0,HGV per vehicle km
freight.hgv,GB,t*km,3,scope3.cat4,CO2=0.1;CH4=1e-06,,,,2023,test set,r10,CC0-1.0,HGV freight
waste.landfill,GB,t,3,waste,CH4=20,,,,2023,test set,r11,CC0-1.0,landfill without a category number
spend.mixed,US,USD,3,scope3.cat2,CO2=0.5;CO2e=0.1,,AR4,,2023,test set,r12,CC0-1.0,part CO2e
"""


def sample_catalog(tmp_path: Path) -> FactorCatalog:
    """The catalog above, read through the real file reader."""
    path = tmp_path / "test-factors.csv"
    path.write_text(FACTORS_CSV, encoding="utf-8")
    return FactorCatalog.from_files(path)


def rec(
    record_id: str,
    activity: str,
    quantity: float,
    unit: str,
    region: str = "GB",
    **optional: object,
) -> ActivityRecord:
    """An activity record for calendar year 2023 at site 'plant'."""
    return ActivityRecord(
        record_id,
        date(2023, 1, 1),
        date(2023, 12, 31),
        "plant",
        activity,
        quantity,
        unit,
        region,
        **optional,  # type: ignore[arg-type]
    )
