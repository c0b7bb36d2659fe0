"""Component health: database, scheduler, metric source, backups → healthy / degraded / unhealthy.

Rules (DESIGN.md, "Health"): *degraded* when a component fails but the engine still
collects and decides (a stale source, an overdue backup); *unhealthy* when it cannot
(database unreachable, no leader for over 60 s, every source stale for over 5 minutes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import func, select

from engine.backup.verification import seconds_text
from engine.storage.models import JobRun
from engine.storage.schema import is_current

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
_RANK = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2}
NO_LEADER_S = 60.0
SOURCE_STALE_S = 30.0
SOURCE_DEAD_S = 300.0


@dataclass(frozen=True)
class Component:
    """One component's state, a one-line detail and how long its check took."""

    name: str
    status: str
    detail: str
    latency_ms: float = 0.0
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    """The overall state (the worst component) and the components."""

    status: str
    components: list[Component]

    def as_dict(self) -> dict:
        """Return the JSON shape of ``/healthz``."""
        return {"status": self.status,
                "components": {c.name: {"status": c.status, "detail": c.detail,
                                        "latency_ms": round(c.latency_ms, 2), **c.data}
                               for c in self.components}}


def _timed(check):
    start = time.perf_counter()
    component = check()
    elapsed = (time.perf_counter() - start) * 1000
    return Component(component.name, component.status, component.detail, elapsed, component.data)


def _database(engine) -> Component:
    try:
        engine.db.ping()
        current = is_current(engine.db)
    except Exception as exc:  # unreachable: report, never raise from a health check
        return Component("database", UNHEALTHY, f"unreachable: {type(exc).__name__}")
    if not current:
        return Component("database", UNHEALTHY, "schema is not at the newest migration; run `wedscale db upgrade`")
    return Component("database", HEALTHY, f"{engine.db.dialect} reachable, schema current")


def _scheduler(engine, runner) -> Component:
    now = engine.clock.now()
    role = "leader" if runner is not None and runner.is_leader else "follower"
    try:
        with engine.db.session() as session:
            newest = session.scalar(select(func.max(JobRun.started_at)))
    except Exception:
        newest = None
    data = {"role": role, "last_job_run": newest.isoformat() if newest else None}
    if runner is not None and runner.last_errors:
        data["errors"] = dict(runner.last_errors)
    if newest is not None and (now - newest).total_seconds() <= NO_LEADER_S:
        return Component("scheduler", HEALTHY, f"this process is the {role}; jobs ran "
                         f"{(now - newest).total_seconds():.0f} s ago", data=data)
    started = engine.state.get("started_at")
    if started is not None and (now - started).total_seconds() <= NO_LEADER_S:
        return Component("scheduler", DEGRADED, f"this process is the {role}; waiting for the first job run",
                         data=data)
    return Component("scheduler", UNHEALTHY, f"no engine job has run for over {NO_LEADER_S:.0f} s", data=data)


def _source(engine) -> Component:
    age = engine.data_age_s()
    name = getattr(engine.source, "name", "source")
    if age is None:
        return Component("source", DEGRADED, f"{name}: no data yet", data={"age_s": None})
    data = {"age_s": round(age, 1)}
    if age <= SOURCE_STALE_S:
        return Component("source", HEALTHY, f"{name}: newest sample {age:.0f} s old", data=data)
    if age <= SOURCE_DEAD_S:
        return Component("source", DEGRADED, f"{name}: stale, newest sample {age:.0f} s old", data=data)
    return Component("source", UNHEALTHY, f"{name}: stale for over {SOURCE_DEAD_S / 60:.0f} min", data=data)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _backups(engine) -> Component:
    """Degraded when the newest verified backup is overdue or the newest check failed.

    With no verified backup yet, a process that started less than the overdue limit ago
    (or has no engine start recorded) is still healthy: the first one is not due yet.
    """
    try:
        status = engine.backups.status()
    except Exception as exc:  # the manifest table may be missing before `db upgrade`
        return Component("backups", DEGRADED, f"cannot read the backup manifest: {type(exc).__name__}")
    overdue_s = engine.settings.backup_overdue_s
    data = {"rpo_s": None if status.rpo_s is None else round(status.rpo_s, 1),
            "rto_s": status.rto_s, "count": status.count}
    if status.failed is not None:
        return Component("backups", DEGRADED, f"backup {status.failed.id} failed verification: "
                         f"{status.failed.verify_detail}", data=data)
    if status.rpo_s is None:
        started = engine.state.get("started_at")
        if started is not None and (engine.clock.now() - started).total_seconds() > overdue_s:
            return Component("backups", DEGRADED, f"no verified backup {_hours(overdue_s)} after start",
                             data=data)
        return Component("backups", HEALTHY, "no verified backup yet; the first is not due", data=data)
    if status.rpo_s > overdue_s:
        return Component("backups", DEGRADED, f"overdue: the newest verified backup is "
                         f"{_hours(status.rpo_s)} old (limit {_hours(overdue_s)})", data=data)
    return Component("backups", HEALTHY, f"newest verified backup {_hours(status.rpo_s)} old; "
                     f"restore took {seconds_text(status.rto_s)}", data=data)


def check_health(engine, runner=None) -> HealthReport:
    """Check every component and return the report; never raises."""
    components = [_timed(lambda: _database(engine)), _timed(lambda: _scheduler(engine, runner)),
                  _timed(lambda: _source(engine)), _timed(lambda: _backups(engine))]
    worst = max((c.status for c in components), key=_RANK.__getitem__)
    return HealthReport(worst, components)
