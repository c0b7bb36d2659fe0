"""The alert lifecycle as a table of cases (pure: no database, no clock)."""

from datetime import datetime, timedelta, timezone

import pytest

from engine.detect.lifecycle import (
    ACKNOWLEDGED,
    FIRING,
    PENDING,
    RESOLVED,
    SILENCED,
    Condition,
    OpenAlert,
    conditions_from,
    step_alerts,
)
from engine.detect.thresholds import NORMAL_DAY, WEDDING_DAY

NOW = datetime(2026, 6, 13, 12, 0, tzinfo=timezone.utc)
WARN = Condition("api", "cpu_pct", "warning", 88.0, 85.0)
CRIT = Condition("api", "cpu_pct", "critical", 97.0, 95.0)


def alert(state, severity="warning", started_min_ago=0, silenced_until=None):
    return OpenAlert(1, "api", "cpu_pct", severity, state, NOW - timedelta(minutes=started_min_ago),
                     silenced_until)


@pytest.mark.parametrize("open_alerts, conditions, wedding_day, expected", [
    ([], [WARN], False, [(None, PENDING, "warning")]),             # warning waits its hold time
    ([], [CRIT], False, [(None, FIRING, "critical")]),             # critical fires at once
    ([alert(PENDING, started_min_ago=4)], [WARN], False, []),      # 4 min < 5 min hold
    ([alert(PENDING, started_min_ago=5)], [WARN], False, [(1, FIRING, "warning")]),
    ([alert(PENDING, started_min_ago=1)], [WARN], True, [(1, FIRING, "warning")]),  # 1 min on wedding days
    ([alert(PENDING, started_min_ago=1)], [CRIT], False, [(1, FIRING, "critical")]),  # escalation
    ([alert(FIRING)], [WARN], False, []),                          # dedup: no second alert
    ([alert(ACKNOWLEDGED)], [WARN], False, []),                    # acknowledged stays quiet
    ([alert(ACKNOWLEDGED)], [CRIT], False, [(1, FIRING, "critical")]),  # ...until it gets worse
    ([alert(FIRING)], [], False, [(1, RESOLVED, "warning")]),
    ([alert(PENDING)], [], False, [(1, RESOLVED, "warning")]),
    ([alert(SILENCED, silenced_until=NOW + timedelta(minutes=5))], [WARN], False, []),
    ([alert(SILENCED, silenced_until=NOW - timedelta(seconds=1))], [WARN], False, [(1, FIRING, "warning")]),
])
def test_step_alerts(open_alerts, conditions, wedding_day, expected):
    transitions = step_alerts(open_alerts, conditions, NOW, wedding_day=wedding_day)
    assert [(t.alert_id, t.to_state, t.severity) for t in transitions] == expected


def test_conditions_use_the_stricter_wedding_day_thresholds():
    latest = {"api": {"cpu_pct": (0.0, 75.0), "latency_p95_ms": (0.0, 600.0)}}
    assert conditions_from(latest, NORMAL_DAY) == []
    found = {(c.metric, c.severity) for c in conditions_from(latest, WEDDING_DAY)}
    assert found == {("cpu_pct", "warning"), ("latency_p95_ms", "warning")}
