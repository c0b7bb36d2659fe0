"""Clocks: the one place the engine learns the time.

Nothing in ``engine/`` calls ``datetime.now()`` or ``time.time()``; a ``Clock`` is injected
and read once per decision, so tests move a ``ManualClock`` by hand instead of sleeping.
All times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    """Source of the current time."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...


class SystemClock:
    """The wall clock (UTC)."""

    def now(self) -> datetime:
        """Return the wall-clock time in UTC."""
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that only moves when told to; thread-safe.

    Parameters
    ----------
    start : datetime
        Initial time; naive datetimes are taken as UTC.
    """

    def __init__(self, start: datetime):
        self._now = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the current manual time."""
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by ``timedelta(**delta)`` and return the new time."""
        with self._lock:
            self._now = self._now + timedelta(**delta)
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (naive = UTC)."""
        with self._lock:
            self._now = when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def to_epoch_s(when: datetime) -> float:
    """Return ``when`` as Unix seconds (naive datetimes are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def from_epoch_s(ts: float) -> datetime:
    """Return the aware UTC datetime of Unix seconds ``ts``."""
    return datetime.fromtimestamp(ts, tz=timezone.utc)
