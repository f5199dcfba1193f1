"""OPC UA (asyncua): energy and fuel counters from MES and PLC nodes.

Two ways to read, chosen by ``mode``:

* ``history`` (MES historians, most SCADA servers): one HistoryRead of raw values per node over
  the period plus a look-back for the baseline (OPC UA Part 11 "Historical Access",
  ReadRawModifiedDetails), then counters are differenced and power integrated;
* ``snapshot`` (plain PLCs without history): each fetch reads the nodes' current values with
  their source timestamps and appends them to a local spool; periods are computed from the
  spool, so the agent builds the history itself.

A node that is missing or reports a bad status is rejected by node id; the rest still count.
Example::

    [[adapters]]
    name = "opcua"
    endpoint = "opc.tcp://mes.plant.local:4840"
    username = "fedcarbon"
    password_file = "/etc/fedcarbon/opcua.secret"
    [[adapters.meters]]
    source = "ns=2;s=Plant1.Boiler.GasCounter"   # the node id
    site = "plant1"
    activity = "fuel.natural_gas"
    region = "DE"
    unit = "m**3"
    report_unit = "m**3"
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import json
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from fedcarbon.adapters.builtin.meter_readings import (
    MeterConfig,
    Reading,
    Spool,
    SpoolEntry,
    period_bounds,
    readings_from_spool,
    records_from_readings,
)
from fedcarbon.adapters.contract import Adapter, FetchResult, Period, Rejected
from fedcarbon.adapters.credentials import read_secret, redact
from fedcarbon.adapters.errors import AdapterConfigError, SourceUnavailableError

T = TypeVar("T")


@dataclass(frozen=True)
class OpcUaConfig:
    """Options of the ``opcua`` adapter.

    Attributes:
        endpoint: server URL, ``opc.tcp://host:4840``.
        meters: the counters, one ``[[adapters.meters]]`` table each (``source`` is the node id,
            e.g. ``ns=2;s=Plant1.Main.Energy``).
        mode: ``history`` (HistoryRead) or ``snapshot`` (read now, keep in ``spool``).
        spool: local file for ``snapshot`` readings (mode 600).
        baseline_days: how far before the period to look for a counter's starting value.
        username: user name for the session, if the server wants one.
        password_env: environment variable holding the password.
        password_file: file holding the password (mode 600).
        keep_days: snapshots received longer ago than this are pruned from the spool.
        security: asyncua security string, e.g. ``Basic256Sha256,SignAndEncrypt,cert.der,key.pem``.
        timeout: seconds to wait for the server before reporting it unavailable.
    """

    endpoint: str
    meters: tuple[MeterConfig, ...]
    mode: Literal["history", "snapshot"] = "history"
    spool: Path | None = None
    baseline_days: int = 31
    keep_days: int = 800
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = field(default=None, repr=False)
    security: str | None = None
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.meters:
            raise ValueError("at least one [[adapters.meters]] table is needed")
        if self.mode == "snapshot" and self.spool is None:
            raise ValueError("mode = 'snapshot' needs a spool file")
        if not self.endpoint.startswith("opc.tcp://"):
            raise ValueError(f"endpoint {self.endpoint!r} must start with opc.tcp://")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"value {value!r} is not a number")
    return float(value)


class OpcUaCounterAdapter(Adapter):
    """Energy and fuel per period from OPC UA counter nodes (history or snapshots)."""

    name: ClassVar[str] = "opcua"
    config_type: ClassVar[type[Any]] = OpcUaConfig

    def __init__(self, config: OpcUaConfig) -> None:
        super().__init__(config)
        self.config: OpcUaConfig = config

    def describe(self) -> str:
        return f"opcua {self.config.endpoint} ({self.config.mode}, {len(self.config.meters)} nodes)"

    def fetch(self, period: Period) -> FetchResult:
        secret = read_secret(
            self.name, env=self.config.password_env, file=self.config.password_file
        )
        try:
            if self.config.mode == "history":
                readings, rejected = _run(self._history(period, secret))
                records, gaps = records_from_readings(
                    self.config.meters, readings, period, self.name
                )
                return FetchResult(records, rejected + gaps)
            assert self.config.spool is not None  # checked by OpcUaConfig
            spool = Spool(self.config.spool)
            missing = _run(self._snapshot(spool, secret))
            spool.prune(datetime.now(UTC) - timedelta(days=self.config.keep_days))
        except (OSError, TimeoutError) as exc:
            reason = redact(str(exc) or type(exc).__name__, secret)
            raise SourceUnavailableError(self.name, self.config.endpoint, reason) from None
        meters = [
            dataclasses.replace(m, value_key="value", time_key="ts") for m in self.config.meters
        ]
        readings, bad = readings_from_spool(meters, spool, period)
        records, gaps = records_from_readings(meters, readings, period, self.name)
        return FetchResult(records, missing + bad + gaps)

    def _client(self, secret: str | None) -> Any:
        from asyncua.client.client import Client

        client = Client(self.config.endpoint, timeout=self.config.timeout)
        if self.config.username is not None:
            client.set_user(self.config.username)
        if secret is not None:
            client.set_password(secret)
        return client

    async def _connect(self, client: Any) -> None:
        if self.config.security is not None:
            try:
                await client.set_security_string(self.config.security)
            except Exception as exc:
                raise AdapterConfigError(self.name, "security", f"is not usable: {exc}") from None
        try:
            await client.connect()
        except (OSError, TimeoutError):
            raise
        except Exception as exc:  # asyncua raises UaError subclasses for refused sessions
            raise OSError(f"{type(exc).__name__}: {exc}") from None

    async def _history(
        self, period: Period, secret: str | None
    ) -> tuple[dict[str, list[Reading]], list[Rejected]]:
        from asyncua.ua.uaerrors import UaError

        start, end = period_bounds(period)
        client = self._client(secret)
        await self._connect(client)
        readings: dict[str, list[Reading]] = {}
        rejected: list[Rejected] = []
        try:
            for meter in self.config.meters:
                try:
                    node = client.get_node(meter.source)
                    values = await node.read_raw_history(
                        start - timedelta(days=self.config.baseline_days),
                        end,
                        return_bounds=False,
                    )
                except (UaError, ValueError) as exc:
                    rid = f"{self.name}:{meter.name}:{period.start}:{period.end}"
                    rejected.append(Rejected(meter.source, rid, f"history not readable: {exc}"))
                    continue
                series = readings.setdefault(meter.source, [])
                for dv in values:
                    stamp = dv.SourceTimestamp or dv.ServerTimestamp
                    if stamp is None:
                        continue
                    at = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
                    try:
                        if dv.StatusCode is not None and not dv.StatusCode.is_good():
                            raise ValueError(f"status {dv.StatusCode.name}")
                        series.append(Reading(at, _number(dv.Value.Value)))
                    except ValueError as exc:
                        if start <= at < end:
                            ref = f"{meter.source}@{at.isoformat()}"
                            rejected.append(Rejected(ref, None, str(exc)))
        finally:
            await client.disconnect()
        return readings, rejected

    async def _snapshot(self, spool: Spool, secret: str | None) -> list[Rejected]:
        from asyncua.ua.uaerrors import UaError

        client = self._client(secret)
        await self._connect(client)
        missing: list[Rejected] = []
        try:
            with spool.writer() as write:
                for meter in self.config.meters:
                    try:
                        dv = await client.get_node(meter.source).read_data_value()
                    except (UaError, ValueError) as exc:
                        missing.append(Rejected(meter.source, None, f"not readable: {exc}"))
                        continue
                    stamp = dv.SourceTimestamp or datetime.now(UTC)
                    value = dv.Value.Value if dv.Value is not None else None
                    if dv.StatusCode is not None and not dv.StatusCode.is_good():
                        value = f"status {dv.StatusCode.name}"
                    payload = json.dumps({"value": value, "ts": stamp.isoformat()}, default=str)
                    write(SpoolEntry(meter.source, datetime.now(UTC), payload))
        finally:
            await client.disconnect()
        return missing
