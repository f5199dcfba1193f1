"""Property: the unit a quantity is written in never changes a footprint (issue 3, "done when")."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcarbon.accounting.engine import Footprint, compute_footprint
from fedcarbon.accounting.factors import FactorCatalog
from fedcarbon.accounting.units import conversion_factor

from .engine_samples import rec, sample_catalog

with tempfile.TemporaryDirectory() as _folder:
    CATALOG: FactorCatalog = sample_catalog(Path(_folder))

# (activity, region, factor unit, other units a record may use, instrument)
CASES = [
    ("fuel.gas", "GB", "kWh", ("MWh", "GJ", "therm", "Wh", "MJ"), None),
    ("fuel.diesel", "GB", "L", ("gal", "m**3", "imperial_gallon", "mL"), None),
    ("process.clinker", "GB", "t", ("kg", "lb", "Mg"), None),
    ("electricity.grid", "GB", "kWh", ("MWh", "GJ"), None),
    ("electricity.grid", "GB", "kWh", ("MWh", "GWh"), "supplier:0.25"),
    ("electricity.grid", "DE", "kWh", ("MWh", "MJ"), None),
    ("freight.hgv", "GB", "t*km", ("kg*km", "tonne*mile"), None),
    ("release.R-410A", "GB", "kg", ("g", "t", "lb"), None),
]

quantities = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False)


def summary(fp: Footprint) -> dict[str, float]:
    """Every reported figure of a footprint, flat, for approximate comparison."""
    flat = {
        "scope1": fp.scope1_kgco2e,
        "scope2_location": fp.scope2_location_kgco2e,
        "scope2_market": fp.scope2_market_kgco2e,
        "scope3": fp.scope3_kgco2e,
        "biogenic": fp.biogenic_co2_kg,
    }
    flat.update({f"category:{k}": v for k, v in fp.by_category.items()})
    flat.update({f"gas:{k}": v for k, v in fp.by_gas.items()})
    return flat


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from(CASES), quantity=quantities, data=st.data())
def test_record_result_is_independent_of_its_unit(
    case: tuple[str, str, str, tuple[str, ...], str | None], quantity: float, data: st.DataObject
) -> None:
    activity, region, base, others, instrument = case
    unit = data.draw(st.sampled_from(others))
    in_other = quantity * conversion_factor(base, unit)
    a = compute_footprint(
        [rec("a", activity, quantity, base, region, instrument=instrument)], CATALOG
    )
    b = compute_footprint(
        [rec("b", activity, in_other, unit, region, instrument=instrument)], CATALOG
    )
    assert summary(b) == pytest.approx(summary(a), rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(st.tuples(st.sampled_from(CASES), quantities, st.integers(0, 10)), max_size=12),
)
def test_inventory_is_independent_of_the_units_of_its_records(
    rows: list[tuple[tuple[str, str, str, tuple[str, ...], str | None], float, int]],
) -> None:
    base_records = []
    mixed_records = []
    for i, (case, quantity, pick) in enumerate(rows):
        activity, region, base, others, instrument = case
        unit = others[pick % len(others)]
        base_records.append(rec(str(i), activity, quantity, base, region, instrument=instrument))
        mixed_records.append(
            rec(
                str(i),
                activity,
                quantity * conversion_factor(base, unit),
                unit,
                region,
                instrument=instrument,
            )
        )
    a = compute_footprint(base_records, CATALOG)
    b = compute_footprint(mixed_records, CATALOG)
    assert summary(b) == pytest.approx(summary(a), rel=1e-9)


def test_megawatt_hours_equal_kilowatt_hours_exactly() -> None:
    a = compute_footprint([rec("a", "fuel.gas", 2.5, "MWh")], CATALOG)
    b = compute_footprint([rec("b", "fuel.gas", 2500.0, "kWh")], CATALOG)
    assert a.scope1_kgco2e == b.scope1_kgco2e
