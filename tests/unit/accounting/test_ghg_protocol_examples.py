"""Worked examples published by the GHG Protocol itself, reproduced by the engine."""

from datetime import date

import pytest

from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.pcf import allocate_products
from fedcarbon.accounting.records import ActivityRecord

YEAR = (date(2024, 1, 1), date(2024, 12, 31))


def _record(record_id: str, activity: str, quantity: float, unit: str) -> ActivityRecord:
    return ActivityRecord(record_id, *YEAR, "depot", activity, quantity, unit, "DE")


def test_scope3_guidance_example_4_3_allocation_by_great_circle_tonne_km() -> None:
    """GHG Protocol, Technical Guidance for Calculating Scope 3 Emissions (v1.0, 2013),
    Category 4, Example [4.3] "Allocating emissions from transportation (Deutsche Post DHL)",
    option II: a vehicle run emitting 31.5 kg CO2 carries three shipments of 240, 150 and 100
    tkm by great-circle distance (490 tkm); the allocation factor is 0.064 kg CO2 per tkm and
    the shipments carry 15.43, 9.64 and 6.43 kg CO2.
    """
    footprint = compute_footprint(
        [
            _record("run", "release.CO2", 31.5, "kg"),
            _record("s1", "output.shipment_1", 240, "t*km"),
            _record("s2", "output.shipment_2", 150, "t*km"),
            _record("s3", "output.shipment_3", 100, "t*km"),
        ]
    )
    pcfs = {
        p.product_id: p
        for p in allocate_products(footprint, method="physical", physical_quantity="tkm")
    }
    allocated = {k: round(p.allocated_kgco2e, 2) for k, p in pcfs.items()}
    assert allocated == {"shipment_1": 15.43, "shipment_2": 9.64, "shipment_3": 6.43}
    assert round(pcfs["shipment_1"].pcf_excluding_biogenic, 3) == pytest.approx(0.064, abs=5e-4)
