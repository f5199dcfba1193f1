"""SAP material documents: energy and fuel consumption as posted in SAP ERP / S/4HANA.

Fuels, gases and often purchased electricity are materials in SAP; consuming them posts a goods
issue (a material document). The adapter reads those documents either

* as a CSV export of the MSEG/MKPF fields (transaction MB51, SE16N or a CDS view), with the
  technical column names ``MBLNR MJAHR ZEILE BWART MATNR WERKS MENGE MEINS BUDAT``, or
* from the S/4HANA OData service ``API_MATERIAL_DOCUMENT_SRV``, entity set
  ``A_MaterialDocumentItem`` (fields ``MaterialDocument``, ``MaterialDocumentYear``,
  ``MaterialDocumentItem``, ``GoodsMovementType``, ``Material``, ``Plant``,
  ``QuantityInEntryUnit``, ``EntryUnit``, ``PostingDate``; OData v2 JSON ``{"d": {"results":
  [...], "__next": ...}}``), or a saved response of it.

Mapping (see ``docs/integrators.md``): record id ``sap:<MBLNR>-<MJAHR>-<ZEILE>``, site = plant,
region from the ``plants`` table, activity from the ``materials`` table (materials not listed are
ignored and counted: a material-document export holds every screw), quantity signed by movement
type (consumption ``201 221 261`` positive, their reversals ``202 222 262`` negative), SAP
internal units of measure translated by ``DEFAULT_UNITS`` plus ``units``.

With ``match_unmapped = true`` a material missing from ``materials`` is not ignored but becomes a
spend line to match (activity ``spend.unmatched``): its amount (``DMBTR``) in its currency
(``WAERS``) with the material text (``MAKTX``) as description; the agent maps it to a NAICS-6
spend factor through confirmed mappings or the offline matcher (``fedcarbon agent mappings``).
"""

from __future__ import annotations

import base64
import csv
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from fedcarbon.adapters.builtin.exports import export_files
from fedcarbon.adapters.contract import Adapter, FetchResult, Period, Rejected
from fedcarbon.adapters.credentials import read_secret, redact
from fedcarbon.adapters.errors import CredentialError, SourceUnavailableError
from fedcarbon.adapters.mapping import RecordMapping, map_rows
from fedcarbon.matching import UNMATCHED_ACTIVITY

DEFAULT_UNITS: Mapping[str, str] = {
    "KWH": "kWh",
    "MWH": "MWh",
    "GJ": "GJ",
    "MJ": "MJ",
    "L": "L",
    "M3": "m**3",
    "KG": "kg",
    "TO": "tonne",
    "G": "g",
    "GAL": "gal",
    "ST": "piece",
    "PC": "piece",
}
"""SAP internal units of measure (table T006) as pint units; ``units`` adds or overrides."""

CONSUMPTION = ("201", "221", "261")
"""Goods issues to a cost center, a project and a production order."""
REVERSALS = ("202", "222", "262")
"""Their reversals, which take the quantity back."""

ODATA_FIELDS: Mapping[str, str] = {
    "MaterialDocument": "MBLNR",
    "MaterialDocumentYear": "MJAHR",
    "MaterialDocumentItem": "ZEILE",
    "GoodsMovementType": "BWART",
    "Material": "MATNR",
    "Plant": "WERKS",
    "QuantityInEntryUnit": "MENGE",
    "EntryUnit": "MEINS",
    "PostingDate": "BUDAT",
}
"""OData property -> MSEG/MKPF column, so both sources share one mapping."""

_ODATA_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


@dataclass(frozen=True)
class SapConfig:
    """Options of the ``sap`` adapter.

    Attributes:
        materials: SAP material number -> activity code (``"100200" = "fuel.diesel"``); leading
            zeros of numeric material numbers do not matter.
        plants: plant -> ISO 3166 region (``"1000" = "DE"``).
        format: ``csv`` (MSEG/MKPF export) or ``odata`` (API_MATERIAL_DOCUMENT_SRV JSON).
        path: CSV export (or folder), or a saved OData JSON response (or folder).
        url: the OData entity set URL, instead of ``path``.
        username: OData user.
        password_env: environment variable holding the OData password.
        password_file: file holding the OData password (mode 600).
        movement_types: movement types booked as consumption.
        reversal_types: movement types booked negative (reversals).
        units: extra or overriding unit translations (``"ZKW" = "kWh"``).
        delimiter: CSV field separator.
        date_format: CSV date format (``%d.%m.%Y`` for German exports); ISO or ``YYYYMMDD`` when
            unset.
        decimal_comma: CSV numbers use a decimal comma.
        encoding: CSV text encoding (SAP GUI often writes ``cp1252``).
        timeout: seconds to wait for the OData service.
        match_unmapped: read materials missing from ``materials`` as spend lines to match by
            their text (activity ``spend.unmatched``) instead of ignoring them.
        text_column: column of the material short text (with ``match_unmapped``).
        amount_column: column of the amount in local currency (with ``match_unmapped``).
        currency_column: column of the amount's currency code (with ``match_unmapped``).
    """

    materials: Mapping[str, str]
    plants: Mapping[str, str]
    format: Literal["csv", "odata"] = "csv"
    path: Path | None = None
    url: str | None = None
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = field(default=None, repr=False)
    movement_types: tuple[str, ...] = CONSUMPTION
    reversal_types: tuple[str, ...] = REVERSALS
    units: Mapping[str, str] = field(default_factory=dict)
    delimiter: str = ","
    date_format: str | None = None
    decimal_comma: bool = False
    encoding: str = "utf-8-sig"
    timeout: float = 30.0
    match_unmapped: bool = False
    text_column: str = "MAKTX"
    amount_column: str = "DMBTR"
    currency_column: str = "WAERS"

    def __post_init__(self) -> None:
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of 'path' or 'url'")
        if self.url is not None and self.format != "odata":
            raise ValueError("'url' needs format = 'odata'")

    def mapping(self) -> RecordMapping:
        """The mapping-layer tables this configuration stands for."""
        return RecordMapping(
            columns={
                "record_id": "sap:{MBLNR}-{MJAHR}-{ZEILE}",
                "site": "WERKS",
                "activity": "_MATERIAL",
                "quantity": "MENGE",
                "unit": "MEINS",
                "period_start": "BUDAT",
                "period_end": "BUDAT",
                "region": "_REGION",
                "description": "_DESCRIPTION",
            },
            units={**DEFAULT_UNITS, **self.units},
            activities={
                **{_material_key(k): v for k, v in self.materials.items()},
                **({UNMATCHED_ACTIVITY: UNMATCHED_ACTIVITY} if self.match_unmapped else {}),
            },
            unmapped="ignore",
            filters={"BWART": self.movement_types + self.reversal_types},
            negate={"BWART": self.reversal_types},
            date_format=self.date_format,
            decimal_comma=self.decimal_comma,
        )


def _material_key(material: str) -> str:
    text = str(material).strip()
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text


def _odata_date(value: Any) -> Any:
    """OData v2 ``/Date(ms)/`` -> date; other values unchanged."""
    if isinstance(value, str):
        match = _ODATA_DATE.match(value)
        if match:
            return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()
    return value


class SapMaterialDocumentAdapter(Adapter):
    """Fuel and energy goods issues from SAP material documents (CSV export or OData)."""

    name: ClassVar[str] = "sap"
    config_type: ClassVar[type[Any]] = SapConfig

    def __init__(self, config: SapConfig) -> None:
        super().__init__(config)
        self.config: SapConfig = config
        self._mapping = config.mapping()
        self._known = {_material_key(k) for k in config.materials}

    def describe(self) -> str:
        origin = _without_query(self.config.url) if self.config.url else str(self.config.path)
        return f"sap {self.config.format} {origin}"

    def fetch(self, period: Period) -> FetchResult:
        rejected: list[Rejected] = []
        rows: list[tuple[str, dict[str, Any]]] = []
        if self.config.url is not None:
            rows = self._odata_rows(period)
        else:
            assert self.config.path is not None
            pattern = "*.csv" if self.config.format == "csv" else "*.json"
            for path in export_files(self.name, self.config.path, pattern):
                try:
                    rows += self._file_rows(path)
                except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
                    rejected.append(Rejected(path.name, None, f"file could not be read: {exc}"))
        prepared = [(ref, self._prepare(row)) for ref, row in rows]
        mapped = map_rows(prepared, self._mapping, source=self.name, period=period)
        plants = {ref: row.get("WERKS") for ref, row in prepared if not row["_REGION"]}
        for item in mapped.rejected:
            if item.source_ref in plants and item.reason.startswith("region:"):
                reason = f"plant {plants[item.source_ref]!r} has no region in the 'plants' table"
                item = Rejected(item.source_ref, item.record_id, reason)
            rejected.append(item)
        return FetchResult(mapped.records, rejected, None, mapped.ignored)

    def _prepare(self, row: dict[str, Any]) -> dict[str, Any]:
        """Add the looked-up region and the zero-stripped material number."""
        out = {str(k).strip().upper() if k else "": v for k, v in row.items()}
        out["_REGION"] = self.config.plants.get(str(out.get("WERKS", "")).strip(), "")
        out["_MATERIAL"] = _material_key(str(out.get("MATNR", "")))
        out["_DESCRIPTION"] = ""
        if self.config.match_unmapped and out["_MATERIAL"] not in self._known:
            text = str(out.get(self.config.text_column.upper()) or "").strip()
            if text:
                # A spend line: the amount in its currency, matched later by its text.
                out["_MATERIAL"] = UNMATCHED_ACTIVITY
                out["_DESCRIPTION"] = text
                out["MENGE"] = out.get(self.config.amount_column.upper(), "")
                out["MEINS"] = out.get(self.config.currency_column.upper(), "")
        out["BUDAT"] = _odata_date(out.get("BUDAT", ""))
        if self.config.date_format is None and re.fullmatch(r"\d{8}", str(out["BUDAT"])):
            raw = str(out["BUDAT"])  # SAP's internal date format YYYYMMDD
            out["BUDAT"] = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
        return out

    def _file_rows(self, path: Path) -> list[tuple[str, dict[str, Any]]]:
        if self.config.format == "odata":
            document = json.loads(path.read_text(encoding="utf-8"))
            return [(f"{path.name}#{i}", item) for i, item in enumerate(_odata_results(document))]
        with path.open(newline="", encoding=self.config.encoding) as handle:
            reader = csv.DictReader(handle, delimiter=self.config.delimiter)
            return [(f"{path.name}:{reader.line_num}", dict(row)) for row in reader]

    def _odata_rows(self, period: Period) -> list[tuple[str, dict[str, Any]]]:
        assert self.config.url is not None
        secret = read_secret(
            self.name, env=self.config.password_env, file=self.config.password_file
        )
        headers = {"Accept": "application/json"}
        if self.config.username is not None:
            user = f"{self.config.username}:{secret or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(user).decode("ascii")
        start = f"datetime'{period.start.isoformat()}T00:00:00'"
        end = f"datetime'{period.end.isoformat()}T00:00:00'"
        query = urllib.parse.urlencode(
            {
                "$filter": f"PostingDate ge {start} and PostingDate le {end}",
                "$format": "json",
            }
        )
        url: str | None = f"{self.config.url}{'&' if '?' in self.config.url else '?'}{query}"
        rows: list[tuple[str, dict[str, Any]]] = []
        seen: set[str] = set()
        while url is not None and url not in seen:
            seen.add(url)
            document = self._get(url, headers, secret)
            for item in _odata_results(document):
                key = "-".join(str(item.get(k, "?")) for k in ("MBLNR", "MJAHR", "ZEILE"))
                rows.append((f"A_MaterialDocumentItem({key})", item))
            next_link = document.get("d", {}).get("__next") if isinstance(document, dict) else None
            url = urllib.parse.urljoin(url, next_link) if isinstance(next_link, str) else None
        return rows

    def _get(self, url: str, headers: Mapping[str, str], secret: str | None) -> Any:
        where = _without_query(url)
        request = urllib.request.Request(url, headers=dict(headers))
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise CredentialError(
                    self.name, "password", f"was refused by {where} (HTTP {exc.code})"
                ) from None
            raise SourceUnavailableError(self.name, where, f"HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = redact(str(getattr(exc, "reason", exc)), secret)
            raise SourceUnavailableError(self.name, where, reason) from None
        try:
            return json.loads(body)
        except ValueError:
            raise SourceUnavailableError(self.name, where, "the response is not JSON") from None


def _odata_results(document: Any) -> list[dict[str, Any]]:
    """The entities of an OData v2 (``d.results``) or v4 (``value``) JSON collection."""
    if isinstance(document, dict):
        inner = document.get("d", document)
        results = inner.get("results") if isinstance(inner, dict) else None
        if results is None and isinstance(document.get("value"), list):
            results = document["value"]
        if isinstance(results, list):
            rows: list[dict[str, Any]] = []
            for item in results:
                entity = item if isinstance(item, dict) else {}
                rows.append({ODATA_FIELDS.get(k, k): v for k, v in entity.items()})
            return rows
    raise ValueError("not an OData JSON collection (no d.results or value array)")


def _without_query(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
