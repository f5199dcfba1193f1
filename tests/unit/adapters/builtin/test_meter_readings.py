"""Energy from meter readings: counter differences, power integration, payloads, the spool."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedcarbon.adapters.builtin.meter_readings import (
    MeterConfig,
    MeterGapError,
    Reading,
    Spool,
    SpoolEntry,
    counter_energy,
    parse_reading,
    power_energy,
    readings_from_spool,
)
from fedcarbon.adapters.contract import Period

T0 = datetime(2024, 3, 1, tzinfo=UTC)
END = datetime(2024, 4, 1, tzinfo=UTC)
METER = MeterConfig("m/1", "s", "electricity.grid", "DE", value_key="v", time_key="ts")


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_counter_uses_the_last_reading_before_the_period_as_baseline() -> None:
    readings = [Reading(T0 - timedelta(hours=1), 100.0), Reading(_at(5), 130.0)]
    assert counter_energy(readings, T0, END) == 30.0


def test_counter_reset_counts_the_new_value_from_zero() -> None:
    readings = [Reading(_at(0), 900.0), Reading(_at(1), 950.0), Reading(_at(2), 20.0)]
    assert counter_energy(readings, T0, END) == 70.0


def test_counter_with_one_reading_is_a_gap() -> None:
    with pytest.raises(MeterGapError):
        counter_energy([Reading(_at(1), 5.0)], T0, END)


def test_power_integrates_trapezoids() -> None:
    readings = [Reading(_at(0), 1000.0), Reading(_at(1), 3000.0)]
    assert power_energy(readings, T0, END, 3600)[0] == 2000.0


def test_power_does_not_bridge_gaps_longer_than_allowed() -> None:
    readings = [Reading(_at(0), 10.0), Reading(_at(1), 10.0), Reading(_at(5), 10.0)]
    assert power_energy(readings, T0, END, 3600) == (10.0, 4 * 3600.0)


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=2, max_size=30))
def test_monotonic_counter_energy_is_last_minus_first(steps: list[float]) -> None:
    values = [sum(steps[: i + 1]) for i in range(len(steps))]
    readings = [Reading(_at(i), v) for i, v in enumerate(values)]
    assert counter_energy(readings, T0, END) == pytest.approx(values[-1] - values[0], rel=1e-9)


def test_payload_time_may_be_iso_8601() -> None:
    reading = parse_reading(METER, '{"v": 5, "ts": "2024-03-01T10:00:00Z"}', T0)
    assert reading.at == _at(10)


def test_payload_without_value_is_refused_naming_key() -> None:
    with pytest.raises(ValueError, match="'v' is missing"):
        parse_reading(METER, '{"ts": 1}', T0)


def test_bare_number_payload_uses_arrival_time() -> None:
    meter = MeterConfig("m/1", "s", "electricity.grid", "DE")
    assert parse_reading(meter, "42.5", _at(3)) == Reading(_at(3), 42.5)


def test_spool_survives_a_torn_last_line(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.jsonl")
    spool.append([SpoolEntry("m/1", T0, '{"v": 1, "ts": 0}')])
    with (tmp_path / "s.jsonl").open("a") as handle:
        handle.write('{"source": "m/1", "rec')
    assert len(list(spool)) == 1


def test_duplicate_deliveries_count_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.jsonl")
    payload = '{"v": 7, "ts": "2024-03-02T00:00:00Z"}'
    spool.append([SpoolEntry("m/1", _at(30), payload), SpoolEntry("m/1", _at(31), payload)])
    readings, _ = readings_from_spool([METER], spool, Period(date(2024, 3, 1), date(2024, 3, 31)))
    assert len(readings["m/1"]) == 1


def test_prune_keeps_recent_entries_and_the_file_private(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.jsonl")
    spool.append([SpoolEntry("m/1", _at(0), "1"), SpoolEntry("m/1", _at(48), "2")])
    spool.prune(_at(24))
    assert ([e.payload for e in spool], spool.path.stat().st_mode & 0o077) == (["2"], 0)
