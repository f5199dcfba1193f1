"""Utility invoices (electricity, gas, district heat) exported as JSON lines.

Each line is one invoice of one meter, as customer portals of energy suppliers export them::

    {"invoice": "INV-2024-0117", "meter": "DE0001234", "site": "Berlin HQ",
     "carrier": "electricity", "from": "2024-01-01", "to": "2024-01-31",
     "consumption": 12.5, "unit": "MWh"}

The adapter shows the whole contract in a few lines: a config dataclass, stable record ids from
the source's own keys (invoice number and meter), units mapped to pint, bad lines reported as
``Rejected`` with their line number, and ``SourceUnavailableError`` when the file is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from fedcarbon.adapters import (
    Adapter,
    FetchResult,
    Period,
    RecordMapping,
    Rejected,
    SourceUnavailableError,
    map_rows,
)

CARRIERS = {
    "electricity": "electricity.grid",
    "gas": "fuel.natural_gas",
    "district_heat": "heat.district",
}
"""Invoice energy carrier -> fedcarbon activity code."""


@dataclass(frozen=True)
class UtilityBillConfig:
    """Options of the ``utility-bills`` adapter.

    Attributes:
        path: the JSON-lines export.
        region: ISO 3166 region of the sites (invoices do not carry it).
        units: extra unit spellings of this supplier (``"kWh (HT)" = "kWh"``).
    """

    path: Path
    region: str
    units: dict[str, str] = field(default_factory=dict)


class UtilityBillAdapter(Adapter):
    """Utility invoices (JSON lines) as electricity, gas and heat activity records."""

    name: ClassVar[str] = "utility-bills"
    config_type: ClassVar[type[Any]] = UtilityBillConfig

    def __init__(self, config: UtilityBillConfig) -> None:
        super().__init__(config)
        self.config: UtilityBillConfig = config
        # The SDK's mapping layer does the field, unit and code translation and validation.
        self.mapping = RecordMapping(
            columns={
                "record_id": "{invoice}/{meter}",
                "site": "site",
                "activity": "carrier",
                "quantity": "consumption",
                "unit": "unit",
                "period_start": "from",
                "period_end": "to",
            },
            defaults={"region": config.region, "data_quality": "primary (invoice)"},
            units={"kWh": "kWh", "MWh": "MWh", "m3": "m**3", **config.units},
            activities=CARRIERS,
        )

    def describe(self) -> str:
        return f"utility-bills {self.config.path}"

    def fetch(self, period: Period) -> FetchResult:
        try:
            lines = self.config.path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SourceUnavailableError(self.name, str(self.config.path), str(exc)) from None
        rows = []
        rejected = []
        for number, line in enumerate(lines, start=1):
            ref = f"{self.config.path.name}:{number}"
            if not line.strip():
                continue
            try:
                invoice = json.loads(line)
            except ValueError:
                rejected.append(Rejected(ref, None, "line is not JSON"))
                continue
            if not isinstance(invoice, dict):
                rejected.append(Rejected(ref, None, "line is not a JSON object"))
                continue
            rows.append((ref, invoice))
        mapped = map_rows(rows, self.mapping, source=self.name, period=period)
        return FetchResult(mapped.records, rejected + mapped.rejected, None, mapped.ignored)
