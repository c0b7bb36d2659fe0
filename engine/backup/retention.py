"""Backup retention as a pure function: backups (id, time, verification) in, ids to delete out.

Grandfather-father-son: the newest backup of each hour is kept for 2 days, of each UTC day
for 30 days, of each ISO week for a year; everything else goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Hashable, Iterable


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each tier keeps one backup per slot (days)."""

    hourly_days: float = 2.0
    daily_days: float = 30.0
    weekly_days: float = 365.0


@dataclass(frozen=True)
class RetainedBackup:
    """What retention needs to know of one backup: id, when, and whether it verified."""

    id: int
    created_at: datetime
    verify_ok: bool | None = None


def _hour(t: datetime) -> Hashable:
    return (t.date(), t.hour)


def _day(t: datetime) -> Hashable:
    return t.date()


def _week(t: datetime) -> Hashable:
    return tuple(t.isocalendar()[:2])


def _slot_keepers(items: list[RetainedBackup], now: datetime, span: timedelta,
                  slot: Callable[[datetime], Hashable]) -> set[int]:
    """Return the ids of the newest backup in each slot younger than ``span``."""
    kept: dict[Hashable, int] = {}
    for item in sorted(items, key=lambda i: i.created_at, reverse=True):
        if now - item.created_at <= span:
            kept.setdefault(slot(item.created_at), item.id)
    return set(kept.values())


def select_expired(backups: Iterable[RetainedBackup], now: datetime,
                   policy: RetentionPolicy = RetentionPolicy()) -> list[int]:
    """Return the ids of the backups to delete, oldest first.

    Parameters
    ----------
    backups : iterable of RetainedBackup
        Every backup in the manifest (times aware UTC).
    now : datetime
        The current time.
    policy : RetentionPolicy
        Tier lengths in days (default 2 / 30 / 365).

    Returns
    -------
    list of int
        Ids to delete. Choices where the textbook scheme is silent: a backup that failed
        verification never holds a slot (a good one in the same slot is kept instead) and
        is deleted once it is older than the hourly tier (kept until then for inspection);
        the newest backup that verified is always kept, whatever its age, so pruning never
        leaves nothing to restore; a backup dated in the future (clock skew) is kept.
    """
    items = list(backups)
    usable = [i for i in items if i.verify_ok is not False]
    keep: set[int] = set()
    for days, slot in ((policy.hourly_days, _hour), (policy.daily_days, _day),
                       (policy.weekly_days, _week)):
        keep |= _slot_keepers(usable, now, timedelta(days=days), slot)
    hourly_span = timedelta(days=policy.hourly_days)
    keep |= {i.id for i in items if i.verify_ok is False and now - i.created_at <= hourly_span}
    keep |= {i.id for i in items if i.created_at > now}
    verified = [i for i in items if i.verify_ok is True]
    if verified:
        keep.add(max(verified, key=lambda i: i.created_at).id)
    expired = [i for i in items if i.id not in keep]
    return [i.id for i in sorted(expired, key=lambda i: i.created_at)]
