"""SQL databases through SQLAlchemy: an ERP's reporting views, an energy-management database.

Any SQLAlchemy URL works (PostgreSQL, MySQL/MariaDB, SQL Server, Oracle, SQLite) given the
driver is installed. The password never sits in the URL: it comes from ``password_env`` or a
private ``password_file``. Example::

    [[adapters]]
    name = "sql"
    url = "postgresql+psycopg://carbon_reader@erp-db.local/erp"
    password_env = "ERP_DB_PASSWORD"
    query = '''
      SELECT doc_no, line, plant, material, qty, uom, posting_date, changed_at
      FROM goods_issues
      WHERE posting_date BETWEEN :period_start AND :period_end'''
    key_columns = ["doc_no", "line"]
    watermark_column = "changed_at"     # incremental: only rows changed since the last run
    [adapters.mapping]
    columns = { record_id = "{doc_no}-{line}", site = "plant", activity = "material", ... }

``:period_start`` and ``:period_end`` are bound to the period's dates when the query uses them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from fedcarbon.adapters.contract import Adapter, FetchResult, Period
from fedcarbon.adapters.credentials import read_secret, redact
from fedcarbon.adapters.errors import AdapterConfigError, SourceUnavailableError
from fedcarbon.adapters.mapping import IDENTITY, RecordMapping, map_rows


@dataclass(frozen=True)
class SqlConfig:
    """Options of the ``sql`` adapter.

    Attributes:
        url: SQLAlchemy database URL without the password.
        query: a SELECT; may use ``:period_start`` and ``:period_end``.
        table: a table or view (``schema.name``) to read instead of ``query``.
        key_columns: columns that identify a row, used to name rejected rows.
        watermark_column: an ever-increasing column (change timestamp or sequence number);
            when set, ``sync`` reads only rows above the last value seen.
        password_env: environment variable holding the password.
        password_file: file holding the password (mode 600).
        connect_timeout: seconds to wait for the server before reporting it unavailable.
        mapping: how result columns become activity fields.
    """

    url: str
    query: str | None = None
    table: str | None = None
    key_columns: tuple[str, ...] = ()
    watermark_column: str | None = None
    password_env: str | None = None
    password_file: Path | None = field(default=None, repr=False)
    connect_timeout: int = 10
    mapping: RecordMapping = IDENTITY

    def __post_init__(self) -> None:
        if (self.query is None) == (self.table is None):
            raise ValueError("give exactly one of 'query' or 'table'")
        if "@" in self.url and ":" in self.url.split("@", 1)[0].split("//", 1)[-1]:
            raise ValueError("url must not contain a password; use password_env or password_file")


def _encode_watermark(value: Any, period: Period) -> str:
    """The last change value seen, typed, and the period it belongs to."""
    if isinstance(value, datetime):
        typed = {"datetime": value.isoformat()}
    elif isinstance(value, date):
        typed = {"date": value.isoformat()}
    elif isinstance(value, bool | int):
        typed = {"int": str(int(value))}
    elif isinstance(value, float | Decimal):
        typed = {"decimal": str(value)}
    else:
        typed = {"str": str(value)}
    return json.dumps({"period": str(period), **typed}, sort_keys=True)


def _decode_watermark(text: str, period: Period) -> Any:
    """The change value to continue after, or ``None`` for another period's (or a foreign)
    watermark, which means: read everything."""
    try:
        state = json.loads(text)
        if not isinstance(state, dict) or state.pop("period", None) != str(period):
            return None
        ((kind, value),) = state.items()
    except (ValueError, AttributeError):
        return None
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "int":
        return int(value)
    if kind == "decimal":
        return Decimal(value)
    return str(value)


class SqlAdapter(Adapter):
    """Reads activity rows from a SQL query or table through SQLAlchemy."""

    name: ClassVar[str] = "sql"
    config_type: ClassVar[type[Any]] = SqlConfig

    def __init__(self, config: SqlConfig) -> None:
        super().__init__(config)
        self.config: SqlConfig = config
        self.incremental = config.watermark_column is not None

    def describe(self) -> str:
        from sqlalchemy.engine import make_url

        source = self.config.table or "query"
        return f"sql {make_url(self.config.url).render_as_string(hide_password=True)} {source}"

    def fetch(self, period: Period) -> FetchResult:
        return self._read(period, None)

    def sync(self, period: Period, watermark: str | None) -> FetchResult:
        if self.config.watermark_column is None:
            return self.fetch(period)
        return self._read(period, watermark)

    def _statement(self, engine: Any, after: Any) -> tuple[Any, dict[str, Any]]:
        import sqlalchemy as sa

        quote = engine.dialect.identifier_preparer.quote
        if self.config.table is not None:
            source = ".".join(quote(part) for part in self.config.table.split("."))
            sql = f"SELECT * FROM {source}"
        else:
            sql = str(self.config.query).strip().rstrip(";")
        params: dict[str, Any] = {}
        wm = self.config.watermark_column
        if wm is not None:
            sql = f"SELECT * FROM ({sql}) AS fedcarbon_src"
            if after is not None:
                sql += f" WHERE {quote(wm)} > :fedcarbon_watermark"
                params["fedcarbon_watermark"] = after
            sql += f" ORDER BY {quote(wm)}"
        return sa.text(sql), params

    def _read(self, period: Period, watermark: str | None) -> FetchResult:
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        secret = read_secret(
            self.name, env=self.config.password_env, file=self.config.password_file
        )
        url = make_url(self.config.url)
        if secret is not None:
            url = url.set(password=secret)
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() in ("postgresql", "mysql", "mariadb"):
            connect_args["connect_timeout"] = self.config.connect_timeout
        engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.NullPool)
        label = self.config.table or "query"
        try:
            after = None if watermark is None else _decode_watermark(watermark, period)
            statement, params = self._statement(engine, after)
            text = str(statement)
            if ":period_start" in text:
                params["period_start"] = period.start
            if ":period_end" in text:
                params["period_end"] = period.end
            try:
                with engine.connect() as connection:
                    result = connection.execute(statement, params)
                    columns = list(result.keys())
                    raw_rows = [dict(zip(columns, row, strict=True)) for row in result]
            except sa.exc.OperationalError as exc:
                reason = redact(str(exc.orig or exc).splitlines()[0], secret)
                raise SourceUnavailableError(self.name, self.describe(), reason) from None
            except sa.exc.DBAPIError as exc:
                reason = redact(str(exc.orig or exc).splitlines()[0], secret)
                raise AdapterConfigError(self.name, "query", f"failed: {reason}") from None
        finally:
            engine.dispose()
        wm = self.config.watermark_column
        if wm is not None and raw_rows and wm not in raw_rows[0]:
            raise AdapterConfigError(self.name, "watermark_column", f"{wm!r} is not a column")
        rows = [(self._ref(label, i, row), row) for i, row in enumerate(raw_rows, start=1)]
        mapped = map_rows(rows, self.config.mapping, source=self.name, period=period)
        new_watermark: str | None = None
        if wm is not None:
            if raw_rows:
                new_watermark = _encode_watermark(raw_rows[-1][wm], period)
            elif after is not None:
                new_watermark = watermark  # nothing changed: continue from the same point
            else:
                new_watermark = json.dumps({"period": str(period)})  # nothing seen yet
        return FetchResult(mapped.records, mapped.rejected, new_watermark, mapped.ignored)

    def _ref(self, label: str, ordinal: int, row: Mapping[str, Any]) -> str:
        if self.config.key_columns:
            key = ",".join(f"{c}={row.get(c)}" for c in self.config.key_columns)
            return f"{label}[{key}]"
        return f"{label}#{ordinal}"
