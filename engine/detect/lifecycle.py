"""Alert lifecycle as a pure function: conditions in, state transitions out.

States: ``pending`` (condition seen, hold time running) → ``firing`` → ``acknowledged``
(someone is on it) or ``silenced`` (until a time) → ``resolved``. One open alert per
(service, metric): a condition that persists updates its alert instead of opening another
(deduplication). Hold times (DESIGN.md): warning 5 min, 1 min on wedding days; critical
fires at once. A warning that becomes critical escalates the same alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from engine.detect.thresholds import CRITICAL, LEVEL_RANK, WARNING, Threshold, level_of

PENDING, FIRING, ACKNOWLEDGED, SILENCED, RESOLVED = (
    "pending", "firing", "acknowledged", "silenced", "resolved")
OPEN_STATES = (PENDING, FIRING, ACKNOWLEDGED, SILENCED)


@dataclass(frozen=True)
class Condition:
    """A metric at or over a threshold right now."""

    service: str
    metric: str
    severity: str
    value: float
    threshold: float


@dataclass(frozen=True)
class OpenAlert:
    """What the lifecycle needs to know of an alert that is not resolved."""

    id: int
    service: str
    metric: str
    severity: str
    state: str
    started_at: datetime
    silenced_until: datetime | None = None


@dataclass(frozen=True)
class Transition:
    """One change to apply: open a new alert (``alert_id`` None) or move an existing one."""

    alert_id: int | None
    service: str
    metric: str
    severity: str
    to_state: str
    value: float
    threshold: float
    reason: str


def hold_time(severity: str, wedding_day: bool) -> timedelta:
    """How long a condition must last before its alert fires."""
    if severity == CRITICAL:
        return timedelta(0)
    return timedelta(minutes=1 if wedding_day else 5)


def conditions_from(latest: Mapping[str, Mapping[str, tuple[float, float]]],
                    table: Mapping[str, Threshold]) -> list[Condition]:
    """Return the threshold conditions in ``latest`` (service → metric → (ts, value))."""
    found = []
    for service, metrics in latest.items():
        for metric, (_ts, value) in metrics.items():
            level = level_of(metric, value, table)
            if level in (WARNING, CRITICAL):
                limit = table[metric]
                found.append(Condition(service, metric, level, float(value),
                                       limit.critical if level == CRITICAL else limit.warning))
    return found


def _fire_state(alert: OpenAlert, now: datetime) -> str:
    if alert.state == SILENCED and alert.silenced_until and alert.silenced_until > now:
        return SILENCED
    if alert.state in (ACKNOWLEDGED,):
        return ACKNOWLEDGED
    return FIRING


def step_alerts(open_alerts: Iterable[OpenAlert], conditions: Iterable[Condition], now: datetime,
                *, wedding_day: bool) -> list[Transition]:
    """Return the transitions that bring ``open_alerts`` in line with ``conditions`` at ``now``."""
    by_key = {(a.service, a.metric): a for a in open_alerts}
    seen: set[tuple[str, str]] = set()
    out: list[Transition] = []
    for c in conditions:
        key = (c.service, c.metric)
        seen.add(key)
        alert = by_key.get(key)
        if alert is None:
            state = FIRING if hold_time(c.severity, wedding_day) == timedelta(0) else PENDING
            out.append(Transition(None, c.service, c.metric, c.severity, state, c.value, c.threshold,
                                  f"{c.metric} {c.value:.4g} ≥ {c.severity} {c.threshold:g}"))
            continue
        escalated = LEVEL_RANK[c.severity] > LEVEL_RANK[alert.severity]
        severity = c.severity if escalated else alert.severity
        if alert.state == PENDING:
            if now - alert.started_at >= hold_time(severity, wedding_day):
                out.append(Transition(alert.id, c.service, c.metric, severity, FIRING, c.value,
                                      c.threshold, f"held for {hold_time(severity, wedding_day)}"))
            elif escalated:
                out.append(Transition(alert.id, c.service, c.metric, severity, PENDING, c.value,
                                      c.threshold, "escalated"))
        elif alert.state == SILENCED and alert.silenced_until and alert.silenced_until <= now:
            out.append(Transition(alert.id, c.service, c.metric, severity, FIRING, c.value,
                                  c.threshold, "silence ended"))
        elif escalated:
            # A new severity needs new eyes: an acknowledged warning fires again as critical.
            state = SILENCED if _fire_state(alert, now) == SILENCED else FIRING
            out.append(Transition(alert.id, c.service, c.metric, severity, state, c.value,
                                  c.threshold, f"escalated to {severity}"))
    for key, alert in by_key.items():
        if key not in seen:
            out.append(Transition(alert.id, alert.service, alert.metric, alert.severity, RESOLVED,
                                  float("nan"), float("nan"), "condition cleared"))
    return out
