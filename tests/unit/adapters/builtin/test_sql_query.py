"""The SQL adapter over SQLite (no server needed): any SQLAlchemy URL works the same way."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from fedcarbon.adapters.contract import Adapter, Period
from fedcarbon.adapters.registry import create_adapter
from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase
from tests.unit.adapters.samples import ERP_MAPPING, ERP_ROWS, YEAR_2024


def _database(path: Path, rows: list[list[str]] = ERP_ROWS) -> Path:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS movements (Beleg TEXT, Werk TEXT, Material TEXT,"
            " Menge TEXT, ME TEXT, Datum TEXT, changed TEXT)"
        )
        for n, row in enumerate(rows):
            db.execute("INSERT INTO movements VALUES (?, ?, ?, ?, ?, ?, ?)", [*row, f"{n:04d}"])
    return path


def _sql(path: Path, **extra: Any) -> Adapter:
    options = {"url": f"sqlite:///{path}", "table": "movements", "mapping": ERP_MAPPING}
    return create_adapter("sql", {**options, **extra})


class TestSqliteConformance(AdapterConformance):
    @pytest.fixture
    def conformance_case(self, tmp_path: Path) -> ConformanceCase:
        db = _database(tmp_path / "erp.sqlite")
        return ConformanceCase(
            make_adapter=lambda: _sql(db, watermark_column="changed"),
            period=YEAR_2024,
            expected_records=3,
            expected_rejected=3,
            expected_quantities={"P1-4900002": (1500.0, "kWh")},
            make_unreachable=lambda: _sql(tmp_path / "no-such-dir" / "erp.sqlite"),
        )


def test_rows_without_key_columns_are_named_by_ordinal(tmp_path: Path) -> None:
    db = _database(tmp_path / "erp.sqlite")
    refs = sorted(r.source_ref for r in _sql(db).fetch(YEAR_2024).rejected)
    assert refs == ["movements#4", "movements#5", "movements#6"]


def test_sync_after_new_rows_returns_only_them(tmp_path: Path) -> None:
    db = _database(tmp_path / "erp.sqlite", ERP_ROWS[:3])
    first = _sql(db, watermark_column="changed").sync(YEAR_2024, None)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO movements VALUES ('4900009','P2','DIESEL','5','L','04.02.2024','9999')"
        )
    again = _sql(db, watermark_column="changed").sync(YEAR_2024, first.watermark)
    assert [r.record_id for r in again.records] == ["P2-4900009"]


def test_adapter_without_watermark_column_is_not_incremental(tmp_path: Path) -> None:
    assert _sql(tmp_path / "x.sqlite").incremental is False


def test_watermark_of_another_period_reads_everything(tmp_path: Path) -> None:
    db = _database(tmp_path / "erp.sqlite", ERP_ROWS[:3])
    first = _sql(db, watermark_column="changed").sync(YEAR_2024, None)
    other = Period.parse("2024-Q1")
    again = _sql(db, watermark_column="changed").sync(other, first.watermark)
    assert len(again.records) == 3
