"""The sign-in lockout rule as a table of cases."""

from datetime import datetime, timedelta, timezone

import pytest

from engine.security.lockout import should_lock

NOW = datetime(2026, 6, 13, 12, 0, tzinfo=timezone.utc)


def ago(*minutes):
    return [NOW - timedelta(minutes=m) for m in minutes]


@pytest.mark.parametrize("failures, last_success, locked", [
    (ago(1, 2, 3, 4), None, False),                 # four failures: not yet
    (ago(1, 2, 3, 4, 5), None, True),               # the fifth within 15 min locks
    (ago(1, 2, 3, 4, 16), None, False),             # one of them is outside the window
    (ago(1, 2, 3, 4, 5), NOW - timedelta(minutes=3), False),  # a success in between resets
    (ago(0.5, 1, 1.5, 2, 2.5), NOW - timedelta(minutes=3), True),
])
def test_should_lock(failures, last_success, locked):
    assert should_lock(failures, NOW, last_success) is locked
