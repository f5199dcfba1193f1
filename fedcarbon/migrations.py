"""Schema migrations for stores made by earlier versions: add the columns they lack.

Shared by the agent's and the coordinator's stores (each names its own columns). SQLModel's
``create_all`` makes missing tables but never alters an existing one, so a column added to a
table model needs this; PostgreSQL replicas racing at start-up use ADD COLUMN IF NOT EXISTS.
"""

from collections.abc import Sequence

from sqlalchemy import Engine, inspect, text


def add_missing_columns(engine: Engine, columns: Sequence[tuple[str, str, str]]) -> list[str]:
    """Add each (table, column, DDL) an existing table lacks; return "table.column" added.

    Idempotent; tables that do not exist yet are left to ``create_all``.
    """
    added = []
    guard = "IF NOT EXISTS " if engine.dialect.name == "postgresql" else ""
    with engine.begin() as connection:
        inspector = inspect(connection)
        for table, column, ddl in columns:
            if not inspector.has_table(table):
                continue
            if column in {c["name"] for c in inspector.get_columns(table)}:
                continue
            connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {guard}{column} {ddl}"))
            added.append(f"{table}.{column}")
    return added
