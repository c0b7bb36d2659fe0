"""Age of the newest verified backup, read without depending on the backup package.

``engine.backup`` owns the ``backups`` table; health and ``/metrics`` only need one number
from it, so they read it through a minimal table description (``created_at``, ``verify_ok``)
and work the same before that table exists (a database migrated by an older release).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, MetaData, Table, func, inspect, select

from engine.storage.types import UTCDateTime

_BACKUPS = Table("backups", MetaData(), Column("created_at", UTCDateTime), Column("verify_ok", Boolean))


def newest_verified_backup_age_s(db, now: datetime) -> float | None:
    """Return seconds since the newest backup whose restore verified, or None when none did.

    Raises
    ------
    LookupError
        When the database has no ``backups`` table (backups not installed).
    """
    if not inspect(db.engine).has_table("backups"):
        raise LookupError("no backups table")
    with db.engine.connect() as conn:
        newest = conn.execute(select(func.max(_BACKUPS.c.created_at))
                              .where(_BACKUPS.c.verify_ok.is_(True))).scalar()
    if newest is None:
        return None
    return max(0.0, (now - newest).total_seconds())
