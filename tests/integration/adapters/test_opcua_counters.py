"""The OPC UA adapter against a real asyncua server started by the test, through the kit."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncua
import pytest
from asyncua.server.server import Server

from fedcarbon.adapters.contract import Adapter, Period
from fedcarbon.adapters.registry import create_adapter
from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase
from tests.integration.adapters.conftest import closed_port

# asyncua's annotations want its own wrapper types (Int16, DateTime ...); plain values work.
ua: Any = asyncua.ua

MARCH_2024 = Period(date(2024, 3, 1), date(2024, 3, 31))


def _at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass
class PlcServer:
    """An asyncua server on its own event loop thread, with helpers to plant values."""

    server: Any
    loop: asyncio.AbstractEventLoop
    endpoint: str
    namespace: int

    def call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=30)

    async def _add(self, name: str, initial: Any) -> Any:
        objects = self.server.nodes.objects
        node = await objects.add_variable(ua.NodeId(name, self.namespace), name, initial)
        await self.server.historize_node_data_change(node, period=None)
        return node

    def add_node(self, name: str, initial: Any = 0.0) -> str:
        """Add a historized variable; returns its node id string."""
        node = self.call(self._add(name, initial))
        return str(node.nodeid.to_string())

    async def _plant(self, node_id: str, values: list[tuple[datetime, Any, int]]) -> None:
        storage = self.server.iserver.history_manager.storage
        for at, value, status in values:
            dv = ua.DataValue(
                ua.Variant(value),
                StatusCode=ua.StatusCode(status),
                SourceTimestamp=at,
                ServerTimestamp=at,
            )
            await storage.save_node_value(ua.NodeId.from_string(node_id), dv)

    def plant_history(self, node_id: str, values: list[tuple[datetime, Any, int]]) -> None:
        """Store values in the server's history as if the PLC had reported them at those times."""
        self.call(self._plant(node_id, values))

    async def _write(self, node_id: str, value: float, at: datetime) -> None:
        node = self.server.get_node(node_id)
        await node.write_value(
            ua.DataValue(ua.Variant(value, ua.VariantType.Double), SourceTimestamp=at)
        )

    def write_now(self, node_id: str, value: float, at: datetime) -> None:
        """Set the node's current value with a source timestamp (a PLC register update)."""
        self.call(self._write(node_id, value, at))


@pytest.fixture(scope="module")
def plc() -> Iterator[PlcServer]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    port = closed_port()
    endpoint = f"opc.tcp://127.0.0.1:{port}/fedcarbon/"

    async def start() -> tuple[Any, int]:
        server = Server()
        await server.init()
        server.set_endpoint(endpoint)
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        namespace = await server.register_namespace("urn:fedcarbon:test-plc")
        await server.start()
        return server, namespace

    server, namespace = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=60)
    plc = PlcServer(server, loop, endpoint, namespace)
    try:
        yield plc
    finally:
        plc.call(server.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


GOOD = 0
BAD_SENSOR = ua.StatusCodes.BadSensorFailure


def _plant_plant1(plc: PlcServer) -> dict[str, str]:
    prefix = f"T{uuid.uuid4().hex[:8]}"
    main = plc.add_node(f"{prefix}.Main.Energy")
    gas = plc.add_node(f"{prefix}.Boiler.GasCounter")
    press = plc.add_node(f"{prefix}.Press.Power")
    plc.plant_history(main, [
        (_at(2024, 2, 28, 23), 5000.0, GOOD),  # baseline before the period
        (_at(2024, 3, 10), 0.0, BAD_SENSOR),  # bad: sensor failure
        (_at(2024, 3, 15), 5600.0, GOOD),
        (_at(2024, 3, 31, 23), 6200.0, GOOD),
        (_at(2024, 4, 2), 6500.0, GOOD),  # after the period
    ])  # fmt: skip
    plc.plant_history(gas, [
        (_at(2024, 3, 1, 6), 100.0, GOOD),
        (_at(2024, 3, 12), "n/a", GOOD),  # bad: a string where a number belongs
        (_at(2024, 3, 30), 350.5, GOOD),
    ])  # fmt: skip
    plc.plant_history(press, [
        (_at(2024, 3, 5, 0), 1000.0, GOOD),
        (_at(2024, 3, 5, 1), 3000.0, GOOD),
    ])  # fmt: skip
    return {"main": main, "gas": gas, "press": press}


def _meters(nodes: dict[str, str]) -> list[dict[str, Any]]:
    common = {"site": "plant1", "region": "DE"}
    return [
        {**common, "source": nodes["main"], "meter_id": "main", "activity": "electricity.grid"},
        {**common, "source": nodes["gas"], "meter_id": "gas", "activity": "fuel.natural_gas",
         "unit": "m**3", "report_unit": "m**3"},
        {**common, "source": nodes["press"], "meter_id": "press", "activity": "electricity.grid",
         "kind": "power", "unit": "W"},
    ]  # fmt: skip


def _opcua(endpoint: str, meters: list[dict[str, Any]], **extra: Any) -> Adapter:
    return create_adapter(
        "opcua", {"endpoint": endpoint, "meters": meters, "timeout": 3.0, **extra}
    )


class TestOpcUaConformance(AdapterConformance):
    @pytest.fixture
    def conformance_case(self, plc: PlcServer, monkeypatch: pytest.MonkeyPatch) -> ConformanceCase:
        meters = _meters(_plant_plant1(plc))
        # The test server admits any user; the password must still never show.
        monkeypatch.setenv("FC_TEST_OPCUA_PASSWORD", "canary-opc-5b20")
        auth = {"username": "mes-reader", "password_env": "FC_TEST_OPCUA_PASSWORD"}
        dead = f"opc.tcp://127.0.0.1:{closed_port()}/"
        rid = f"{MARCH_2024.start}:{MARCH_2024.end}"
        return ConformanceCase(
            make_adapter=lambda: _opcua(plc.endpoint, meters, **auth),
            period=MARCH_2024,
            expected_records=3,
            expected_rejected=2,
            expected_quantities={
                f"opcua:main:{rid}": (1200.0, "kWh"),
                f"opcua:gas:{rid}": (250500.0, "L"),
                f"opcua:press:{rid}": (2.0, "kWh"),
            },
            make_unreachable=lambda: _opcua(dead, meters, **auth),
            secret="canary-opc-5b20",
        )


def test_missing_node_is_rejected_and_others_still_read(plc: PlcServer) -> None:
    meters = _meters(_plant_plant1(plc))
    meters[2] = {**meters[2], "source": "ns=2;s=NoSuch.Node"}
    result = _opcua(plc.endpoint, meters).fetch(MARCH_2024)
    assert (
        len(result.records),
        "ns=2;s=NoSuch.Node" in {r.source_ref for r in result.rejected},
    ) == (
        2,
        True,
    )


def test_snapshot_mode_builds_its_own_history(plc: PlcServer, tmp_path: Path) -> None:
    node = plc.add_node(f"S{uuid.uuid4().hex[:8]}.Counter")
    now = datetime.now(UTC).replace(microsecond=0)
    today = Period(now.date() - timedelta(days=1), now.date() + timedelta(days=1))
    meters = [{"source": node, "site": "plant1", "activity": "electricity.grid", "region": "DE"}]
    spool = tmp_path / "snapshots.jsonl"
    adapter = _opcua(plc.endpoint, meters, mode="snapshot", spool=str(spool))
    plc.write_now(node, 100.0, now - timedelta(minutes=30))
    adapter.fetch(today)
    plc.write_now(node, 142.5, now - timedelta(minutes=5))
    assert [r.quantity for r in adapter.fetch(today).records] == [42.5]
