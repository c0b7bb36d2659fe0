"""The wedding calendar as the engine reads it: rows from SQL as ``Wedding`` values, cached.

The simulator and the policy ask for the calendar every few seconds; reading it from the
database at most once a minute keeps that off the hot path.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError

from engine.clock import Clock
from engine.storage.db import Database
from engine.storage.models import WeddingRow
from engine.weddings import Wedding

REFRESH = timedelta(seconds=60)
log = logging.getLogger(__name__)


def wedding_of(row: WeddingRow) -> Wedding:
    """Return the pure ``Wedding`` value of a stored row."""
    return Wedding(
        id=row.id, name=row.name, timezone=row.timezone, ceremony_start=row.ceremony_start,
        reception_start=row.reception_start, reception_end=row.reception_end,
        guest_count=row.guest_count,
        services=tuple(s for s in row.services.split(";") if s),
        priority=row.priority, cancelled=row.cancelled,
    )


class WeddingCalendar:
    """Cached view of the stored weddings; ``invalidate()`` after an edit."""

    def __init__(self, db: Database, clock: Clock):
        self._db = db
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: list[Wedding] = []
        self._loaded_at: datetime | None = None

    def all(self) -> list[Wedding]:
        """Return every uncancelled wedding, refreshed from SQL at most once a minute."""
        now = self._clock.now()
        with self._lock:
            if self._loaded_at is None or now - self._loaded_at > REFRESH or now < self._loaded_at:
                try:
                    with self._db.session() as session:
                        rows = session.execute(
                            select(WeddingRow).where(WeddingRow.cancelled.is_(False))
                            .order_by(WeddingRow.ceremony_start)
                        ).scalars()
                        self._cache = [wedding_of(r) for r in rows]
                except (OperationalError, InterfaceError):
                    # Database down: keep deciding on the calendar we last read (or none).
                    log.warning("wedding calendar not refreshed: database unreachable")
                self._loaded_at = now
            return list(self._cache)

    def invalidate(self) -> None:
        """Forget the cache so the next read goes to the database."""
        with self._lock:
            self._loaded_at = None

    __call__ = all
