"""The SQL adapter against the real PostgreSQL on 127.0.0.1, through the conformance kit."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fedcarbon.adapters.contract import Adapter, Period
from fedcarbon.adapters.errors import AdapterConfigError
from fedcarbon.adapters.registry import create_adapter
from fedcarbon.adapters.testing import AdapterConformance, ConformanceCase
from tests.integration.adapters.conftest import POSTGRES_URL, closed_port

pytestmark = pytest.mark.services

YEAR_2024 = Period(date(2024, 1, 1), date(2024, 12, 31))

_KEYS = ("doc", "line", "plant", "mat", "qty", "uom", "day")
ROWS: list[dict[str, Any]] = [
    dict(zip(_KEYS, values, strict=True))
    for values in [
        ("4900001", 1, "P1", "STROM", 1234.5, "KWH", date(2024, 1, 15)),
        ("4900002", 1, "P1", "GAS", 1.5, "MWH", date(2024, 1, 16)),
        ("4900002", 2, "P2", "DIESEL", 200, "L", date(2024, 2, 3)),
        ("4900003", 1, "P1", "SCHRAUBE", 10, "ST", date(2024, 1, 16)),
        ("4900004", 1, "P1", "STROM", None, "KWH", date(2024, 3, 1)),
        ("4800001", 1, "P1", "STROM", 7, "KWH", date(2023, 12, 20)),
    ]
]
"""3 good rows, 2 bad (unmapped material, NULL quantity), 1 outside the period."""

MAPPING = {
    "columns": {
        "record_id": "{doc_no}-{line}",
        "site": "plant",
        "activity": "material",
        "quantity": "qty",
        "unit": "uom",
        "period_start": "posting_date",
        "period_end": "posting_date",
    },
    "defaults": {"region": "DE"},
    "units": {"KWH": "kWh", "MWH": "MWh", "L": "L"},
    "activities": {"STROM": "electricity.grid", "GAS": "fuel.natural_gas", "DIESEL": "fuel.diesel"},
    "convert": {"fuel.natural_gas": "kWh"},
}


def _insert(table: str, rows: list[dict[str, Any]], changed: datetime) -> None:
    engine = sa.create_engine(POSTGRES_URL, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                f'CREATE TABLE IF NOT EXISTS "{table}" (doc_no text, line int, plant text,'
                " material text, qty numeric, uom text, posting_date date, changed_at timestamp)"
            )
        )
        for row in rows:
            connection.execute(
                sa.text(
                    f'INSERT INTO "{table}" VALUES (:doc, :line, :plant, :mat, :qty, :uom, :day,'
                    " :changed)"
                ),
                {**row, "changed": changed},
            )
    engine.dispose()


def _sql(table: str, url: str = POSTGRES_URL, **extra: Any) -> Adapter:
    options: dict[str, Any] = {
        "url": url,
        "query": f'SELECT * FROM "{table}"'
        " WHERE posting_date BETWEEN :period_start AND :period_end",
        "key_columns": ["doc_no", "line"],
        "mapping": MAPPING,
    }
    return create_adapter("sql", {**options, **extra})


class TestSqlConformance(AdapterConformance):
    @pytest.fixture
    def conformance_case(
        self, postgres_table: str, monkeypatch: pytest.MonkeyPatch
    ) -> ConformanceCase:
        _insert(postgres_table, ROWS, datetime(2024, 3, 1, 12, 0))
        # The local server trusts 127.0.0.1, so any password works; it must still never show.
        monkeypatch.setenv("FC_TEST_DB_PASSWORD", "canary-pw-7d1e")
        dead = POSTGRES_URL.replace(":5432", f":{closed_port()}")
        return ConformanceCase(
            make_adapter=lambda: _sql(
                postgres_table, watermark_column="changed_at", password_env="FC_TEST_DB_PASSWORD"
            ),
            period=YEAR_2024,
            expected_records=3,
            expected_rejected=2,
            expected_quantities={"4900002-1": (1500.0, "kWh"), "4900002-2": (0.2, "m**3")},
            make_unreachable=lambda: _sql(
                postgres_table, url=dead, password_env="FC_TEST_DB_PASSWORD"
            ),
            secret="canary-pw-7d1e",
        )


def test_rejected_rows_are_named_by_key(postgres_table: str) -> None:
    _insert(postgres_table, ROWS, datetime(2024, 3, 1))
    refs = sorted(r.source_ref for r in _sql(postgres_table).fetch(YEAR_2024).rejected)
    assert refs == ["query[doc_no=4900003,line=1]", "query[doc_no=4900004,line=1]"]


def test_sync_returns_only_rows_changed_after_watermark(postgres_table: str) -> None:
    _insert(postgres_table, ROWS[:3], datetime(2024, 3, 1))
    first = _sql(postgres_table, watermark_column="changed_at").sync(YEAR_2024, None)
    late = dict(
        doc="4900009", line=1, plant="P2", mat="STROM", qty=5, uom="KWH", day=date(2024, 4, 2)
    )
    _insert(postgres_table, [late], datetime(2024, 4, 2, 8, 30))
    again = _sql(postgres_table, watermark_column="changed_at").sync(YEAR_2024, first.watermark)
    assert [r.record_id for r in again.records] == ["4900009-1"]


def test_table_option_reads_a_whole_table(postgres_table: str) -> None:
    _insert(postgres_table, ROWS, datetime(2024, 3, 1))
    adapter = create_adapter(
        "sql", {"url": POSTGRES_URL, "table": postgres_table, "mapping": MAPPING}
    )
    assert len(adapter.fetch(YEAR_2024).records) == 3


def test_broken_query_is_a_config_error_naming_query(postgres_table: str) -> None:
    _insert(postgres_table, ROWS[:1], datetime(2024, 3, 1))
    adapter = create_adapter(
        "sql", {"url": POSTGRES_URL, "query": "SELEC nonsense", "mapping": MAPPING}
    )
    with pytest.raises(AdapterConfigError, match="'query' failed"):
        adapter.fetch(YEAR_2024)


def test_password_in_url_is_refused() -> None:
    with pytest.raises(AdapterConfigError, match="must not contain a password"):
        create_adapter("sql", {"url": "postgresql+psycopg://u:hunter2@h/db", "table": "t"})


def test_world_readable_password_file_is_refused(postgres_table: str, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("hunter2")
    secret.chmod(0o644)
    adapter = _sql(postgres_table, password_file=str(secret))
    with pytest.raises(AdapterConfigError, match="chmod 600"):
        adapter.fetch(YEAR_2024)
