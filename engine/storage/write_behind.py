"""Write-behind for the engine's own writes: run them now, or queue them while the database is down.

The engine keeps collecting and deciding from memory when the database is unreachable
(DESIGN.md, "Health": degraded, writes queued). Its writes — decisions, alert transitions,
audit rows, job runs — go through ``WriteBehind.write`` as units of work (a function of a
session). When the database refuses the connection the unit is kept, in order, in a bounded
in-memory queue; the next write or ``flush`` replays the queue first, each unit in its own
transaction, oldest first, and stops at the first one the database still refuses.

Units are replayed as code, not as saved rows: an audit row is appended (and its chain hash
computed) when its unit runs, against the checkpoint of that moment, so the chain stays
valid whatever else was written meanwhile; its ``ts`` is still the time of the event,
captured when the unit was made. A full queue refuses further writes (they are counted and
logged as lost) and health reports the engine unhealthy. The queue lives in this process:
a crash during an outage loses it, which is why health turns unhealthy after five minutes.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Session], object]
OUTAGE_LIMIT_S = 300.0


def is_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot be reached (not a bug in the write)."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


@dataclass(frozen=True)
class PendingWrite:
    """A queued unit of work: what it is (for logs and health), when it was made, the work."""

    label: str
    made_at: datetime
    work: Work


@dataclass(frozen=True)
class WriteStatus:
    """Queue state for health: pending units, since when the database is down, lost units."""

    pending: int
    capacity: int
    unreachable_since: datetime | None
    lost: int

    @property
    def full(self) -> bool:
        """True when no further write can be queued."""
        return self.pending >= self.capacity


class WriteBehind:
    """Runs units of work against ``db``; queues them in order while it is unreachable."""

    def __init__(self, db, clock, capacity: int = 10_000):
        self.db = db
        self.clock = clock
        self.capacity = capacity
        self._pending: deque[PendingWrite] = deque()
        self._lock = threading.RLock()
        self._unreachable_since: datetime | None = None
        self._lost = 0

    def status(self) -> WriteStatus:
        """Return the queue's state."""
        with self._lock:
            return WriteStatus(len(self._pending), self.capacity, self._unreachable_since, self._lost)

    def note_unreachable(self) -> None:
        """Record that the database just failed a check (health), if not known already."""
        with self._lock:
            if self._unreachable_since is None:
                self._unreachable_since = self.clock.now()

    def write(self, label: str, work: Callable[[Session], T],
              deferred: Callable[[], Work] | None = None) -> T | None:
        """Run ``work`` in one transaction and return its result, or queue it and return None.

        ``deferred``, when given, is called once if the work must wait: it may act at once on
        what does not need the database (e.g. send a scale order) and returns the unit to
        queue instead of ``work``.
        """
        with self._lock:
            if self._pending:
                self._flush_locked()
            if not self._pending:
                try:
                    with self.db.session() as session:
                        result = work(session)
                    self._unreachable_since = None
                    return result
                except Exception as exc:
                    if not is_unreachable(exc):
                        raise
                    self.note_unreachable()
            self._enqueue(PendingWrite(label, self.clock.now(), deferred() if deferred else work))
            return None

    def _enqueue(self, item: PendingWrite) -> None:
        if len(self._pending) >= self.capacity:
            self._lost += 1
            log.error("database unreachable and the write queue is full (%d): %s lost",
                      self.capacity, item.label)
            return
        if not self._pending:
            log.warning("database unreachable: queueing engine writes in memory")
        self._pending.append(item)

    def flush(self) -> int:
        """Replay queued units in order; return how many were written."""
        with self._lock:
            return self._flush_locked()

    def _flush_locked(self) -> int:
        if not self._pending:
            return 0
        written = 0
        while self._pending:
            item = self._pending[0]
            try:
                with self.db.session() as session:
                    item.work(session)
            except Exception as exc:
                if is_unreachable(exc):
                    self.note_unreachable()
                    return written
                # A unit that fails for another reason would block the queue for ever.
                log.exception("queued write %s failed and is dropped", item.label)
                self._lost += 1
            self._pending.popleft()
            written += 1
        log.info("database reachable again: %d queued write(s) flushed", written)
        self._unreachable_since = None
        return written
