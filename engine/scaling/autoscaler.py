"""The autoscaler job: every cycle, gather each service's metrics, ask the pure policy, act.

Gather: newest metric values and their one-minute slopes from the live store, the actuator's
ready/pending sizes, the wedding calendar. Decide: ``plan_scale`` (pure). Apply: the executor
records each decision, orders the actuator (or queues it for approval) and audits it as
``autoscaler``. No decision is made from stale data: when the newest sample is older than
``STALE_S`` the cycle is skipped.
"""

from __future__ import annotations

import threading
from datetime import datetime

import numpy as np

from engine.clock import to_epoch_s
from engine.scaling.inputs import MetricsSnapshot, ScalingMemory, ScalingPolicy
from engine.scaling.limits import remember_recommendation
from engine.scaling.policy import plan_scale
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


class Autoscaler:
    """Runs the policy for every service; remembers recommendations between cycles."""

    def __init__(self, policy: ScalingPolicy | None = None):
        self.policy = policy or ScalingPolicy()
        self._memory: dict[str, ScalingMemory] = {}
        self._lock = threading.Lock()

    def run_cycle(self, engine) -> list:
        """Run one cycle; return the recorded decision rows (empty when nothing changes).

        While the database is unreachable the orders still go out and the decisions (not
        rows) are returned; their rows are written when it is back (``engine.scaling.deferred``).
        """
        now = engine.clock.now()
        age = engine.data_age_s()
        if age is None or age > STALE_S:
            return []  # never scale from stale data
        weddings = engine.calendar.all()
        decisions = []
        with self._lock:
            for spec in engine.services:
                snapshot = snapshot_of(engine.store, spec.name, engine.actuator.sizes(spec.name, now), now)
                memory = self._memory.get(spec.name, ScalingMemory())
                plan = plan_scale(spec, snapshot, self.policy, now, weddings=weddings, memory=memory)
                self._memory[spec.name] = ScalingMemory(
                    remember_recommendation(memory.recommendations, to_epoch_s(now),
                                            plan.recommended_instances, self.policy.stabilisation_s),
                    memory.spent_today)
                if plan.decision is not None:
                    decisions.append(plan.decision)
        if not decisions:
            return []
        return engine.submit_decisions(decisions, AUTOSCALER)
