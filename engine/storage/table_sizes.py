"""Row counts (and on PostgreSQL, on-disk sizes) of the app's tables, for the Health page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, inspect, select, text

from engine.storage.models import Base


@dataclass(frozen=True)
class TableSize:
    """One table: its rows and, on PostgreSQL, its total size with indexes and TOAST."""

    name: str
    rows: int
    bytes: int | None


def table_sizes(db) -> list[TableSize]:
    """Return every existing table of the schema, largest row count first.

    Exact ``count(*)``: the tables of a console stay small; SQLite has no cheap size per
    table (``dbstat`` is not always compiled in), so ``bytes`` is None there.
    """
    existing = set(inspect(db.engine).get_table_names())
    sizes = []
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name not in existing:
                continue
            rows = conn.execute(select(func.count()).select_from(table)).scalar_one()
            size = None
            if db.dialect == "postgresql":
                size = conn.execute(text("SELECT pg_total_relation_size(CAST(:t AS regclass))"),
                                    {"t": table.name}).scalar_one()
            sizes.append(TableSize(table.name, int(rows), size))
    return sorted(sizes, key=lambda s: s.rows, reverse=True)
