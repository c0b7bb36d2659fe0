"""Pure health rules: job lag, history transitions with Saturday mode, statement normalising."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.health import DEGRADED, HEALTHY, UNHEALTHY, job_lags
from engine.health_history import decide_health_step
from engine.storage.slow_queries import SlowQueryLog, normalise_statement

NOW = datetime(2026, 6, 13, 14, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("age_s, interval_s, lag_s, overdue", [
    (4, 5, 0.0, False),      # on time
    (12, 5, 7.0, False),     # late, but under 30 s
    (31, 5, 26.0, True),     # over 30 s and over 3 intervals
    (40, 15, 25.0, False),   # a 15 s job may be 45 s old
    (46, 15, 31.0, True),
])
def test_job_lag_and_overdue(age_s, interval_s, lag_s, overdue):
    out = job_lags({"job": NOW - timedelta(seconds=age_s)}, {"job": interval_s}, NOW)["job"]
    assert (out["lag_s"], out["overdue"]) == (lag_s, overdue)


def test_a_job_that_never_ran_has_no_lag():
    assert job_lags({}, {"job": 5}, NOW)["job"] == {"last_run": None, "age_s": None, "lag_s": None,
                                                   "overdue": False}


@pytest.mark.parametrize("previous, current, wedding_day, record, raise_alert, resolve", [
    (None, HEALTHY, False, True, False, True),        # first check: history starts
    (HEALTHY, HEALTHY, True, False, False, True),     # no change: no history row
    (HEALTHY, DEGRADED, False, True, False, False),   # degraded on a normal day: history only
    (HEALTHY, DEGRADED, True, True, True, False),     # Saturday mode: degraded alerts
    (DEGRADED, UNHEALTHY, False, True, True, False),  # unhealthy alerts on any day
    (DEGRADED, DEGRADED, True, False, True, False),   # still degraded, now a wedding day: alert
    (DEGRADED, HEALTHY, True, True, False, True),     # back: resolve
])
def test_health_step(previous, current, wedding_day, record, raise_alert, resolve):
    step = decide_health_step(previous, current, wedding_day)
    assert (step.record, step.raise_alert, step.resolve_alert) == (record, raise_alert, resolve)


def test_normalised_statement_has_no_literals():
    sql = "SELECT *  FROM users\n WHERE name = 'alice' AND id = 42 AND x1 = ?"
    assert normalise_statement(sql) == "SELECT * FROM users WHERE name = ? AND id = ? AND x1 = ?"


def test_slow_query_log_keeps_the_slowest_over_the_threshold():
    log = SlowQueryLog(threshold_ms=10, keep=2)
    log.observe("SELECT 1", 5)            # under the threshold
    log.observe("SELECT a FROM t", 20)
    log.observe("SELECT a FROM t", 40)
    log.observe("SELECT b FROM t", 15)
    log.observe("SELECT c FROM t", 30)    # pushes out the fastest (b)
    slowest = log.slowest()
    assert [(q.statement, q.count, q.max_ms) for q in slowest] == [("SELECT a FROM t", 2, 40),
                                                                   ("SELECT c FROM t", 1, 30)]
    assert slowest[0].mean_ms == 30
