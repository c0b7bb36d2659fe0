"""The threat-detection job: read recent audit rows, run the pure rules, raise security alerts.

Gather: the audit rows of the window (sign-ins, refusals, scale actions) and, for the rules
that learn what is usual, each user's earlier rows up to ``history_days`` back. Decide:
``detect_threats`` (pure). Apply: one critical alert on the ``security`` pseudo-service per
finding, through ``AlertService.raise_security_alert`` (so it is stored, audited, notified
and acknowledged like any alert), unless an alert with the same key is still open or was
raised within ``dedup_minutes``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.detect.lifecycle import OPEN_STATES
from engine.security.threats import (
    DENIED,
    LOGIN_FAILED,
    LOGIN_OK,
    SCALE,
    Finding,
    SecurityEvent,
    ThreatThresholds,
    detect_threats,
)
from engine.storage.models import AlertRow, AuditEntry

SECURITY_SERVICE = "security"
HUMAN_SCALE_ACTIONS = ("scale.manual", "scale.emergency")
_SUSPICIOUS = or_(
    and_(AuditEntry.action == "login", AuditEntry.outcome.in_(("failed", "locked"))),
    AuditEntry.action.in_(("access.denied", "access.outside_window", "user.lock")),
)


def event_of(row: AuditEntry) -> SecurityEvent | None:
    """Return the security event an audit row stands for, or None when it is not one."""
    if row.action == "login":
        kind = LOGIN_OK if row.outcome == "ok" else LOGIN_FAILED
    elif row.action == "access.denied":
        kind = DENIED
    elif row.action in HUMAN_SCALE_ACTIONS and row.role not in ("system", ""):
        kind = SCALE
    else:
        return None
    return SecurityEvent(row.id, row.ts, kind, row.actor, row.source_ip or "", row.target or "")


def _events(session: Session, since: datetime, until: datetime) -> list[SecurityEvent]:
    rows = session.execute(
        select(AuditEntry).where(AuditEntry.ts >= since, AuditEntry.ts <= until,
                                 AuditEntry.action.in_(("login", "access.denied") + HUMAN_SCALE_ACTIONS))
        .order_by(AuditEntry.id)).scalars()
    return [e for e in map(event_of, rows) if e is not None]


class ThreatDetector:
    """Runs the threat rules over the audit log and raises deduplicated security alerts."""

    def __init__(self, alerts, thresholds: ThreatThresholds):
        self.alerts = alerts
        self.thresholds = thresholds

    def gather(self, session: Session, now: datetime) -> tuple[list[SecurityEvent], list[SecurityEvent]]:
        """Return (the window's events, the earlier history of the users in the window)."""
        th = self.thresholds
        window_start = now - timedelta(minutes=th.window_minutes)
        recent = _events(session, window_start, now)
        actors = {e.actor for e in recent if e.kind in (LOGIN_OK, SCALE)}
        if not actors:
            return recent, []
        history = [e for e in _events(session, now - timedelta(days=th.history_days), window_start)
                   if e.actor in actors and e.ts < window_start]
        return recent, history

    def _already_raised(self, session: Session, key: str, now: datetime) -> bool:
        since = now - timedelta(minutes=self.thresholds.dedup_minutes)
        return session.scalar(select(AlertRow.id).where(
            AlertRow.service == SECURITY_SERVICE, AlertRow.metric == key,
            or_(AlertRow.state.in_(OPEN_STATES), AlertRow.started_at >= since)).limit(1)) is not None

    def run(self, session: Session, now: datetime) -> list[Finding]:
        """One detection pass; return the findings that raised a new alert."""
        recent, history = self.gather(session, now)                          # gather
        findings = detect_threats(recent, history, now, self.thresholds)     # decide (pure)
        raised = []
        for finding in findings:                                             # apply
            key = f"threat:{finding.key}"[:64]
            if self._already_raised(session, key, now):
                continue
            self.alerts.raise_security_alert(session, key, f"[{finding.rule}] {finding.summary}", now)
            session.flush()
            raised.append(finding)
        return raised


def suspicious_events(session: Session, now: datetime, hours: int = 24, limit: int = 100) -> list[AuditEntry]:
    """Return recent failed sign-ins, locks and refusals, newest first (for the Security page)."""
    return list(session.execute(
        select(AuditEntry).where(_SUSPICIOUS, AuditEntry.ts >= now - timedelta(hours=hours))
        .order_by(AuditEntry.id.desc()).limit(limit)).scalars())


def security_alerts(session: Session, *, open_only: bool = True, limit: int = 100) -> list[AlertRow]:
    """Return security alerts (threats and break-glass), newest first."""
    query = select(AlertRow).where(AlertRow.service == SECURITY_SERVICE)
    if open_only:
        query = query.where(AlertRow.state.in_(OPEN_STATES))
    return list(session.execute(query.order_by(AlertRow.id.desc()).limit(limit)).scalars())
