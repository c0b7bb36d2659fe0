"""The daily cost budget: what was spent today (instance-hours × cost) and what a change adds.

Pure functions of plain values. The day is the UTC day (midnight to midnight), like the rest of
the engine's clock. Spend is integrated from the executed decisions of the day: a service runs
at a decision's ``from_instances`` until it and at its ``to_instances`` after it, and at its
current count when it had no decision today. Ordered instances are counted (ready plus
pending): a cloud bills an instance from the moment it is requested.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, Mapping

WEDDING_DAY_MULTIPLIER = 2.5


def day_start(now: datetime) -> datetime:
    """Return the UTC midnight that starts ``now``'s day."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def hours_left_today(now: datetime) -> float:
    """Return the hours from ``now`` to the next UTC midnight."""
    return (day_start(now) + timedelta(days=1) - now).total_seconds() / 3600.0


def instance_hours_today(changes: Iterable[tuple[datetime, int, int]], current: int,
                         now: datetime) -> float:
    """Return the instance-hours of one service from midnight to ``now``.

    Parameters
    ----------
    changes : iterable of (when, from_instances, to_instances)
        The day's executed changes, in any order; those outside the day are ignored.
    current : int
        Ordered instances now (used when there was no change today).
    now : datetime
        End of the integration.
    """
    start = day_start(now)
    today = sorted(c for c in changes if start <= c[0] <= now)
    if not today:
        return current * (now - start).total_seconds() / 3600.0
    total, t, count = 0.0, start, today[0][1]
    for when, _, to_instances in today:
        total += count * (when - t).total_seconds() / 3600.0
        t, count = when, to_instances
    return total + count * (now - t).total_seconds() / 3600.0


def spent_today(changes_by_service: Mapping[str, Iterable[tuple[datetime, int, int]]],
                current: Mapping[str, int], cost_per_hour: Mapping[str, float], now: datetime) -> float:
    """Return today's spend over every service in ``current`` (instance-hours × cost)."""
    return sum(instance_hours_today(changes_by_service.get(s, ()), n, now) * cost_per_hour[s]
               for s, n in current.items())


def budget_of(daily_budget: float, wedding_day: bool,
              multiplier: float = WEDDING_DAY_MULTIPLIER) -> float:
    """Return the day's budget: ``daily_budget``, × ``multiplier`` on a wedding day."""
    return daily_budget * (multiplier if wedding_day else 1.0)


def is_over_budget(spent: float, per_hour_after: float, budget: float, now: datetime) -> bool:
    """True when ``spent`` plus ``per_hour_after`` until midnight exceeds ``budget``.

    ``per_hour_after`` is the cost per hour of every service once the change is made.
    """
    return spent + per_hour_after * hours_left_today(now) > budget
