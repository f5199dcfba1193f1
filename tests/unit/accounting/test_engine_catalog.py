"""Every factor the package ships computes through the engine (datasets and engine agree)."""

from __future__ import annotations

import math
from datetime import date

from fedcarbon.accounting.engine import compute_footprint
from fedcarbon.accounting.factors import FactorCatalog
from fedcarbon.accounting.records import ActivityRecord


def test_every_builtin_factor_computes_a_finite_result() -> None:
    catalog = FactorCatalog.default()
    records = [
        ActivityRecord(
            f"f{i}",
            date(factor.year, 1, 1),
            date(factor.year, 12, 31),
            "site",
            factor.activity,
            1.0,
            factor.unit,
            factor.region,
        )
        for i, factor in enumerate(catalog)
    ]
    footprint = compute_footprint(records, catalog, gwp="AR6")
    assert math.isfinite(footprint.total_kgco2e) and len(footprint.records) == len(records)
