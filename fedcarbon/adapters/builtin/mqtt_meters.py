"""MQTT energy meters (paho-mqtt): subscribe to meter topics, keep readings, report per period.

Sub-meters, smart plugs and PLC gateways publish readings to an MQTT broker. The agent is not
always running, so the adapter connects with a **persistent session** (a fixed ``client_id`` and
``clean_session = false``, QoS 1): the broker queues readings while the agent is away and hands
them over at the next fetch (MQTT 3.1.1, OASIS standard, section 3.1.2.4 "Clean Session"). Every
message is appended to a local spool before it is interpreted, so a broker that later goes down
or a crash loses nothing already received; energy per period is recomputed from the spool.

Example::

    [[adapters]]
    name = "mqtt"
    host = "broker.plant.local"
    client_id = "fedcarbon-plant1"
    spool = "/var/lib/fedcarbon/mqtt-spool.jsonl"
    username = "fedcarbon"
    password_env = "MQTT_PASSWORD"
    [[adapters.meters]]
    source = "plant1/main/energy"       # the topic
    site = "plant1"
    activity = "electricity.grid"
    region = "DE"
    kind = "energy"                     # cumulative kWh register
    value_key = "kwh"
    time_key = "ts"
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from fedcarbon.adapters.builtin.meter_readings import (
    MeterConfig,
    Spool,
    SpoolEntry,
    readings_from_spool,
    records_from_readings,
)
from fedcarbon.adapters.contract import Adapter, FetchResult, Period
from fedcarbon.adapters.credentials import read_secret, redact
from fedcarbon.adapters.errors import SourceUnavailableError


@dataclass(frozen=True)
class MqttConfig:
    """Options of the ``mqtt`` adapter.

    Attributes:
        meters: the meters, one ``[[adapters.meters]]`` table each (``source`` is the topic).
        spool: local file that keeps every reading received (created with mode 600).
        host: broker host name.
        port: broker port (8883 for TLS).
        client_id: fixed client id of the persistent session; unique per agent.
        username: broker user name, if the broker wants one.
        password_env: environment variable holding the broker password.
        password_file: file holding the broker password (mode 600).
        tls: connect with TLS.
        ca_file: CA bundle for TLS; the system store when unset.
        keep_days: readings received longer ago than this are pruned from the spool.
        settle_seconds: stop listening once no message came for this long.
        max_listen_seconds: stop listening after this long in any case.
        connect_timeout: seconds to wait for the broker before reporting it unavailable.
    """

    meters: tuple[MeterConfig, ...]
    spool: Path
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "fedcarbon-agent"
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: Path | None = None
    keep_days: int = 800
    settle_seconds: float = 1.0
    max_listen_seconds: float = 30.0
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.meters:
            raise ValueError("at least one [[adapters.meters]] table is needed")
        topics = [m.source for m in self.meters]
        if any(ch in t for t in topics for ch in "+#"):
            raise ValueError("meter topics must be exact topics, without + or # wildcards")
        if len(set(topics)) != len(topics):
            raise ValueError("each meter topic may appear only once")


class MqttMeterAdapter(Adapter):
    """Energy per period from MQTT meter topics (counters or power), via a persistent session."""

    name: ClassVar[str] = "mqtt"
    config_type: ClassVar[type[Any]] = MqttConfig

    def __init__(self, config: MqttConfig) -> None:
        super().__init__(config)
        self.config: MqttConfig = config

    def describe(self) -> str:
        return f"mqtt {self.config.host}:{self.config.port} ({len(self.config.meters)} meters)"

    def fetch(self, period: Period) -> FetchResult:
        spool = Spool(self.config.spool)
        self.collect(spool)
        spool.prune(datetime.now(UTC) - timedelta(days=self.config.keep_days))
        readings, bad_payloads = readings_from_spool(self.config.meters, spool, period)
        records, gaps = records_from_readings(self.config.meters, readings, period, self.name)
        return FetchResult(records, bad_payloads + gaps)

    def collect(self, spool: Spool) -> None:
        """Receive the readings queued for this client and append them to the spool.

        Raises:
            SourceUnavailableError: the broker refused or did not answer.
        """
        from paho.mqtt.client import Client, MQTTv311
        from paho.mqtt.enums import CallbackAPIVersion

        secret = read_secret(
            self.name, env=self.config.password_env, file=self.config.password_file
        )
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.config.client_id,
            clean_session=False,
            protocol=MQTTv311,
        )
        if self.config.username is not None:
            client.username_pw_set(self.config.username, secret)
        if self.config.tls:
            client.tls_set(ca_certs=str(self.config.ca_file) if self.config.ca_file else None)
        state: dict[str, Any] = {"connected": None, "subscribed": False, "last": time.monotonic()}
        topics = {m.source for m in self.config.meters}

        def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            state["connected"] = not reason.is_failure
            state["reason"] = str(reason)
            if not reason.is_failure:
                client.subscribe([(t, 1) for t in sorted(topics)])

        def on_subscribe(_c: Any, _u: Any, _m: Any, _r: Any, _p: Any) -> None:
            state["subscribed"] = True
            state["last"] = time.monotonic()

        where = f"broker {self.config.host}:{self.config.port}"
        with spool.writer() as write:

            def on_message(_c: Any, _u: Any, message: Any) -> None:
                if message.topic in topics:
                    payload = message.payload.decode("utf-8", errors="replace")
                    write(SpoolEntry(message.topic, datetime.now(UTC), payload))
                state["last"] = time.monotonic()

            client.on_connect = on_connect
            client.on_subscribe = on_subscribe
            client.on_message = on_message
            try:
                client.connect(self.config.host, self.config.port, keepalive=60)
            except OSError as exc:
                raise SourceUnavailableError(self.name, where, redact(str(exc), secret)) from None
            try:
                self._listen(client, state, where)
            finally:
                client.disconnect()

    def _listen(self, client: Any, state: dict[str, Any], where: str) -> None:
        """Run the network loop until the queue is drained (quiet for ``settle_seconds``)."""
        started = time.monotonic()
        while True:
            code = client.loop(timeout=0.1)
            if code != 0 and state["connected"]:
                raise SourceUnavailableError(self.name, where, f"connection lost (code {code})")
            now = time.monotonic()
            if state["connected"] is False:
                raise SourceUnavailableError(self.name, where, f"refused: {state['reason']}")
            if state["connected"] is None and now - started > self.config.connect_timeout:
                raise SourceUnavailableError(self.name, where, "no answer to CONNECT")
            if state["subscribed"] and now - state["last"] >= self.config.settle_seconds:
                return
            if now - started > self.config.max_listen_seconds:
                return
