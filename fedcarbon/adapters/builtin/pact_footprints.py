"""Purchased goods with suppliers' own product footprints (PACT), for Scope 3 category 1.

Suppliers that already compute product carbon footprints share them as PACT
``ProductFootprint`` documents (WBCSD PACT Technical Specifications v2/v3), as files or through a
PACT host system's REST API (``GET /3/footprints``, OAuth2 client-credentials, RFC 6749
section 4.4; pages follow ``Link: <...>; rel="next"``, RFC 8288). This adapter joins them with
the buyer's purchase lines: each purchase becomes an activity ``pcf.<productId>`` in Scope 3
category 1 (GHG Protocol Scope 3 Standard, ch. 5, supplier-specific method), booked to the
supplier named in the footprint. The matching emission factors come from
``fedcarbon.accounting.pact.factors_from_pact(adapter.footprints())``.

Purchases whose product has no footprint, or whose unit cannot convert to the footprint's
declared unit, are rejected by row, so the user sees which purchases still need another method.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from fedcarbon.adapters.builtin.exports import export_files
from fedcarbon.adapters.contract import Adapter, FetchResult, Period, Rejected
from fedcarbon.adapters.credentials import read_secret, redact
from fedcarbon.adapters.errors import CredentialError, SourceUnavailableError
from fedcarbon.adapters.mapping import RecordMapping, convert_quantity, map_rows

if TYPE_CHECKING:
    from fedcarbon.accounting.pact import ProductFootprint

DECLARED_UNITS: Mapping[str, str] = {
    "liter": "L",
    "kilogram": "kg",
    "cubic meter": "m**3",
    "kilowatt hour": "kWh",
    "megajoule": "MJ",
    "ton kilometer": "tonne*km",
    "square meter": "m**2",
    "piece": "piece",
    "hour": "hour",
}
"""PACT ``declaredUnitOfMeasurement`` values and the pint unit each means."""

_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True)
class PactConfig:
    """Options of the ``pact`` adapter.

    Attributes:
        purchases: CSV (or folder of CSVs) of purchase lines.
        purchases_mapping: how purchase columns become fields; ``product`` must hold the
            supplier's product id (``urn:gtin:...``), ``activity`` is set by the adapter.
        footprints: a PACT JSON file or a folder of them.
        endpoint: a PACT ListFootprints URL (``https://host/3/footprints``), instead of files.
        token_url: OAuth2 token URL of the PACT host (``https://host/auth/token``).
        client_id: OAuth2 client id given by the supplier.
        client_secret_env: environment variable holding the client secret.
        client_secret_file: file holding the client secret (mode 600).
        delimiter: field separator of the purchases CSV.
        timeout: seconds to wait for the PACT host.
    """

    purchases: Path
    purchases_mapping: RecordMapping = field(default_factory=RecordMapping)
    footprints: Path | None = None
    endpoint: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret_env: str | None = None
    client_secret_file: Path | None = field(default=None, repr=False)
    delimiter: str = ","
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if (self.footprints is None) == (self.endpoint is None):
            raise ValueError("give exactly one of 'footprints' (files) or 'endpoint' (REST)")
        if self.endpoint is not None and self.token_url is None:
            raise ValueError("'endpoint' needs 'token_url' (PACT hosts require OAuth2)")


class PactAdapter(Adapter):
    """Purchases of products with supplier PACT footprints, as Scope 3 category 1 activities."""

    name: ClassVar[str] = "pact"
    config_type: ClassVar[type[Any]] = PactConfig

    def __init__(self, config: PactConfig) -> None:
        super().__init__(config)
        self.config: PactConfig = config
        self._footprints: list[ProductFootprint] | None = None

    def describe(self) -> str:
        origin = self.config.endpoint or str(self.config.footprints)
        return f"pact {origin} + purchases {self.config.purchases}"

    def footprints(self) -> list[ProductFootprint]:
        """The active footprints read by the last fetch (for ``factors_from_pact``)."""
        return list(self._footprints or [])

    def fetch(self, period: Period) -> FetchResult:
        footprints, rejected = self._load_footprints()
        self._footprints = footprints
        by_product: dict[str, ProductFootprint] = {}
        for fp in sorted(footprints, key=lambda f: f.created):
            for product_id in fp.product_ids:
                by_product[product_id] = fp  # the newest footprint of a product wins
        mapping = dataclasses.replace(
            self.config.purchases_mapping,
            defaults={**self.config.purchases_mapping.defaults, "activity": "pcf.purchase"},
        )
        rows = []
        for path in export_files(self.name, self.config.purchases, "*.csv"):
            try:
                with path.open(newline="", encoding="utf-8-sig") as handle:
                    reader = csv.DictReader(handle, delimiter=self.config.delimiter)
                    rows += [(f"{path.name}:{reader.line_num}", dict(row)) for row in reader]
            except (OSError, UnicodeDecodeError, csv.Error) as exc:
                rejected.append(Rejected(path.name, None, f"file could not be read: {exc}"))
        mapped = map_rows(rows, mapping, source=self.name, period=period)
        rejected += mapped.rejected
        records = []
        from fedcarbon.accounting.pact import pcf_activity

        for ref, record in zip(mapped.refs, mapped.records, strict=True):
            found = by_product.get(record.product or "")
            if found is None:
                why = f"no active PACT footprint for product {record.product!r}"
                rejected.append(Rejected(ref, record.record_id, why))
                continue
            fp = found
            declared = DECLARED_UNITS.get(fp.pcf.declared_unit_of_measurement)
            try:
                if declared is None:
                    raise ValueError(
                        f"footprint {fp.id} has unknown declared unit "
                        f"{fp.pcf.declared_unit_of_measurement!r}"
                    )
                convert_quantity(1.0, record.unit, declared)
            except ValueError as exc:
                rejected.append(Rejected(ref, record.record_id, f"unit: {exc}"))
                continue
            records.append(
                dataclasses.replace(
                    record,
                    activity=pcf_activity(str(record.product)),
                    scope3_category=1,
                    supplier=record.supplier or fp.company_name,
                    data_quality=f"supplier-specific (PACT footprint {fp.id})",
                )
            )
        return FetchResult(records, rejected, None, mapped.ignored)

    def _load_footprints(self) -> tuple[list[ProductFootprint], list[Rejected]]:
        from fedcarbon.accounting.pact import import_violations, parse_document

        documents: list[tuple[str, Any]] = []
        rejected: list[Rejected] = []
        if self.config.footprints is not None:
            for path in export_files(self.name, self.config.footprints, "*.json"):
                try:
                    documents.append((path.name, json.loads(path.read_text(encoding="utf-8"))))
                except (OSError, UnicodeDecodeError, ValueError) as exc:
                    rejected.append(Rejected(path.name, None, f"not a JSON document: {exc}"))
        else:
            documents = self._download()
        footprints: list[ProductFootprint] = []
        for ref, document in documents:
            items = document["data"] if _is_list_body(document) else [document]
            for i, item in enumerate(items):
                where = f"{ref}#data[{i}]" if _is_list_body(document) else ref
                try:
                    parsed = parse_document(item)
                except Exception as exc:  # PactDocumentError names the JSON path
                    rejected.append(Rejected(where, _id_of(item), f"not a PACT footprint: {exc}"))
                    continue
                for fp in parsed:
                    problems = import_violations(fp)
                    if problems:
                        detail = "; ".join(f"{v.json_path}: {v.message}" for v in problems[:5])
                        rejected.append(Rejected(where, fp.id, f"not valid PACT v3: {detail}"))
                    else:
                        footprints.append(fp)
        return [fp for fp in footprints if fp.status == "Active"], rejected

    def _download(self) -> list[tuple[str, Any]]:
        secret = read_secret(
            self.name,
            env=self.config.client_secret_env,
            file=self.config.client_secret_file,
            key="client_secret",
        )
        token = self._token(secret)
        url: str | None = self.config.endpoint
        pages: list[tuple[str, Any]] = []
        seen: set[str] = set()
        while url is not None and url not in seen:
            seen.add(url)
            request = urllib.request.Request(
                url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
            )
            body, headers = self._call(request, secret, token)
            try:
                document = json.loads(body)
            except ValueError:
                raise SourceUnavailableError(
                    self.name, _redacted(url), "the footprint list is not JSON"
                ) from None
            if not _is_list_body(document):
                raise SourceUnavailableError(
                    self.name, _redacted(url), "the body is not a ListFootprints response"
                )
            pages.append((f"page {len(pages) + 1}", document))
            match = _NEXT_LINK.search(headers.get("Link", "") or "")
            url = urllib.parse.urljoin(url, match.group(1)) if match else None
        return pages

    def _token(self, secret: str | None) -> str:
        assert self.config.token_url is not None  # checked by PactConfig
        user = f"{self.config.client_id or ''}:{secret or ''}".encode()
        request = urllib.request.Request(
            self.config.token_url,
            data=b"grant_type=client_credentials",
            headers={
                "Authorization": "Basic " + base64.b64encode(user).decode("ascii"),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            method="POST",
        )
        body, _ = self._call(request, secret, None)
        try:
            token = json.loads(body)["access_token"]
        except (ValueError, KeyError, TypeError):
            raise SourceUnavailableError(
                self.name, self.config.token_url, "the token response has no access_token"
            ) from None
        if not isinstance(token, str):
            raise SourceUnavailableError(self.name, self.config.token_url, "bad access_token")
        return token

    def _call(
        self, request: urllib.request.Request, secret: str | None, token: str | None
    ) -> tuple[bytes, Mapping[str, str]]:
        url = _redacted(request.full_url)
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout) as response:
                return response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            if exc.code in (400, 401, 403):
                raise CredentialError(
                    self.name, "client_secret", f"was refused by {url} (HTTP {exc.code})"
                ) from None
            raise SourceUnavailableError(self.name, url, f"HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = redact(str(getattr(exc, "reason", exc)), secret, token)
            raise SourceUnavailableError(self.name, url, reason) from None


def _is_list_body(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("data"), list)


def _id_of(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, dict) else None
    return value if isinstance(value, str) else None


def _redacted(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
