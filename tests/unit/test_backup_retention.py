"""Backup retention and scheduling as tables: backups in, ids to delete (or the kind due) out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.backup.retention import RetainedBackup, RetentionPolicy, select_expired
from engine.backup.schedule import due_backup_kind, recovery_point_s

NOW = datetime(2026, 6, 13, 14, 30, tzinfo=timezone.utc)  # a Saturday


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def hourly(hours: int) -> list[RetainedBackup]:
    return [RetainedBackup(100 + h, ago(hours=h), True) for h in range(hours)]


# (case, backups as (id, created_at, verify_ok), ids expected to be deleted)
RETENTION_CASES = [
    ("nothing to prune", [], []),
    ("one backup per hour for two days: all kept", [(b.id, b.created_at, b.verify_ok) for b in hourly(48)], []),
    ("two in the same hour: the older goes",
     [(1, utc(2026, 6, 13, 14, 5), True), (2, utc(2026, 6, 13, 14, 20), True)], [1]),
    ("two on one day three days ago: the newest of the day stays",
     [(1, utc(2026, 6, 10, 10), True), (2, utc(2026, 6, 10, 20), True), (3, ago(minutes=5), True)], [1]),
    ("older than the daily tier: one per ISO week",
     [(1, utc(2026, 5, 4, 12), True), (2, utc(2026, 5, 6, 12), True), (3, utc(2026, 5, 11, 12), True),
      (4, ago(minutes=5), True)], [1]),
    ("Sunday and Monday are different ISO weeks",
     [(1, utc(2026, 5, 10, 12), True), (2, utc(2026, 5, 11, 12), True), (3, ago(minutes=5), True)], []),
    ("older than a year goes",
     [(1, utc(2025, 6, 1), True), (2, ago(minutes=5), True)], [1]),
    ("the newest verified backup stays whatever its age",
     [(1, utc(2025, 1, 1), True), (2, utc(2024, 1, 1), True)], [2]),
    ("a failed backup never holds a slot: the good one in its hour stays",
     [(1, utc(2026, 6, 13, 13, 5), True), (2, utc(2026, 6, 13, 13, 40), False)], []),
    ("a failed backup goes once older than the hourly tier; a good one keeps the day",
     [(1, utc(2026, 6, 9, 8), True), (2, utc(2026, 6, 9, 9), False), (3, ago(minutes=5), True)], [2]),
    ("a backup dated in the future (clock skew) stays",
     [(1, ago(hours=-3), None), (2, ago(minutes=5), True)], []),
    ("unverified backups hold slots like verified ones",
     [(1, utc(2026, 6, 12, 9, 10), None), (2, utc(2026, 6, 12, 9, 50), None)], [1]),
]


@pytest.mark.parametrize("case, backups, expected", RETENTION_CASES, ids=[c[0] for c in RETENTION_CASES])
def test_select_expired(case, backups, expected):
    items = [RetainedBackup(i, t, ok) for i, t, ok in backups]
    assert select_expired(items, NOW) == expected


def test_a_shorter_policy_prunes_more():
    items = hourly(48)
    expired = select_expired(items, NOW, RetentionPolicy(hourly_days=1, daily_days=1, weekly_days=1))
    # Kept: the 24 hourly ones of the last day, plus the newest of yesterday's date.
    # Kept: one a hour for the last day (ages 0..24 h inclusive); the day and week keepers
    # are among them.
    assert {i.id for i in items} - set(expired) == {100 + h for h in range(25)}


def test_expired_ids_come_oldest_first():
    items = [RetainedBackup(1, utc(2024, 1, 1), None), RetainedBackup(2, utc(2023, 1, 1), None),
             RetainedBackup(3, ago(minutes=1), True)]
    assert select_expired(items, NOW) == [2, 1]


HOUR = timedelta(hours=1)

# (case, newest_at, last_pre_wedding_at, window starts, expected kind)
SCHEDULE_CASES = [
    ("never backed up", None, None, [], "scheduled"),
    ("newest 30 min old", ago(minutes=30), None, [], None),
    ("newest exactly one interval old", ago(hours=1), None, [], "scheduled"),
    ("window in 30 min, no pre-wedding backup", ago(minutes=10), None, [NOW + timedelta(minutes=30)], "pre-wedding"),
    ("window in 30 min, pre-wedding backup 20 min ago", ago(minutes=20), ago(minutes=20),
     [NOW + timedelta(minutes=30)], None),
    ("window in 30 min, the pre-wedding backup was for an earlier wedding", ago(minutes=20), ago(hours=2),
     [NOW + timedelta(minutes=30)], "pre-wedding"),
    ("window in 90 min: not yet", ago(minutes=10), None, [NOW + timedelta(minutes=90)], None),
    ("window started 10 min ago: too late, it is running", ago(minutes=10), None,
     [NOW - timedelta(minutes=10)], None),
    ("one backup covers every window within the hour after it", ago(minutes=5), ago(minutes=5),
     [NOW + timedelta(minutes=20), NOW + timedelta(minutes=50)], None),
    ("a window 65 min after the last pre-wedding backup gets its own", ago(minutes=15), ago(minutes=15),
     [NOW + timedelta(minutes=50)], "pre-wedding"),
]


@pytest.mark.parametrize("case, newest, pre, windows, expected", SCHEDULE_CASES,
                         ids=[c[0] for c in SCHEDULE_CASES])
def test_due_backup_kind(case, newest, pre, windows, expected):
    assert due_backup_kind(NOW, newest, pre, windows, HOUR) == expected


def test_recovery_point_is_the_age_of_the_newest_verified_backup():
    assert recovery_point_s(NOW, None) is None
    assert recovery_point_s(NOW, ago(minutes=90)) == 5400.0
