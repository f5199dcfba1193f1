"""Carbon accounting: activity records, units, emission factors, GWP, the footprint engine, PACT.

Calculation follows the GHG Protocol Corporate Standard, Scope 2 Guidance and Scope 3 Standard;
product footprints follow ISO 14067 and the PACT data model. The most used names are
re-exported lazily (importing this package stays cheap: numpy, pint and the datasets load on
first use):

    from fedcarbon.accounting import ActivityRecord, FactorCatalog, compute_footprint
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ActivityRecord": "fedcarbon.accounting.records",
    "RowError": "fedcarbon.accounting.records",
    "read_activity_csv": "fedcarbon.accounting.records",
    "ActivityTable": "fedcarbon.accounting.activity_table",
    "read_activity_table": "fedcarbon.accounting.activity_table",
    "compute_footprint": "fedcarbon.accounting.engine",
    "Footprint": "fedcarbon.accounting.engine",
    "RecordResult": "fedcarbon.accounting.engine",
    "OutputLine": "fedcarbon.accounting.engine",
    "FactorCatalog": "fedcarbon.accounting.factors",
    "EmissionFactor": "fedcarbon.accounting.factors",
    "AccountingError": "fedcarbon.accounting.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fedcarbon.accounting' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
