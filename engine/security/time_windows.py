"""Time-restricted access as pure functions: parse, describe and check access windows.

A window is a set of weekdays and a local time range in an IANA time zone, e.g. Mon–Sat
06:00–22:00 Europe/London. A range whose end is at or before its start runs past midnight
(22:00–06:00) and belongs to the day it starts on. A subject (a role or a user) with
windows may act only inside one of them; windows on a user replace those of their role, so
one person can be given a different shift than their team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import InvalidInput

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class AccessWindow:
    """Weekdays (0 = Monday) and a local [start, end) time range in ``timezone``."""

    days: frozenset[int]
    start: time
    end: time
    timezone: str


@dataclass(frozen=True)
class WindowVerdict:
    """Whether access is allowed now, and the message to show when it is not."""

    allowed: bool
    message: str = ""


def _day(text: str) -> int:
    name = text.strip()[:3].title()
    if name not in DAY_NAMES:
        raise InvalidInput(f"unknown day {text!r}; use Mon, Tue, Wed, Thu, Fri, Sat, Sun", {"field": "days"})
    return DAY_NAMES.index(name)


def parse_days(text: str) -> frozenset[int]:
    """Parse ``"Mon-Sat"``, ``"Mon,Wed,Fri"`` or ``"Sat-Mon"`` (wrapping) into weekday numbers."""
    days: set[int] = set()
    for part in (text or "").replace("–", "-").split(","):
        if not part.strip():
            continue
        if "-" in part:
            first, last = (_day(p) for p in part.split("-", 1))
            span = (last - first) % 7
            days.update((first + i) % 7 for i in range(span + 1))
        else:
            days.add(_day(part))
    if not days:
        raise InvalidInput("give at least one day, e.g. Mon-Fri", {"field": "days"})
    return frozenset(days)


def parse_time(text: str, field: str) -> time:
    """Parse ``HH:MM`` (24 h); ``24:00`` means the end of the day."""
    try:
        hours, minutes = (int(p) for p in (text or "").strip().split(":"))
    except ValueError:
        raise InvalidInput(f"{field} must be HH:MM", {"field": field}) from None
    if (hours, minutes) == (24, 0):
        return time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise InvalidInput(f"{field} must be between 00:00 and 24:00", {"field": field})
    return time(hours, minutes)


def parse_zone(name: str) -> str:
    """Return ``name`` when it is a known IANA time zone; raise InvalidInput otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput(f"unknown time zone {name!r}", {"field": "timezone"}) from None
    return name


def make_window(days: str, start: str, end: str, timezone: str) -> AccessWindow:
    """Build a validated window from its text form; raises InvalidInput naming the field."""
    window = AccessWindow(parse_days(days), parse_time(start, "start"), parse_time(end, "end"),
                          parse_zone(timezone))
    if window.start == window.end:
        raise InvalidInput("start and end must differ", {"field": "end"})
    return window


def _days_text(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{DAY_NAMES[ordered[0]]}–{DAY_NAMES[ordered[-1]]}"
    return ", ".join(DAY_NAMES[d] for d in ordered)


def _clock_text(t: time) -> str:
    return "24:00" if t == time.max else f"{t:%H:%M}"


def describe(window: AccessWindow) -> str:
    """Return e.g. ``"Mon–Sat 06:00–22:00 Europe/London"``."""
    return f"{_days_text(window.days)} {_clock_text(window.start)}–{_clock_text(window.end)} {window.timezone}"


def within(window: AccessWindow, now: datetime) -> bool:
    """True when ``now`` (aware) falls inside ``window``."""
    local = now.astimezone(ZoneInfo(window.timezone))
    clock = local.time().replace(tzinfo=None)
    if window.start < window.end:
        return local.weekday() in window.days and window.start <= clock < window.end
    # Past midnight: the evening part belongs to today, the morning part to yesterday.
    if clock >= window.start:
        return local.weekday() in window.days
    yesterday = (local - timedelta(days=1)).weekday()
    return clock < window.end and yesterday in window.days


def check_windows(windows: list[AccessWindow], now: datetime, who: str) -> WindowVerdict:
    """Allowed when there are no windows or ``now`` is inside one; else a message naming them."""
    if not windows or any(within(w, now) for w in windows):
        return WindowVerdict(True)
    allowed = "; ".join(describe(w) for w in windows)
    return WindowVerdict(False, f"Access for {who} is allowed only {allowed}. "
                                f"It is now outside that time; an operator may take break-glass rights "
                                f"in an emergency.")
