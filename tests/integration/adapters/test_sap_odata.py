"""The SAP adapter against a real HTTP server speaking OData v2 like API_MATERIAL_DOCUMENT_SRV."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from fedcarbon.adapters.contract import Adapter
from fedcarbon.adapters.registry import create_adapter
from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase
from tests.integration.adapters.conftest import closed_port
from tests.unit.adapters.samples import SAP_OPTIONS, YEAR_2024

USER, PASSWORD = "CARBON_READER", "canary-sap-pw-44e9"
SERVICE = "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentItem"


def _item(doc: str, mvt: str, material: str, plant: str, qty: str, unit: str, day: date) -> Any:
    ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    return {
        "__metadata": {"type": "API_MATERIAL_DOCUMENT_SRV.A_MaterialDocumentItemType"},
        "MaterialDocument": doc,
        "MaterialDocumentYear": "2024",
        "MaterialDocumentItem": "1",
        "GoodsMovementType": mvt,
        "Material": material,
        "Plant": plant,
        "QuantityInEntryUnit": qty,
        "EntryUnit": unit,
        "PostingDate": f"/Date({ms})/",
    }


PAGE_1 = [
    _item("4900000001", "261", "100200", "1000", "1250.000", "L", date(2024, 3, 15)),
    _item("4900000002", "201", "100300", "1000", "12.500", "MWH", date(2024, 3, 20)),
    _item("4900000004", "261", "999999", "1000", "5", "ST", date(2024, 3, 22)),  # ignored
]
PAGE_2 = [
    _item("4900000003", "262", "100200", "1000", "250.000", "L", date(2024, 3, 22)),
    _item("4900000006", "261", "100200", "3000", "10", "L", date(2024, 3, 23)),  # bad: plant
    _item("4900000007", "261", "100200", "1000", "n/a", "L", date(2024, 3, 23)),  # bad: qty
]


class ODataHost(BaseHTTPRequestHandler):
    """Serves the entity set in two pages (``__next``), behind HTTP Basic authentication."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        body: dict[str, Any]
        if self.headers.get("Authorization") != expected:
            status, body = 401, {"error": {"message": {"value": "unauthorized"}}}
        elif url.path != SERVICE or "PostingDate ge datetime'" not in query.get("$filter", [""])[0]:
            status, body = 400, {"error": {"message": {"value": "bad request"}}}
        elif query.get("$skiptoken") == ["2"]:
            status, body = 200, {"d": {"results": PAGE_2}}
        else:
            # Like SAP Gateway, the next link repeats the filter and adds a skip token.
            next_link = f"{SERVICE}?{url.query}&$skiptoken=2"
            status, body = 200, {"d": {"results": PAGE_1, "__next": next_link}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def odata_host() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ODataHost)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=10)


def _sap(base: str) -> Adapter:
    options = {
        **SAP_OPTIONS,
        "format": "odata",
        "url": base + SERVICE,
        "username": USER,
        "password_env": "FC_TEST_SAP_PASSWORD",
    }
    return create_adapter("sap", options)


class TestSapODataConformance(AdapterConformance):
    @pytest.fixture
    def conformance_case(self, odata_host: str, monkeypatch: pytest.MonkeyPatch) -> ConformanceCase:
        monkeypatch.setenv("FC_TEST_SAP_PASSWORD", PASSWORD)
        return ConformanceCase(
            make_adapter=lambda: _sap(odata_host),
            period=YEAR_2024,
            expected_records=3,
            expected_rejected=2,
            expected_quantities={
                "sap:4900000002-2024-1": (12500.0, "kWh"),
                "sap:4900000003-2024-1": (-250.0, "L"),
            },
            make_unreachable=lambda: _sap(f"http://127.0.0.1:{closed_port()}"),
            secret=PASSWORD,
        )


def test_rejections_name_the_odata_entity_key(
    odata_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FC_TEST_SAP_PASSWORD", PASSWORD)
    refs = sorted(r.source_ref for r in _sap(odata_host).fetch(YEAR_2024).rejected)
    assert refs == [
        "A_MaterialDocumentItem(4900000006-2024-1)",
        "A_MaterialDocumentItem(4900000007-2024-1)",
    ]
