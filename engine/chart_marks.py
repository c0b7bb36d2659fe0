"""What the live charts mark on top of the metrics: the thresholds in force, alerts, scaling
decisions and wedding phases of one service over a time range.

``gather_chart_marks`` reads them (SQL and the cached calendar); ``ChartMarks`` is a plain
value the figures draw and whose ``signature`` tells the page when to redraw them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from sqlalchemy import func, or_, select

from engine.clock import to_epoch_s
from engine.detect.lifecycle import FIRING
from engine.detect.thresholds import Threshold, thresholds_for
from engine.storage.models import AlertRow, DecisionRow
from engine.weddings import is_wedding_day

MAX_MARKS = 200  # per kind: beyond this a chart is unreadable anyway; the newest are kept


@dataclass(frozen=True)
class AlertMark:
    """An alert of the service: when it started (fired, else pending) and its state."""

    ts: float
    severity: str
    metric: str
    state: str
    summary: str


@dataclass(frozen=True)
class DecisionMark:
    """A scaling decision: when, from and to how many instances, by whom and its status."""

    ts: float
    from_instances: int
    to_instances: int
    actor: str
    status: str
    reason: str


@dataclass(frozen=True)
class PhaseMark:
    """One phase (preparation, ceremony, reception, wind-down) of a wedding using the service."""

    phase: str
    start: float
    end: float
    wedding: str


@dataclass(frozen=True)
class ChartMarks:
    """Everything drawn over a service's metrics; times in Unix seconds."""

    wedding_day: bool
    thresholds: Mapping[str, Threshold]
    alerts: tuple[AlertMark, ...] = ()
    decisions: tuple[DecisionMark, ...] = ()
    phases: tuple[PhaseMark, ...] = ()

    @property
    def firing(self) -> tuple[AlertMark, ...]:
        """The alerts currently firing."""
        return tuple(a for a in self.alerts if a.state == FIRING)



def gather_chart_marks(engine, service: str, since: datetime, now: datetime) -> ChartMarks:
    """Return the marks of ``service`` between ``since`` and ``now``.

    The thresholds are today's (DESIGN.md: the wedding-day values on a day with a wedding
    window), drawn across the whole range: they are what the alerts are judged by now.
    A wedding whose ``services`` list is empty is taken to load every service.
    """
    weddings = engine.calendar.all()
    wedding_day = is_wedding_day(weddings, now.date())
    with engine.db.session() as session:
        alerts = session.execute(
            select(AlertRow).where(AlertRow.service == service,
                                   or_(AlertRow.resolved_at.is_(None), AlertRow.resolved_at >= since),
                                   AlertRow.started_at <= now)
            .order_by(AlertRow.id.desc()).limit(MAX_MARKS)).scalars().all()
        decisions = session.execute(
            select(DecisionRow).where(DecisionRow.service == service, DecisionRow.created_at >= since,
                                      DecisionRow.created_at <= now)
            .order_by(DecisionRow.id.desc()).limit(MAX_MARKS)).scalars().all()
        alert_marks = tuple(AlertMark(to_epoch_s(a.fired_at or a.started_at), a.severity, a.metric,
                                      a.state, a.summary) for a in reversed(alerts))
        decision_marks = tuple(DecisionMark(to_epoch_s(d.created_at), d.from_instances, d.to_instances,
                                            d.actor, d.status, d.reason) for d in reversed(decisions))
    phases = tuple(PhaseMark(phase, to_epoch_s(start), to_epoch_s(end), w.name)
                   for w in weddings if not w.services or service in w.services
                   for phase, start, end in w.phase_spans() if end > since and start < now)
    return ChartMarks(wedding_day, thresholds_for(wedding_day), alert_marks, decision_marks,
                      phases[-4 * MAX_MARKS:])


def marks_version(engine, service: str, since: datetime, now: datetime) -> str:
    """Return a short digest that changes when the marks ``gather_chart_marks`` would return change.

    The live page asks on every tick, so this is one aggregate query (counts and newest changes
    of the service's alerts and decisions in the range) plus the cached calendar, instead of
    loading every row. An alert's transitions all move its ``updated_at``; a decision's
    status changes are counted by status.
    """
    weddings = engine.calendar.all()
    alerts = (select(func.count(AlertRow.id), func.max(AlertRow.updated_at))
              .where(AlertRow.service == service, AlertRow.started_at <= now,
                     or_(AlertRow.resolved_at.is_(None), AlertRow.resolved_at >= since)))
    decisions = (select(DecisionRow.status, func.count(DecisionRow.id), func.max(DecisionRow.id))
                 .where(DecisionRow.service == service, DecisionRow.created_at >= since,
                        DecisionRow.created_at <= now).group_by(DecisionRow.status))
    with engine.db.session() as session:
        state = (tuple(session.execute(alerts).one()), sorted(tuple(r) for r in session.execute(decisions)))
    phases = [(w.id, w.name, w.window_start, w.window_end) for w in weddings
              if (not w.services or service in w.services) and w.window_end > since and w.window_start < now]
    key = repr((state, phases, is_wedding_day(weddings, now.date())))
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
