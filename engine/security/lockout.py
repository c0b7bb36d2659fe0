"""Sign-in lockout rule: 5 failures for one user within 15 minutes lock it for 15 minutes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)


def should_lock(failure_times: Sequence[datetime], now: datetime,
                last_success: datetime | None = None) -> bool:
    """True when at least ``MAX_FAILURES`` failures fall in the window before ``now``.

    Failures before the last successful sign-in do not count: a user who got in has proven
    the password, so earlier typos should not lock them later.
    """
    since = now - FAILURE_WINDOW
    if last_success is not None and last_success > since:
        since = last_success
    return sum(1 for t in failure_times if t > since) >= MAX_FAILURES


def lock_until(now: datetime) -> datetime:
    """Return the end of a lock that starts at ``now``."""
    return now + LOCK_DURATION
