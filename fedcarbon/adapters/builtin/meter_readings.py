"""Energy over a period from meter readings: counter differences and integrated power.

Shared by the MQTT and OPC UA adapters. A meter reports either a cumulative **energy counter**
(kWh register, m3 gas register, litres of fuel), where the period's energy is the sum of the
increases between readings, or instantaneous **power**, integrated over time with the trapezoidal
rule. Readings are kept in a local spool (JSON lines), so what was collected survives broker or
server outages and every later fetch recomputes the same result from the same readings.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from fedcarbon.accounting.records import ActivityRecord
from fedcarbon.adapters.contract import Period, Rejected
from fedcarbon.adapters.mapping import convert_quantity


@dataclass(frozen=True)
class MeterConfig:
    """One meter: where its readings come from and what activity they measure.

    Attributes:
        source: MQTT topic or OPC UA node id the readings come from.
        site: site the meter belongs to.
        activity: activity code the energy is booked to (``electricity.grid``).
        region: ISO 3166 region of the site (``DE``, ``US-CA``).
        kind: ``energy`` for a cumulative counter, ``power`` for instantaneous power.
        unit: unit of the raw values (``kWh``, ``m**3``, ``L`` for counters; ``W``, ``kW``).
        report_unit: unit of the produced record (``kWh`` for electricity, ``m**3`` for gas).
        value_key: JSON key holding the value; the payload is a bare number when unset.
        time_key: JSON key holding the reading time (ISO 8601 or Unix seconds); the arrival
            time when unset.
        meter_id: stable meter name used in record ids; defaults to ``source``.
        max_gap_seconds: power readings further apart are not integrated across (reported).
    """

    source: str
    site: str
    activity: str
    region: str
    kind: Literal["energy", "power"] = "energy"
    unit: str = "kWh"
    report_unit: str = "kWh"
    value_key: str | None = None
    time_key: str | None = None
    meter_id: str | None = None
    max_gap_seconds: float = 3600.0

    @property
    def name(self) -> str:
        """The meter's stable name."""
        return self.meter_id or self.source


@dataclass(frozen=True)
class Reading:
    """One timestamped meter value."""

    at: datetime
    value: float


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_time(raw: Any) -> datetime:
    """Unix seconds or ISO 8601 (naive means UTC); raises ``ValueError``."""
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not a time")
    if isinstance(raw, int | float):
        return datetime.fromtimestamp(float(raw), tz=UTC)
    if isinstance(raw, str):
        return _aware(datetime.fromisoformat(raw.replace("Z", "+00:00")))
    if isinstance(raw, datetime):
        return _aware(raw)
    raise ValueError(f"{raw!r} is not a time")


def parse_reading(meter: MeterConfig, payload: str, received: datetime) -> Reading:
    """Decode one payload; raises ``ValueError`` with a reason fit for a ``Rejected`` entry."""
    text = payload.strip()
    if meter.value_key is None and meter.time_key is None:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"payload {text[:40]!r} is not a number") from None
        at = received
    else:
        try:
            document = json.loads(text)
        except ValueError:
            raise ValueError(f"payload {text[:40]!r} is not JSON") from None
        if not isinstance(document, dict):
            raise ValueError("payload is not a JSON object")
        raw_value = document.get(meter.value_key) if meter.value_key else text
        if isinstance(raw_value, bool) or not isinstance(raw_value, int | float | str):
            raise ValueError(f"value {meter.value_key!r} is missing or not a number")
        try:
            value = float(raw_value)
        except ValueError:
            raise ValueError(f"value {raw_value!r} is not a number") from None
        at = received
        if meter.time_key is not None:
            if meter.time_key not in document:
                raise ValueError(f"time {meter.time_key!r} is missing")
            try:
                at = parse_time(document[meter.time_key])
            except (ValueError, OverflowError, OSError):
                raise ValueError(f"time {document[meter.time_key]!r} is not a time") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("value is not finite")
    return Reading(at, value)


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    """The period as UTC instants: start of the first day, start of the day after the last."""
    start = datetime.combine(period.start, time(0), tzinfo=UTC)
    end = datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=UTC)
    return start, end


class MeterGapError(ValueError):
    """The readings do not cover the period well enough to compute energy."""


def counter_energy(readings: Iterable[Reading], start: datetime, end: datetime) -> float:
    """Increase of a cumulative counter over ``[start, end)``.

    The baseline is the last reading before ``start`` (else the first one inside the period). A
    drop is taken as a counter reset or replacement, counting the new value from zero.
    """
    ordered = sorted(readings, key=lambda r: r.at)
    before = [r for r in ordered if r.at < start]
    inside = [r for r in ordered if start <= r.at < end]
    chain = ([before[-1]] if before else []) + inside
    if len(chain) < 2:
        raise MeterGapError("fewer than two counter readings for the period")
    total = 0.0
    for previous, current in itertools.pairwise(chain):
        step = current.value - previous.value
        total += step if step >= 0 else current.value
    return total


def power_energy(
    readings: Iterable[Reading], start: datetime, end: datetime, max_gap: float
) -> tuple[float, float]:
    """Trapezoidal integral of power over ``[start, end)`` in (power unit) x hours.

    Returns the energy and the seconds left out because readings were more than ``max_gap``
    apart (a meter that was offline is not filled in by guessing).
    """
    inside = sorted((r for r in readings if start <= r.at < end), key=lambda r: r.at)
    if len(inside) < 2:
        raise MeterGapError("fewer than two power readings for the period")
    energy = 0.0
    skipped = 0.0
    for previous, current in itertools.pairwise(inside):
        seconds = (current.at - previous.at).total_seconds()
        if seconds > max_gap:
            skipped += seconds
            continue
        energy += (previous.value + current.value) / 2 * seconds / 3600.0
    return energy, skipped


def meter_record(
    meter: MeterConfig, period: Period, quantity: float, adapter: str, note: str | None
) -> ActivityRecord:
    """The period's activity record for one meter, converted to its report unit."""
    unit = meter.unit if meter.kind == "energy" else f"({meter.unit})*hour"
    return ActivityRecord(
        record_id=f"{adapter}:{meter.name}:{period.start.isoformat()}:{period.end.isoformat()}",
        period_start=period.start,
        period_end=period.end,
        site=meter.site,
        activity=meter.activity,
        quantity=convert_quantity(quantity, unit, meter.report_unit),
        unit=meter.report_unit,
        region=meter.region.upper(),
        data_quality="primary (metered)" + (f"; {note}" if note else ""),
        source=adapter,
    )


def records_from_readings(
    meters: Iterable[MeterConfig],
    readings: dict[str, list[Reading]],
    period: Period,
    adapter: str,
) -> tuple[list[ActivityRecord], list[Rejected]]:
    """One record per meter for ``period``; a meter without enough readings is rejected."""
    start, end = period_bounds(period)
    records: list[ActivityRecord] = []
    rejected: list[Rejected] = []
    for meter in meters:
        rid = f"{adapter}:{meter.name}:{period.start.isoformat()}:{period.end.isoformat()}"
        series = readings.get(meter.source, [])
        try:
            if meter.kind == "energy":
                quantity, note = counter_energy(series, start, end), None
            else:
                quantity, skipped = power_energy(series, start, end, meter.max_gap_seconds)
                note = f"{skipped / 3600:.2f} h of gaps not integrated" if skipped else None
            records.append(meter_record(meter, period, quantity, adapter, note))
        except (MeterGapError, ValueError) as exc:
            rejected.append(Rejected(meter.source, rid, str(exc)))
    return records, rejected


@dataclass(frozen=True)
class SpoolEntry:
    """One raw message as received, kept verbatim so results can be recomputed and audited."""

    source: str
    received: datetime
    payload: str


class Spool:
    """An append-only JSON-lines file of raw readings, private to the agent (mode 600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entries: Iterable[SpoolEntry]) -> None:
        """Append and sync to disk before returning, so nothing acknowledged is ever lost."""
        with self.writer() as write:
            for entry in entries:
                write(entry)

    @contextmanager
    def writer(self) -> Iterator[Callable[[SpoolEntry], None]]:
        """Open for appending; each write is flushed at once and synced to disk on exit.

        Adapters write inside their message callback, before the broker gets its
        acknowledgement (paho sends PUBACK after ``on_message`` returns).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:

            def write(entry: SpoolEntry) -> None:
                record = {
                    "source": entry.source,
                    "received": entry.received.isoformat(),
                    "payload": entry.payload,
                }
                handle.write(json.dumps(record, sort_keys=True) + "\n")
                handle.flush()

            try:
                yield write
            finally:
                handle.flush()
                os.fsync(handle.fileno())

    def prune(self, before: datetime) -> int:
        """Drop entries received before ``before``; returns how many went.

        The file is rewritten beside itself and swapped in atomically (``os.replace``), so a
        crash during pruning leaves either the old or the new spool, never half of one.
        """
        entries = list(self)
        keep = [e for e in entries if e.received >= before]
        dropped = len(entries) - len(keep)
        if dropped == 0:
            return 0
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.unlink(missing_ok=True)
        Spool(temporary).append(keep)
        if not keep:
            temporary.touch(mode=0o600)
        os.replace(temporary, self.path)
        return dropped

    def __iter__(self) -> Iterator[SpoolEntry]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    yield SpoolEntry(
                        raw["source"], datetime.fromisoformat(raw["received"]), raw["payload"]
                    )
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line after a crash; the rest is intact


def readings_from_spool(
    meters: Iterable[MeterConfig], spool: Spool, period: Period
) -> tuple[dict[str, list[Reading]], list[Rejected]]:
    """Decode the spool: readings per source, and each bad payload received in the period.

    Duplicate deliveries (same source, time and value) count once.
    """
    by_source = {m.source: m for m in meters}
    start, end = period_bounds(period)
    readings: dict[str, dict[tuple[datetime, float], Reading]] = {}
    rejected: dict[tuple[str, str], Rejected] = {}
    for entry in spool:
        meter = by_source.get(entry.source)
        if meter is None:
            continue
        try:
            reading = parse_reading(meter, entry.payload, entry.received)
        except ValueError as exc:
            if start <= entry.received < end:  # an unreadable payload has only its arrival
                ref = f"{entry.source}@{entry.received.isoformat()}"
                rejected[(ref, entry.payload)] = Rejected(ref, None, str(exc))
            continue
        readings.setdefault(entry.source, {})[(reading.at, reading.value)] = reading
    return {k: list(v.values()) for k, v in readings.items()}, list(rejected.values())
