"""What a database holds, read through one connection: row counts per table and the audit head.

Read from the same snapshot a backup is written from, and again from the restored copy,
so verification compares like with like.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, inspect, select, table, text
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class Snapshot:
    """Row counts per table (sorted by name) and the audit checkpoint (last id, last hash)."""

    row_counts: dict[str, int] = field(default_factory=dict)
    audit_last_id: int = 0
    audit_last_hash: str = ""

    @property
    def total_rows(self) -> int:
        """Rows over every table."""
        return sum(self.row_counts.values())


def read_snapshot(conn: Connection) -> Snapshot:
    """Count the rows of every table ``conn`` sees and read the audit checkpoint."""
    names = sorted(inspect(conn).get_table_names())
    counts = {name: int(conn.scalar(select(func.count()).select_from(table(name))) or 0)
              for name in names}
    last_id, last_hash = 0, ""
    if "audit_checkpoint" in counts:
        head = conn.execute(text("SELECT last_id, last_hash FROM audit_checkpoint WHERE id = 1")).first()
        if head is not None:
            last_id, last_hash = int(head[0]), str(head[1])
    return Snapshot(counts, last_id, last_hash)


def compare_counts(expected: dict[str, int], actual: dict[str, int]) -> list[str]:
    """Return one line per table whose count differs (missing tables count as differing)."""
    problems = []
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name), actual.get(name)
        if want != got:
            problems.append(f"{name}: expected {want if want is not None else 'no table'}, "
                            f"restored {got if got is not None else 'no table'}")
    return problems
