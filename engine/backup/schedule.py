"""When a backup is due, as pure functions of the clock, the manifest and the calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

SCHEDULED, MANUAL, PRE_WEDDING, PRE_RESTORE = "scheduled", "manual", "pre-wedding", "pre-restore"
KINDS = (SCHEDULED, MANUAL, PRE_WEDDING, PRE_RESTORE)
PRE_WEDDING_LEAD = timedelta(hours=1)


def due_backup_kind(now: datetime, newest_at: datetime | None, last_pre_wedding_at: datetime | None,
                    window_starts: Iterable[datetime], interval: timedelta,
                    lead: timedelta = PRE_WEDDING_LEAD) -> str | None:
    """Return the kind of backup to take now, or None when none is due.

    Parameters
    ----------
    now : datetime
        The current time.
    newest_at : datetime or None
        When the newest backup of any kind that did not fail verification was taken.
    last_pre_wedding_at : datetime or None
        When the newest pre-wedding backup was taken.
    window_starts : iterable of datetime
        Starts of the wedding windows on the calendar.
    interval : timedelta
        A scheduled backup is due once the newest backup is this old.
    lead : timedelta
        A pre-wedding backup is due when a window starts within ``lead`` and no pre-wedding
        backup was taken in the ``lead`` before that start (default 1 h). One backup covers
        every window starting within the hour after it.

    Returns
    -------
    str or None
        ``"pre-wedding"`` (it wins, it also resets the hourly clock), ``"scheduled"`` or None.
    """
    upcoming = [s for s in window_starts if now < s <= now + lead]
    if upcoming and (last_pre_wedding_at is None or last_pre_wedding_at < max(upcoming) - lead):
        return PRE_WEDDING
    if newest_at is None or now - newest_at >= interval:
        return SCHEDULED
    return None


def recovery_point_s(now: datetime, newest_verified_at: datetime | None) -> float | None:
    """Return the recovery point in seconds: the age of the newest verified backup (None: none)."""
    if newest_verified_at is None:
        return None
    return max(0.0, (now - newest_verified_at).total_seconds())
