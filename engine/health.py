"""Component health → healthy / degraded / unhealthy, each check timed.

Components: database (latency, pool use, migrations current), scheduler (leader, each job's
last run and lag), source (freshness), actuator (reachable, dry-run), backups (age of the
newest verified backup), Redis when configured.

Rules (DESIGN.md, "Health"): *degraded* when a component fails but the engine still collects
and decides (database unreachable for under 5 min with writes queued, a source stale, actuator unreachable, a
job overdue, backup overdue); *unhealthy* when it cannot (database unreachable for over
5 min or the write queue full, no job run for over 60 s, every source stale for over 5 min). The overall state is the
worst component's. Check functions never raise: a failing check is a finding.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import func, select

from engine.backup.verification import seconds_text
from engine.storage.models import JobRun
from engine.storage.schema import is_current
from engine.storage.write_behind import OUTAGE_LIMIT_S

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
_RANK = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2}
NO_LEADER_S = 60.0
SOURCE_STALE_S = 30.0
SOURCE_DEAD_S = 300.0
# A job is overdue when its last run is older than this many intervals (and at least 30 s):
# one missed tick is noise, three are a stuck job.
JOB_OVERDUE_INTERVALS = 3


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

    def summary(self) -> str:
        """Return ``"database healthy; source degraded: …"`` (the history's one-liner)."""
        return "; ".join(c.name + " " + c.status + ("" if c.status == HEALTHY else f": {c.detail}")
                         for c in self.components)


def worst(statuses) -> str:
    """Return the worst of ``statuses`` (healthy < degraded < unhealthy)."""
    return max(statuses, key=_RANK.__getitem__, default=HEALTHY)


def _pool_use(db) -> dict:
    pool = db.engine.pool
    size = getattr(pool, "size", None)
    out = {"pool_checked_out": pool.checkedout() if hasattr(pool, "checkedout") else None}
    if callable(size):
        out["pool_size"] = size()
    return out


def _unreachable(engine, exc: Exception) -> Component:
    """Degraded while writes are queued for under five minutes; unhealthy after, or when full."""
    engine.writes.note_unreachable()
    status = engine.writes.status()
    down_s = (engine.clock.now() - status.unreachable_since).total_seconds()
    data = {"queued_writes": status.pending, "unreachable_s": round(down_s, 1), "lost_writes": status.lost}
    detail = f"unreachable for {down_s:.0f} s ({type(exc).__name__}); {status.pending} write(s) queued"
    if status.full or status.lost:
        return Component("database", UNHEALTHY, f"{detail}; the write queue is full", data=data)
    if down_s > OUTAGE_LIMIT_S:
        return Component("database", UNHEALTHY, f"{detail}; over {OUTAGE_LIMIT_S / 60:.0f} min", data=data)
    return Component("database", DEGRADED, detail, data=data)


def _database(engine, now: datetime) -> Component:
    try:
        engine.db.ping()
        current = is_current(engine.db)
    except Exception as exc:  # unreachable: report, never raise from a health check
        return _unreachable(engine, exc)
    data = _pool_use(engine.db)
    if not current:
        return Component("database", UNHEALTHY, "schema is not at the newest migration; run `wedscale db upgrade`",
                         data=data)
    pending = engine.writes.status().pending
    if pending:
        return Component("database", DEGRADED, f"reachable again; {pending} queued write(s) to flush",
                         data={**data, "queued_writes": pending})
    return Component("database", HEALTHY, f"{engine.db.dialect} reachable, schema current", data=data)


def job_lags(last_runs: dict[str, datetime], intervals: dict[str, float], now: datetime) -> dict[str, dict]:
    """Return per job ``{last_run, age_s, lag_s, overdue}``; lag is how late the next run is.

    Pure: ``last_runs`` maps job → newest start (jobs that never ran are missing), ``intervals``
    job → seconds.
    """
    out = {}
    for job, interval_s in intervals.items():
        last = last_runs.get(job)
        if last is None:
            out[job] = {"last_run": None, "age_s": None, "lag_s": None, "overdue": False}
            continue
        age_s = (now - last).total_seconds()
        lag_s = max(0.0, age_s - interval_s)
        overdue = age_s > max(30.0, JOB_OVERDUE_INTERVALS * interval_s)
        out[job] = {"last_run": last.isoformat(), "age_s": round(age_s, 1), "lag_s": round(lag_s, 1),
                    "overdue": overdue}
    return out


def _job_intervals(engine, runner) -> dict[str, float]:
    from engine.jobs.runner import default_jobs

    jobs = runner.jobs if runner is not None else default_jobs(engine)
    return {j.name: j.interval_s for j in jobs}


def _scheduler(engine, runner, now: datetime) -> Component:
    role = "leader" if runner is not None and runner.is_leader else "follower"
    try:
        with engine.db.session() as session:
            last_runs = dict(session.execute(select(JobRun.job, func.max(JobRun.started_at))
                                             .group_by(JobRun.job)).all())
    except Exception:
        last_runs = {}
    jobs = job_lags(last_runs, _job_intervals(engine, runner), now)
    newest = max(last_runs.values(), default=None)
    # This process's own runs count too: during a database outage job runs are not recorded.
    own = max(runner.last_runs.values()) if runner is not None and runner.last_runs else None
    if own is not None and (newest is None or own > newest):
        newest = own
    data = {"role": role, "last_job_run": newest.isoformat() if newest else None, "jobs": jobs}
    if runner is not None and runner.last_errors:
        data["errors"] = dict(runner.last_errors)
    if newest is not None and (now - newest).total_seconds() <= NO_LEADER_S:
        overdue = sorted(job for job, j in jobs.items() if j["overdue"])
        if overdue:
            return Component("scheduler", DEGRADED, f"this process is the {role}; overdue: {', '.join(overdue)}",
                             data=data)
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


def _actuator(engine, now: datetime) -> Component:
    """Reachable when it answers ``sizes`` for the first service (a read, never an order)."""
    kind = type(engine.actuator).__name__
    data = {"kind": kind, "dry_run": bool(getattr(engine.actuator, "dry_run", False))}
    try:
        engine.actuator.sizes(engine.service_names()[0], now)
    except Exception as exc:
        return Component("actuator", DEGRADED, f"{kind} unreachable: {type(exc).__name__}", data=data)
    mode = " (dry-run)" if data["dry_run"] else ""
    return Component("actuator", HEALTHY, f"{kind} reachable{mode}", data=data)


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


def _redis(engine) -> Component | None:
    client = getattr(engine.store, "_redis", None)
    if not engine.settings.redis_url or client is None:
        return None
    try:
        client.ping()
    except Exception as exc:
        # Without Redis the workers cannot read live data: the engine still collects, degraded.
        return Component("redis", DEGRADED, f"unreachable: {type(exc).__name__}")
    return Component("redis", HEALTHY, "reachable")


def check_health(engine, runner=None) -> HealthReport:
    """Check every component and return the report; never raises."""
    now = engine.clock.now()
    checks = [lambda: _database(engine, now), lambda: _scheduler(engine, runner, now),
              lambda: _source(engine), lambda: _actuator(engine, now), lambda: _backups(engine),
              lambda: _redis(engine)]
    components = []
    for check in checks:
        start = time.perf_counter()
        component = check()
        if component is not None:
            elapsed = (time.perf_counter() - start) * 1000
            components.append(Component(component.name, component.status, component.detail, elapsed,
                                        component.data))
    return HealthReport(worst(c.status for c in components), components)
