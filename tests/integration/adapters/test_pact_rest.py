"""The PACT adapter against a real PACT-style HTTP host started by the test (OAuth2 + paging)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fedcarbon.adapters.contract import Adapter
from fedcarbon.adapters.errors import CredentialError
from fedcarbon.adapters.registry import create_adapter
from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase
from tests.integration.adapters.conftest import closed_port
from tests.unit.adapters.samples import PACT_DATA, PURCHASES_CSV, PURCHASES_MAPPING, YEAR_2024

CLIENT_ID = "buyer-42"
CLIENT_SECRET = "canary-pact-secret-0f3a"
TOKEN = "token-8e1d"

PAGES = {
    "1": [json.loads((PACT_DATA / "example-1.json").read_text())],
    "2": [
        json.loads((PACT_DATA / "example-2.json").read_text()),
        {"id": "broken-footprint", "specVersion": "3.0.0"},  # bad: most fields missing
    ],
}


class PactHost(BaseHTTPRequestHandler):
    """ListFootprints with OAuth2 client credentials, two pages linked by ``rel="next"``."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = self.rfile.read(length).decode()
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if self.path != "/auth/token" or form != "grant_type=client_credentials":
            self._send(400, {"error": "invalid_request"})
        elif self.headers.get("Authorization") != f"Basic {expected}":
            self._send(401, {"error": "invalid_client"})
        else:
            self._send(200, {"access_token": TOKEN, "token_type": "bearer"})

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"code": "BadRequest", "message": "no token"})
            return
        page = "2" if self.path.endswith("page=2") else "1"
        links = {"Link": '</3/footprints?page=2>; rel="next"'} if page == "1" else {}
        self._send(200, {"data": PAGES[page]}, links)


@pytest.fixture(scope="module")
def pact_host() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), PactHost)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=10)


def _pact(base: str, root: Path, **extra: Any) -> Adapter:
    options = {
        "purchases": str(root / "purchases.csv"),
        "purchases_mapping": PURCHASES_MAPPING,
        "endpoint": f"{base}/3/footprints",
        "token_url": f"{base}/auth/token",
        "client_id": CLIENT_ID,
        "client_secret_env": "FC_TEST_PACT_SECRET",
    }
    return create_adapter("pact", {**options, **extra})


class TestPactRestConformance(AdapterConformance):
    @pytest.fixture
    def conformance_case(
        self, pact_host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> ConformanceCase:
        monkeypatch.setenv("FC_TEST_PACT_SECRET", CLIENT_SECRET)
        (tmp_path / "purchases.csv").write_text(PURCHASES_CSV)
        dead = f"http://127.0.0.1:{closed_port()}"
        return ConformanceCase(
            make_adapter=lambda: _pact(pact_host, tmp_path),
            period=YEAR_2024,
            expected_records=3,
            expected_rejected=3,
            expected_quantities={"4500004-10": (1500.0, "kg")},
            make_unreachable=lambda: _pact(dead, tmp_path),
            secret=CLIENT_SECRET,
        )


def test_broken_footprint_is_rejected_by_page_and_index(
    pact_host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FC_TEST_PACT_SECRET", CLIENT_SECRET)
    (tmp_path / "purchases.csv").write_text(PURCHASES_CSV)
    refs = [r.source_ref for r in _pact(pact_host, tmp_path).fetch(YEAR_2024).rejected]
    assert "page 2#data[1]" in refs


def test_wrong_client_secret_is_a_credential_error(
    pact_host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FC_TEST_PACT_SECRET", "not-the-secret")
    (tmp_path / "purchases.csv").write_text(PURCHASES_CSV)
    with pytest.raises(CredentialError, match="HTTP 401"):
        _pact(pact_host, tmp_path).fetch(YEAR_2024)
