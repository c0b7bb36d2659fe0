"""History of the overall health state, and "Saturday mode".

The leader checks health on a schedule (job ``check_health``) and stores a ``health_events``
row whenever the overall state changes, so the Health page can show when the console was
degraded and for how long, whichever worker serves the page.

Saturday mode: on a wedding day (any wedding window touches today, UTC) a degraded state is
an emergency, so it raises a critical alert on the ``system`` pseudo-service; an unhealthy
state raises it on every day. While the alert is open a new check updates it instead of
opening another (so a degraded Friday that turns into a wedding Saturday alerts at midnight,
once); it resolves when health is back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.health import DEGRADED, HEALTHY, UNHEALTHY, HealthReport
from engine.storage.models import HealthEvent

ALERT_SERVICE, ALERT_KEY = "system", "health"
HISTORY_LIMIT = 50


@dataclass(frozen=True)
class HealthStep:
    """What one health check changes: a new history row, and the alert to raise or resolve."""

    record: bool
    raise_alert: bool
    resolve_alert: bool


def decide_health_step(previous: str | None, current: str, wedding_day: bool) -> HealthStep:
    """Return what to do when the overall state goes from ``previous`` to ``current``. Pure.

    ``previous`` is None before the first check. History records changes only; the alert
    follows the current state (raising an open alert again only updates it).
    """
    alerting = current == UNHEALTHY or (current == DEGRADED and wedding_day)
    return HealthStep(previous != current, alerting, current == HEALTHY)


def last_state(session: Session) -> str | None:
    """Return the newest recorded overall state, or None when nothing was recorded."""
    return session.scalar(select(HealthEvent.status).order_by(HealthEvent.id.desc()).limit(1))


def history(session: Session, limit: int = HISTORY_LIMIT) -> list[HealthEvent]:
    """Return the newest ``limit`` state changes, newest first."""
    return list(session.scalars(select(HealthEvent).order_by(HealthEvent.id.desc()).limit(limit)))


def apply_health_step(session: Session, alerts, report: HealthReport, now: datetime,
                      wedding_day: bool) -> HealthStep:
    """Record a transition of ``report``'s state and raise or resolve the health alert."""
    previous = last_state(session)
    step = decide_health_step(previous, report.status, wedding_day)
    if step.record:
        session.add(HealthEvent(ts=now, status=report.status, previous=previous, summary=report.summary()[:2000]))
    if step.raise_alert:
        day = "wedding day: " if wedding_day else ""
        alerts.raise_system_alert(session, ALERT_SERVICE, ALERT_KEY,
                                  f"{day}console {report.status}: {report.summary()}"[:500], now)
    elif step.resolve_alert:
        alerts.resolve_system_alert(session, ALERT_SERVICE, ALERT_KEY, "health is back", now)
    return step
