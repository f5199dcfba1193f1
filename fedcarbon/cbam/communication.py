"""What an operator hands its importers: the Commission's communication template data.

Two forms:
- ``Communication``: exactly the figures an importer must declare (per good: CN code,
  production route, SEE direct / indirect / total, whether indirect counts, carbon price paid),
  and nothing about the process: this is what travels, sealed, through the coordinator.
- the template export (xlsx and JSON) with the sections of the Commission's operator-to-importer
  communication template (installation data, emissions of the installation, production
  processes, purchased precursors, summary of products), for the operator's own records and
  its verifier. Sheet names follow the template's sections; the layout is not the template's
  cell-for-cell.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from fedcarbon.cbam.embedded import InstallationResult, chargeable
from fedcarbon.cbam.emissions import stream_emissions
from fedcarbon.cbam.errors import CbamError, CommunicationError
from fedcarbon.cbam.goods import normalise_cn

COMMUNICATION_FORMAT = "fedcarbon.cbam-communication.v1"
TEMPLATE_FORMAT = "fedcarbon.cbam-template.v1"
MAX_GOODS = 10_000


@dataclass(frozen=True)
class CommunicatedGood:
    name: str
    cn_code: str
    production_route: str
    see_direct: float
    see_indirect: float
    indirect_counted: bool
    carbon_price_paid_eur_per_t: float

    @property
    def see_total(self) -> float:
        return self.see_direct + self.see_indirect

    @property
    def see_chargeable(self) -> float:
        return chargeable(self.see_direct, self.see_indirect, self.indirect_counted)


@dataclass(frozen=True)
class Communication:
    """The figures for importers of one installation's goods in one reporting period."""

    installation_id: str
    installation_name: str
    country: str
    period: str
    goods: tuple[CommunicatedGood, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": COMMUNICATION_FORMAT,
            "installation": {
                "id": self.installation_id,
                "name": self.installation_name,
                "country": self.country,
            },
            "period": self.period,
            "goods": [
                {
                    "name": g.name,
                    "cn_code": g.cn_code,
                    "production_route": g.production_route,
                    "see_direct": g.see_direct,
                    "see_indirect": g.see_indirect,
                    "see_total": g.see_total,
                    "indirect_counted": g.indirect_counted,
                    "carbon_price_paid_eur_per_t": g.carbon_price_paid_eur_per_t,
                }
                for g in self.goods
            ],
        }

    def to_json(self) -> bytes:
        """Deterministic bytes (sorted keys, no spaces): what is signed and sealed."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, data: Any, where: str = "communication") -> "Communication":
        """Parse and check; every error names the field path."""
        if not isinstance(data, dict):
            raise CommunicationError(f"{where}: expected a JSON object")
        if data.get("format") != COMMUNICATION_FORMAT:
            raise CommunicationError(
                f"{where}.format: expected {COMMUNICATION_FORMAT!r}, got {data.get('format')!r}"
            )
        head = data.get("installation")
        if not isinstance(head, dict):
            raise CommunicationError(f"{where}.installation: expected an object")
        goods = data.get("goods")
        if not isinstance(goods, list) or not goods or len(goods) > MAX_GOODS:
            raise CommunicationError(f"{where}.goods: expected 1 to {MAX_GOODS} goods")
        return cls(
            installation_id=_text(head, "id", f"{where}.installation"),
            installation_name=_text(head, "name", f"{where}.installation"),
            country=_text(head, "country", f"{where}.installation"),
            period=_text(data, "period", where),
            goods=tuple(_good(g, f"{where}.goods[{i}]") for i, g in enumerate(goods)),
        )

    @classmethod
    def from_json(cls, raw: bytes | str, where: str = "communication") -> "Communication":
        try:
            return cls.from_dict(json.loads(raw), where)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise CommunicationError(f"{where}: not JSON ({error})") from None


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or len(value) > 1000:
        raise CommunicationError(f"{where}.{key}: expected text of at most 1000 characters")
    return value


def _number(data: dict[str, Any], key: str, where: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommunicationError(f"{where}.{key}: expected a number, got {value!r}")
    number = float(value)
    if number != number or number < 0 or number == float("inf"):
        raise CommunicationError(f"{where}.{key}: must be a finite number >= 0, got {value!r}")
    return number


def _good(data: Any, where: str) -> CommunicatedGood:
    if not isinstance(data, dict):
        raise CommunicationError(f"{where}: expected an object")
    counted = data.get("indirect_counted")
    if not isinstance(counted, bool):
        raise CommunicationError(f"{where}.indirect_counted: expected true or false")
    try:
        cn = normalise_cn(_text(data, "cn_code", where), where=f"{where}.cn_code")
    except CbamError as error:
        raise CommunicationError(str(error)) from None
    good = CommunicatedGood(
        name=_text(data, "name", where),
        cn_code=cn,
        production_route=_text(data, "production_route", where),
        see_direct=_number(data, "see_direct", where),
        see_indirect=_number(data, "see_indirect", where),
        indirect_counted=counted,
        carbon_price_paid_eur_per_t=_number(data, "carbon_price_paid_eur_per_t", where),
    )
    if "see_total" in data and abs(_number(data, "see_total", where) - good.see_total) > 1e-9:
        raise CommunicationError(f"{where}.see_total: is not see_direct + see_indirect")
    return good


def communication_of(result: InstallationResult) -> Communication:
    """The importer-facing figures of a computed installation, and only those."""
    inst = result.installation
    return Communication(
        installation_id=inst.identifier or inst.name,
        installation_name=inst.name,
        country=inst.country,
        period=inst.period,
        goods=tuple(
            CommunicatedGood(
                name=g.name,
                cn_code=g.cn_code,
                production_route=g.production_route,
                see_direct=g.see_direct,
                see_indirect=g.see_indirect,
                indirect_counted=g.indirect_counted,
                carbon_price_paid_eur_per_t=g.carbon_price_paid_eur_per_t,
            )
            for g in result.goods
        ),
    )


def template_sections(result: InstallationResult) -> dict[str, list[dict[str, Any]]]:
    """The template's sections as rows (one dict per row), shared by the xlsx and JSON forms."""
    inst = result.installation
    streams = [
        {
            "source_stream": s.name,
            "method": s.method.value,
            "activity_data": s.activity_data,
            "ncv_gj_per_unit": s.net_calorific_value,
            "emission_factor": s.emission_factor,
            "oxidation_factor": s.oxidation_factor,
            "conversion_factor": s.conversion_factor,
            "carbon_content_t_c_per_t": s.carbon_content,
            "biomass_fraction": s.biomass_fraction,
            "emissions_t_co2e": stream_emissions(s).value,
            "shares": ", ".join(f"{k}={v}" for k, v in s.shares.items()),
        }
        for s in inst.source_streams
    ]
    processes = [{"process": g.process, **f.to_dict()} for g in result.goods for f in g.figures]
    return {
        "A_InstData": [
            {"field": "installation id", "value": inst.identifier or inst.name},
            {"field": "installation name", "value": inst.name},
            {"field": "country", "value": inst.country},
            {"field": "reporting period", "value": inst.period},
            {"field": "total direct emissions t CO2e", "value": result.total_direct_t_co2e},
        ],
        "B_EmInst": streams,
        "D_Processes": processes,
        "E_PurchPrec": [
            {
                "precursor": p.name,
                "cn_code": p.cn_code,
                "country": p.country,
                "route": p.production_route,
                "see_direct": p.see_direct,
                "see_indirect": p.see_indirect,
            }
            for p in inst.purchased
        ],
        "Summary_Products": communication_of(result).to_dict()["goods"],
    }


def template_json(result: InstallationResult) -> dict[str, Any]:
    return {"format": TEMPLATE_FORMAT, **template_sections(result)}


def write_template_xlsx(result: InstallationResult, path: Path) -> None:
    """One sheet per template section, a header row, then the rows."""
    book = Workbook()
    first = True
    for sheet_name, rows in template_sections(result).items():
        sheet = book.active if first else book.create_sheet()
        first = False
        assert sheet is not None
        sheet.title = sheet_name
        columns = list(rows[0]) if rows else ["(none)"]
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c) for c in columns])
    book.save(path)
