"""The daily budget as pure numbers: instance-hours from the day's changes, over-budget checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.scaling.budget import (budget_of, hours_left_today, instance_hours_today, is_over_budget,
                                   spent_today)

NOON = datetime(2026, 6, 13, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("changes, current, expected", [
    ([], 4, 48.0),                                                      # 4 instances since midnight
    ([(NOON - timedelta(hours=2), 4, 10)], 10, 4 * 10 + 10 * 2),       # 4 until 10:00, then 10
    ([(NOON - timedelta(hours=6), 2, 6), (NOON - timedelta(hours=3), 6, 3)], 3, 2 * 6 + 6 * 3 + 3 * 3),
    ([(NOON - timedelta(days=1), 1, 50)], 5, 60.0),                    # yesterday's change is ignored
])
def test_instance_hours_today(changes, current, expected):
    assert instance_hours_today(changes, current, NOON) == pytest.approx(expected)


def test_spend_sums_services_at_their_cost():
    spent = spent_today({"api": [(NOON - timedelta(hours=2), 4, 10)]}, {"api": 10, "db": 2},
                        {"api": 0.5, "db": 1.0}, NOON)
    assert spent == pytest.approx(60 * 0.5 + 24 * 1.0)


def test_wedding_day_multiplies_the_budget_and_over_budget_projects_to_midnight():
    assert budget_of(100.0, False) == 100.0 and budget_of(100.0, True) == 250.0
    assert hours_left_today(NOON) == 12.0
    assert not is_over_budget(40.0, 5.0, 100.0, NOON)       # 40 + 5 × 12 = 100: at the budget
    assert is_over_budget(40.0, 5.01, 100.0, NOON)
    assert not is_over_budget(40.0, 5.01, budget_of(100.0, True), NOON)
