"""The MQTT meter adapter against the real Mosquitto on 127.0.0.1, through the conformance kit."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from paho.mqtt.client import Client, MQTTv311
from paho.mqtt.enums import CallbackAPIVersion

from fedcarbon.adapters.contract import Adapter, Period
from fedcarbon.adapters.registry import create_adapter
from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase
from tests.integration.adapters.conftest import MQTT_HOST, MQTT_PORT, closed_port

pytestmark = pytest.mark.services

NOW = datetime.now(UTC).replace(microsecond=0)
PERIOD = Period((NOW - timedelta(days=1)).date(), (NOW + timedelta(days=1)).date())
T0 = NOW - timedelta(hours=3)


def _meters(prefix: str) -> list[dict[str, Any]]:
    common = {"site": "plant1", "region": "DE", "time_key": "ts"}
    return [
        {**common, "source": f"{prefix}/main", "meter_id": "main", "activity": "electricity.grid",
         "kind": "energy", "unit": "kWh", "value_key": "kwh"},
        {**common, "source": f"{prefix}/compressor", "meter_id": "compressor",
         "activity": "electricity.grid", "kind": "power", "unit": "W", "value_key": "w"},
        {**common, "source": f"{prefix}/gas", "meter_id": "gas", "activity": "fuel.natural_gas",
         "kind": "energy", "unit": "L", "report_unit": "m**3", "value_key": "litres"},
    ]  # fmt: skip


def _messages(prefix: str) -> list[tuple[str, str]]:
    def at(minutes: int) -> float:
        return (T0 + timedelta(minutes=minutes)).timestamp()

    main = [(0, 1000.0), (60, 1010.5), (120, 1025.0)]  # 25 kWh
    compressor = [(0, 2000), (30, 4000), (60, 4000)]  # 1.5 kWh + 2 kWh = 3.5 kWh
    gas = [(0, 500), (90, 1700)]  # 1200 L = 1.2 m3
    out = [(f"{prefix}/main", json.dumps({"ts": at(m), "kwh": v})) for m, v in main]
    out += [(f"{prefix}/compressor", json.dumps({"ts": at(m), "w": v})) for m, v in compressor]
    out += [(f"{prefix}/gas", json.dumps({"ts": at(m), "litres": v})) for m, v in gas]
    out.append((f"{prefix}/main", "{oops"))  # bad: not JSON
    out.append((f"{prefix}/compressor", json.dumps({"ts": at(45), "w": "lots"})))  # bad value
    return out


def _publish(messages: list[tuple[str, str]]) -> None:
    client = Client(CallbackAPIVersion.VERSION2, protocol=MQTTv311)
    client.connect(MQTT_HOST, MQTT_PORT)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(timeout=5)
    finally:
        client.loop_stop()
        client.disconnect()


def _forget_session(client_id: str) -> None:
    """Connect once with a clean session so the broker drops the test's persistent session."""
    client = Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True, protocol=MQTTv311
    )
    client.connect(MQTT_HOST, MQTT_PORT)
    client.loop(timeout=0.5)
    client.disconnect()


@pytest.fixture
def session(mqtt_prefix: str) -> Iterator[str]:
    client_id = f"fedcarbon-test-{uuid.uuid4().hex[:10]}"
    yield client_id
    _forget_session(client_id)


def _mqtt(
    prefix: str, client_id: str, spool: Path, *, port: int = MQTT_PORT, **extra: str
) -> Adapter:
    options = {
        "host": MQTT_HOST,
        "port": port,
        "client_id": client_id,
        "spool": str(spool),
        "meters": _meters(prefix),
        "settle_seconds": 0.3,
        "connect_timeout": 3.0,
    }
    return create_adapter("mqtt", {**options, **extra})


class TestMqttConformance(AdapterConformance):
    @pytest.fixture
    def conformance_case(
        self, mqtt_prefix: str, session: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> ConformanceCase:
        # The local broker allows anonymous use and ignores passwords; it must still never show.
        monkeypatch.setenv("FC_TEST_MQTT_PASSWORD", "canary-mqtt-91c3")
        auth: dict[str, Any] = {"username": "agent", "password_env": "FC_TEST_MQTT_PASSWORD"}
        spool = tmp_path / "spool.jsonl"
        _mqtt(mqtt_prefix, session, spool, **auth).fetch(PERIOD)  # opens the persistent session
        _publish(_messages(mqtt_prefix))  # queued by the broker while the agent is away
        return ConformanceCase(
            make_adapter=lambda: _mqtt(mqtt_prefix, session, spool, **auth),
            period=PERIOD,
            expected_records=3,
            expected_rejected=2,
            expected_quantities={
                f"mqtt:main:{PERIOD.start}:{PERIOD.end}": (25.0, "kWh"),
                f"mqtt:compressor:{PERIOD.start}:{PERIOD.end}": (3.5, "kWh"),
                f"mqtt:gas:{PERIOD.start}:{PERIOD.end}": (1200.0, "L"),
            },
            make_unreachable=lambda: _mqtt(
                mqtt_prefix, session, tmp_path / "s2.jsonl", port=closed_port(), **auth
            ),
            secret="canary-mqtt-91c3",
        )


def test_readings_survive_in_the_spool_when_the_broker_is_gone(
    mqtt_prefix: str, session: str, tmp_path: Path
) -> None:
    spool = tmp_path / "spool.jsonl"
    _mqtt(mqtt_prefix, session, spool).fetch(PERIOD)
    _publish(_messages(mqtt_prefix))
    _mqtt(mqtt_prefix, session, spool).fetch(PERIOD)  # drains the queue into the spool
    from fedcarbon.adapters.builtin.meter_readings import Spool, readings_from_spool

    adapter = _mqtt(mqtt_prefix, session, spool, port=closed_port())
    readings, _ = readings_from_spool(adapter.config.meters, Spool(spool), PERIOD)
    assert sum(len(v) for v in readings.values()) == 8


def test_meter_without_readings_is_reported_not_dropped(
    mqtt_prefix: str, session: str, tmp_path: Path
) -> None:
    result = _mqtt(mqtt_prefix, session, tmp_path / "spool.jsonl").fetch(PERIOD)
    assert sorted(r.source_ref for r in result.rejected) == sorted(
        f"{mqtt_prefix}/{m}" for m in ("main", "compressor", "gas")
    )


def test_spool_file_is_private(mqtt_prefix: str, session: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    _mqtt(mqtt_prefix, session, spool).fetch(PERIOD)
    _publish(_messages(mqtt_prefix)[:1])
    _mqtt(mqtt_prefix, session, spool).fetch(PERIOD)
    assert spool.stat().st_mode & 0o077 == 0
