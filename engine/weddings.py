"""Wedding calendar terms as pure values: windows, phases, wedding days, large weddings.

A *wedding window* runs from 2 h before the ceremony to 1 h after the reception ends; a
*wedding day* is a (UTC) date touched by at least one window; a *large* wedding has at least
150 guests or the priority flag (DESIGN.md, "Wedding terms").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable

PREPARATION = timedelta(hours=2)
WIND_DOWN = timedelta(hours=1)
LARGE_WEDDING_GUESTS = 150

PHASES: tuple[str, ...] = ("preparation", "ceremony", "reception", "wind-down")


@dataclass(frozen=True)
class Wedding:
    """One wedding on the calendar. Times are aware UTC datetimes.

    ``timezone`` is the venue's IANA zone, kept for display and CSV/ICS round trips; all
    arithmetic is done in UTC.
    """

    id: int | None
    name: str
    timezone: str
    ceremony_start: datetime
    reception_start: datetime
    reception_end: datetime
    guest_count: int
    services: tuple[str, ...] = field(default_factory=tuple)
    priority: bool = False
    cancelled: bool = False

    @property
    def window_start(self) -> datetime:
        """Start of the wedding window: 2 h before the ceremony."""
        return self.ceremony_start - PREPARATION

    @property
    def window_end(self) -> datetime:
        """End of the wedding window: 1 h after the reception ends."""
        return self.reception_end + WIND_DOWN

    @property
    def is_large(self) -> bool:
        """True for ≥ 150 guests or the priority flag."""
        return self.priority or self.guest_count >= LARGE_WEDDING_GUESTS

    def in_window(self, when: datetime) -> bool:
        """True when ``when`` falls inside the wedding window (end excluded)."""
        return not self.cancelled and self.window_start <= when < self.window_end

    def phase_at(self, when: datetime) -> str | None:
        """Return the phase name at ``when``, or None outside the window."""
        if not self.in_window(when):
            return None
        if when < self.ceremony_start:
            return "preparation"
        if when < self.reception_start:
            return "ceremony"
        if when < self.reception_end:
            return "reception"
        return "wind-down"

    def phase_spans(self) -> list[tuple[str, datetime, datetime]]:
        """Return ``(phase, start, end)`` for the four phases, in order."""
        return [
            ("preparation", self.window_start, self.ceremony_start),
            ("ceremony", self.ceremony_start, self.reception_start),
            ("reception", self.reception_start, self.reception_end),
            ("wind-down", self.reception_end, self.window_end),
        ]


def active_weddings(weddings: Iterable[Wedding], when: datetime) -> list[Wedding]:
    """Return the weddings whose window contains ``when``."""
    return [w for w in weddings if w.in_window(when)]


def is_wedding_day(weddings: Iterable[Wedding], day: date) -> bool:
    """True when any wedding window touches the UTC date ``day``."""
    start = datetime(day.year, day.month, day.day, tzinfo=None)
    for w in weddings:
        if w.cancelled:
            continue
        lo = w.window_start.replace(tzinfo=None)
        hi = w.window_end.replace(tzinfo=None)
        if lo < start + timedelta(days=1) and hi > start:
            return True
    return False


def next_weddings(weddings: Iterable[Wedding], when: datetime, limit: int = 3) -> list[Wedding]:
    """Return up to ``limit`` uncancelled weddings whose window starts after ``when``."""
    upcoming = [w for w in weddings if not w.cancelled and w.window_start > when]
    return sorted(upcoming, key=lambda w: w.window_start)[:limit]
