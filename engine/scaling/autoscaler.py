"""The autoscaler job: every cycle, gather each service's metrics, ask the pure policy, act.

Gather: newest metric values and their one-minute slopes from the live store, the actuator's
ready/pending sizes, the wedding calendar, today's spend (for the budget), pins and decisions
already waiting for approval, and the forecast at the time new capacity would be ready
(``forecast_for(service, at)``; None falls back to the reactive rules). Decide: ``plan_scale``
(pure). Apply: the executor records each decision, orders the actuator (or queues it for
approval) and audits it as ``autoscaler``.

- No decision is made from stale data: when the newest sample is older than ``STALE_S`` the
  cycle is skipped.
- A pinned service gets no decision except an emergency.
- A service with a decision already waiting for approval gets no second one that would wait.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

import numpy as np

from sqlalchemy.exc import SQLAlchemyError

from engine.clock import to_epoch_s
from engine.scaling.budget import spent_today
from engine.scaling.decision import Category
from engine.scaling.inputs import LoadForecast, MetricsSnapshot, ScalingMemory, ScalingPolicy
from engine.scaling.limits import remember_recommendation
from engine.scaling.policy import ScalePlan, plan_scale
from engine.security.audit import Actor

AUTOSCALER = Actor("autoscaler", "system", "")
STALE_S = 30.0
SLOPE_WINDOW_S = 60.0
_SNAPSHOT_METRICS = ("cpu_pct", "memory_pct", "request_rate", "latency_p95_ms", "error_rate_pct",
                     "queue_depth", "instances_ready")


def _slope(ts: np.ndarray, values: np.ndarray) -> float:
    if len(ts) < 2 or ts[-1] <= ts[0]:
        return 0.0
    return float((values[-1] - values[0]) / (ts[-1] - ts[0]))


def snapshot_of(store, service: str, sizes: tuple[int, int], now: datetime) -> MetricsSnapshot:
    """Return the policy's view of ``service``: newest values and their one-minute slopes."""
    latest = store.latest(service)
    since = to_epoch_s(now) - SLOPE_WINDOW_S
    values, slopes = {}, {}
    for metric in _SNAPSHOT_METRICS:
        if metric in latest:
            values[metric] = float(latest[metric][1])
            slopes[metric] = _slope(*store.series(service, metric, since, resolution="raw"))
    ready, pending = sizes
    return MetricsSnapshot(instances_ready=ready, instances_pending=pending, values=values,
                           slopes_per_s=slopes)


def no_forecast(service: str, at: datetime) -> LoadForecast | None:
    """The forecast hook when no forecaster is wired: always None (reactive only)."""
    return None


@dataclass(frozen=True)
class CycleContext:
    """What one cycle gathered besides each service's metrics."""

    now: datetime
    weddings: list
    sizes: dict[str, tuple[int, int]]
    spent_today: float = 0.0
    pinned: dict = field(default_factory=dict)
    waiting: frozenset = frozenset()


class Autoscaler:
    """Runs the policy for every service; remembers recommendations between cycles.

    Parameters
    ----------
    policy : ScalingPolicy, optional
        Policy settings (defaults from DESIGN.md).
    forecast_for : callable(service, at) -> LoadForecast or None
        Demand expected for ``service`` at ``at``; the one seam to the forecaster.
    """

    def __init__(self, policy: ScalingPolicy | None = None,
                 forecast_for: Callable[[str, datetime], LoadForecast | None] = no_forecast):
        self.policy = policy or ScalingPolicy()
        self.forecast_for = forecast_for
        self._memory: dict[str, ScalingMemory] = {}
        self._lock = threading.Lock()
        # (changes today, pins, services waiting for approval) as last read from the database,
        # kept for cycles while it is unreachable
        self._last_db_view: tuple = ({}, {}, frozenset())

    def run_cycle(self, engine) -> list:
        """Run one cycle; return the recorded decision rows (empty when nothing changes).

        While the database is unreachable the orders still go out and the decisions (not
        rows) are returned; their rows are written when it is back (``engine.scaling.deferred``).
        """
        now = engine.clock.now()
        age = engine.data_age_s()
        if age is None or age > STALE_S:
            return []  # never scale from stale data
        context = self.gather(engine, now)
        decisions = []
        with self._lock:
            for spec in engine.services:
                plan = self._plan(engine, spec, context)
                memory = self._memory.get(spec.name, ScalingMemory())
                self._memory[spec.name] = ScalingMemory(
                    remember_recommendation(memory.recommendations, to_epoch_s(now),
                                            plan.recommended_instances, self.policy.stabilisation_s))
                if self._acts(plan, spec.name, context):
                    decisions.append(plan.decision)
        if not decisions:
            return []
        return engine.submit_decisions(decisions, AUTOSCALER)

    def preview(self, engine) -> dict[str, ScalePlan]:
        """Return what the next cycle would recommend per service, changing nothing."""
        context = self.gather(engine, engine.clock.now())
        with self._lock:
            return {spec.name: self._plan(engine, spec, context) for spec in engine.services}

    def gather(self, engine, now: datetime) -> CycleContext:
        """Read sizes, calendar, today's spend, pins and waiting approvals."""
        sizes = {s.name: engine.actuator.sizes(s.name, now) for s in engine.services}
        try:
            with engine.db.session() as session:
                changes = engine.executor.changes_since(session, now - timedelta(days=1))
                pinned = engine.pins.active(session, now)
                waiting = frozenset(engine.executor.waiting_services(session))
            self._last_db_view = (changes, pinned, waiting)
        except SQLAlchemyError:
            # The database is down: keep deciding from the last spend, pins and approvals we
            # read (DESIGN: the engine keeps scaling through an outage; writes are queued).
            changes, pinned, waiting = self._last_db_view
        spent = spent_today(changes, {n: r + p for n, (r, p) in sizes.items()},
                            {s.name: s.cost_per_hour for s in engine.services}, now)
        return CycleContext(now, engine.calendar.all(), sizes, spent, pinned, waiting)

    def _plan(self, engine, spec, context: CycleContext) -> ScalePlan:
        now = context.now
        snapshot = snapshot_of(engine.store, spec.name, context.sizes[spec.name], now)
        others = sum((r + p) * s.cost_per_hour for s in engine.services if s.name != spec.name
                     for r, p in [context.sizes[s.name]])
        memory = self._memory.get(spec.name, ScalingMemory())
        memory = ScalingMemory(memory.recommendations, context.spent_today, others)
        forecast = self.forecast_for(spec.name, now + timedelta(seconds=spec.provisioning_delay_s))
        return plan_scale(spec, snapshot, self.policy, now, forecast=forecast,
                          weddings=context.weddings, memory=memory)

    @staticmethod
    def _acts(plan: ScalePlan, service: str, context: CycleContext) -> bool:
        decision = plan.decision
        if decision is None:
            return False
        if service in context.pinned and decision.category is not Category.EMERGENCY:
            return False  # the operator holds it; only an emergency overrides a pin
        if service in context.waiting and decision.category is Category.REQUIRES_APPROVAL:
            return False  # one request waiting for a person is enough
        return True
