"""The alert service: evaluate thresholds into alerts, and the human actions on them.

``evaluate`` has the three beats of an engine job: gather (latest metrics, open alerts,
wedding day), decide (``step_alerts``, pure), apply (rows, events, audit, notifications).
Every transition is stored as an ``AlertEvent`` and audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.detect.lifecycle import (
    ACKNOWLEDGED,
    Condition,
    FIRING,
    OPEN_STATES,
    RESOLVED,
    SILENCED,
    OpenAlert,
    Transition,
    conditions_from,
    step_alerts,
)
from engine.detect.live_anomaly import ANOMALY_PREFIX
from engine.detect.notify import Notification, Notifier
from engine.detect.staleness import SOURCES_SERVICE, staleness_conditions
from engine.detect.thresholds import Threshold, thresholds_for
from engine.errors import Conflict, InvalidInput, NotFound
from engine.security.audit import SYSTEM, Actor, AuditLog
from engine.storage.models import AlertEvent, AlertRow
from engine.weddings import is_wedding_day

MAX_SILENCE = timedelta(hours=24)
# Only changes a person should hear about are sent; pending and quiet resolutions are not.
_NOTIFY_STATES = {FIRING, RESOLVED}


@dataclass(frozen=True)
class AlertContext:
    """What ``evaluate`` reads besides the database.

    ``tables`` holds the thresholds in force per service (defaults for a service not listed);
    ``anomalies`` the live anomaly conditions (``engine.detect.live_anomaly``).
    """

    latest: dict[str, dict[str, tuple[float, float]]]
    wedding_day: bool
    tables: Mapping[str, Mapping[str, Threshold]] = field(default_factory=dict)
    anomalies: tuple[Condition, ...] = ()
    data_age_s: float | None = None

    def conditions(self) -> list[Condition]:
        """Return every condition now: threshold crossings per service, then anomalies."""
        found = []
        for service, metrics in self.latest.items():
            table = self.tables.get(service) or thresholds_for(self.wedding_day)
            found += conditions_from({service: metrics}, table)
        return found + list(self.anomalies) + staleness_conditions(self.data_age_s)


def _open_of(row: AlertRow) -> OpenAlert:
    return OpenAlert(row.id, row.service, row.metric, row.severity, row.state, row.started_at,
                     row.silenced_until)


class AlertService:
    """Alert evaluation and actions over the ``alerts`` / ``alert_events`` tables."""

    def __init__(self, audit: AuditLog, notifiers: list[Notifier], outbox=None):
        self.audit = audit
        self.notifiers = notifiers
        self.outbox = outbox  # NotificationOutbox of the external channels, or None

    # --- the engine job --------------------------------------------------------------
    def gather(self, store, services: list[str], weddings, now: datetime, *,
               thresholds_of: Callable[[str, bool], Mapping[str, Threshold]] | None = None,
               anomalies: tuple[Condition, ...] = (),
               data_age_s: float | None = None) -> AlertContext:
        """Read the newest value of every metric, whether today is a wedding day, and the
        thresholds per service (``thresholds_of(service, wedding_day)``; defaults when None), and
        how old the newest sample is (``data_age_s``: a stale source is an alert of its own)."""
        wedding_day = is_wedding_day(weddings, now.date())
        tables = {s: thresholds_of(s, wedding_day) for s in services} if thresholds_of else {}
        return AlertContext({s: store.latest(s) for s in services}, wedding_day, tables, tuple(anomalies),
                            data_age_s)

    def _notify(self, session: Session, notifications: list[Notification], now: datetime) -> None:
        for notifier in self.notifiers:
            notifier.send(notifications)
        if self.outbox is not None:
            self.outbox.enqueue(session, notifications, now)

    def evaluate(self, session: Session, context: AlertContext, now: datetime) -> list[Transition]:
        """Apply the lifecycle to the open alerts; return the transitions made."""
        # Only alerts on watched services: security alerts are not the thresholds' to resolve.
        rows = {r.id: r for r in session.execute(
            select(AlertRow).where(AlertRow.state.in_(OPEN_STATES),
                                   AlertRow.service.in_([*context.latest, SOURCES_SERVICE]))).scalars()}
        transitions = step_alerts([_open_of(r) for r in rows.values()], context.conditions(), now,
                                  wedding_day=context.wedding_day)
        notifications = []
        for t in transitions:
            row = rows.get(t.alert_id) if t.alert_id is not None else None
            row = self._apply(session, row, t, now, SYSTEM, t.reason)
            if t.to_state in _NOTIFY_STATES and (t.to_state != RESOLVED or row.fired_at):
                notifications.append(Notification(row.id, row.service, row.metric, row.severity,
                                                  row.state, row.summary))
        session.flush()
        if notifications:
            self._notify(session, notifications, now)
        return transitions

    def _apply(self, session: Session, row: AlertRow | None, t: Transition, now: datetime,
               actor: Actor, note: str) -> AlertRow:
        if row is None:
            row = AlertRow(service=t.service, metric=t.metric, severity=t.severity, state=t.to_state,
                           started_at=now, updated_at=now, note="")
            session.add(row)
            session.flush()
            from_state = "new"
        else:
            from_state = row.state
        row.severity = t.severity
        row.state = t.to_state
        row.updated_at = now
        if t.value == t.value:  # not NaN: a live value to show
            row.value, row.threshold = t.value, t.threshold
            if t.metric.startswith(ANOMALY_PREFIX):
                row.summary = (f"{t.service} {t.metric[len(ANOMALY_PREFIX):]} {t.value:.4g} is anomalous "
                               f"(streaming detector, evidence ≥ {t.threshold:g})")
            else:
                row.summary = f"{t.service} {t.metric} {t.value:.4g} over the {t.severity} threshold {t.threshold:g}"
        if t.to_state == FIRING and row.fired_at is None:
            row.fired_at = now
        if t.to_state == RESOLVED:
            row.resolved_at = now
        self._event(session, row, from_state, actor, note, now)
        return row

    def _event(self, session: Session, row: AlertRow, from_state: str, actor: Actor, note: str,
               now: datetime) -> None:
        session.add(AlertEvent(alert_id=row.id, ts=now, from_state=from_state, to_state=row.state,
                               actor=actor.name, note=note))
        self.audit.record(session, now=now, actor=actor, action=f"alert.{row.state}", outcome="ok",
                          target=f"alert:{row.id} {row.service}/{row.metric}", reason=note,
                          details={"from": from_state, "severity": row.severity})

    def raise_security_alert(self, session: Session, key: str, summary: str, now: datetime) -> AlertRow:
        """Open a critical, firing alert on the ``security`` pseudo-service and notify at once."""
        return self.raise_alert(session, "security", key, summary, now)

    def raise_alert(self, session: Session, service: str, key: str, summary: str,
                    now: datetime) -> AlertRow:
        """Open a critical, firing alert on ``service`` (a pseudo-service such as ``security``
        or ``scaling``, which threshold evaluation never resolves) and notify at once."""
        row = self._apply(session, None, Transition(None, service, key, "critical", FIRING,
                                                    float("nan"), float("nan"), summary),
                          now, SYSTEM, summary)
        row.summary = summary
        self._notify(session, [Notification(row.id, row.service, row.metric, row.severity, row.state, summary)],
                     now)
        return row

    def raise_system_alert(self, session: Session, service: str, key: str, summary: str,
                           now: datetime) -> AlertRow:
        """Open a critical, firing alert on a pseudo-service (e.g. ``system``/``health``) and
        notify at once; while one is open for ``(service, key)`` it is updated, not duplicated."""
        row = session.scalar(select(AlertRow).where(AlertRow.service == service, AlertRow.metric == key,
                                                    AlertRow.state.in_(OPEN_STATES)))
        if row is not None:
            row.summary, row.updated_at = summary, now
            return row
        return self._open_firing(session, service, key, summary, now)

    def _open_firing(self, session: Session, service: str, key: str, summary: str,
                     now: datetime) -> AlertRow:
        # Open a critical, firing alert on service/key and notify at once.
        row = self._apply(session, None, Transition(None, service, key, "critical", FIRING,
                                                    float("nan"), float("nan"), summary),
                          now, SYSTEM, summary)
        row.summary = summary
        for notifier in self.notifiers:
            notifier.send([Notification(row.id, row.service, row.metric, row.severity, row.state, summary)])
        return row

    def resolve_system_alert(self, session: Session, service: str, key: str, note: str,
                             now: datetime) -> AlertRow | None:
        """Resolve the open alert on ``service``/``key`` (if any) and notify; return it."""
        row = session.scalar(select(AlertRow).where(AlertRow.service == service, AlertRow.metric == key,
                                                    AlertRow.state.in_(OPEN_STATES)))
        if row is None:
            return None
        row = self._apply(session, row, Transition(row.id, service, key, row.severity, RESOLVED,
                                                   float("nan"), float("nan"), note), now, SYSTEM, note)
        for notifier in self.notifiers:
            notifier.send([Notification(row.id, row.service, row.metric, row.severity, row.state, note)])
        return row

    # --- human actions ---------------------------------------------------------------
    def _get_open(self, session: Session, alert_id: int) -> AlertRow:
        row = session.get(AlertRow, alert_id)
        if row is None:
            raise NotFound(f"no alert with id {alert_id}")
        if row.state not in OPEN_STATES:
            raise Conflict(f"alert {alert_id} is {row.state}; only open alerts can be changed")
        return row

    def acknowledge(self, session: Session, alert_id: int, actor: Actor, note: str,
                    now: datetime) -> AlertRow:
        """Mark an open alert as being handled by ``actor`` (audited)."""
        row = self._get_open(session, alert_id)
        from_state = row.state
        row.state, row.acknowledged_by, row.acknowledged_at = ACKNOWLEDGED, actor.name, now
        row.note, row.updated_at = (note or "").strip()[:2000], now
        self._event(session, row, from_state, actor, row.note, now)
        return row

    def silence(self, session: Session, alert_id: int, actor: Actor, minutes: float, reason: str,
                now: datetime) -> AlertRow:
        """Silence an open alert for ``minutes`` (1 min to 24 h) with a reason (audited)."""
        if not (reason or "").strip():
            raise InvalidInput("a reason is required to silence an alert", {"field": "reason"})
        try:
            duration = timedelta(minutes=float(minutes))
        except (TypeError, ValueError, OverflowError):
            raise InvalidInput("minutes must be a number", {"field": "minutes"}) from None
        if not timedelta(minutes=1) <= duration <= MAX_SILENCE:
            raise InvalidInput("minutes must be between 1 and 1440", {"field": "minutes"})
        row = self._get_open(session, alert_id)
        from_state = row.state
        row.state, row.silenced_until, row.updated_at = SILENCED, now + duration, now
        row.note = reason.strip()[:2000]
        self._event(session, row, from_state, actor, f"until {row.silenced_until:%H:%M} UTC: {row.note}", now)
        return row

    @staticmethod
    def list_alerts(session: Session, *, open_only: bool = False, limit: int = 200) -> list[AlertRow]:
        """Return alerts, open ones first, newest first."""
        query = select(AlertRow)
        if open_only:
            query = query.where(AlertRow.state.in_(OPEN_STATES))
        rows = session.execute(query.order_by(AlertRow.updated_at.desc()).limit(limit)).scalars().all()
        return sorted(rows, key=lambda r: r.state == RESOLVED)

    @staticmethod
    def history(session: Session, alert_id: int) -> list[AlertEvent]:
        """Return an alert's transitions, oldest first."""
        return list(session.execute(select(AlertEvent).where(AlertEvent.alert_id == alert_id)
                                    .order_by(AlertEvent.id)).scalars())


def alert_json(row: AlertRow) -> dict:
    """Return the API shape of an alert."""
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return {"id": row.id, "service": row.service, "metric": row.metric, "severity": row.severity,
            "state": row.state, "summary": row.summary, "value": row.value, "threshold": row.threshold,
            "startedAt": iso(row.started_at), "firedAt": iso(row.fired_at),
            "acknowledgedBy": row.acknowledged_by, "acknowledgedAt": iso(row.acknowledged_at),
            "note": row.note, "silencedUntil": iso(row.silenced_until), "resolvedAt": iso(row.resolved_at),
            "updatedAt": iso(row.updated_at)}
