"""Component health on a ManualClock: database, scheduler jobs, actuator, backups, history,
Saturday mode, slow queries and table sizes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from engine.health import DEGRADED, HEALTHY, UNHEALTHY, check_health
from engine.health_history import history
from engine.jobs.runner import EngineRunner, JobSpec
from engine.storage.db import Database
from engine.storage.models import AlertRow, WeddingRow
from engine.storage.table_sizes import table_sizes
from tests.conftest import T0
from tests.fakes import HeldLock


class DownActuator:
    def scale(self, service, target, now, order_id):
        raise ConnectionError("api server unreachable")

    def sizes(self, service, now):
        raise ConnectionError("api server unreachable")


def _runner(engine):
    runner = EngineRunner(engine, HeldLock(), [JobSpec("collect_metrics", 5, engine.collect_metrics),
                                               JobSpec("autoscale", 15, engine.run_autoscaler)])
    engine.state["runner"] = runner
    return runner


def _run_all(runner):
    for job in runner.jobs:
        assert runner.run_job(job)


def _components(engine):
    report = check_health(engine, engine.state.get("runner"))
    return report, {c.name: c for c in report.components}


def _add_wedding_today(engine):
    with engine.db.session() as session:
        session.add(WeddingRow(name="Ana & Ben", timezone="UTC", ceremony_start=T0 + timedelta(hours=2),
                               reception_start=T0 + timedelta(hours=4), reception_end=T0 + timedelta(hours=8),
                               guest_count=120, created_at=T0, updated_at=T0))
    engine.calendar.invalidate()


def test_scheduler_reports_each_job_and_an_overdue_one(engine, clock):
    runner = _runner(engine)
    _run_all(runner)
    report, parts = _components(engine)
    jobs = parts["scheduler"].data["jobs"]
    assert set(jobs) == {"collect_metrics", "autoscale"} and report.status == HEALTHY
    clock.advance(seconds=20)
    runner.run_job(runner.jobs[0])   # collect keeps running, autoscale is stuck
    clock.advance(seconds=30)
    runner.run_job(runner.jobs[0])
    report, parts = _components(engine)
    assert parts["scheduler"].status == DEGRADED and "autoscale" in parts["scheduler"].detail
    assert parts["scheduler"].data["jobs"]["autoscale"]["lag_s"] == 35.0
    assert report.status == DEGRADED


def test_database_unreachable_is_degraded_then_unhealthy_after_five_minutes(engine, clock):
    _run_all(_runner(engine))
    healthy_db = engine.db
    engine.db = Database("sqlite:////nonexistent-dir/none.db")
    try:
        assert _components(engine)[1]["database"].status == DEGRADED
        clock.advance(minutes=4)
        assert _components(engine)[1]["database"].status == DEGRADED
        clock.advance(minutes=2)
        report, parts = _components(engine)
        assert parts["database"].status == UNHEALTHY and report.status == UNHEALTHY
    finally:
        engine.db = healthy_db
    assert _components(engine)[1]["database"].status == HEALTHY
    assert "pool_checked_out" in _components(engine)[1]["database"].data


def test_unreachable_actuator_degrades(engine):
    _run_all(_runner(engine))
    engine.actuator = DownActuator()
    report, parts = _components(engine)
    assert parts["actuator"].status == DEGRADED and "unreachable" in parts["actuator"].detail
    assert report.status == DEGRADED


def test_backups_component_goes_overdue(engine, clock):
    from engine.storage.models import BackupRow

    _run_all(_runner(engine))
    engine.state["started_at"] = clock.now()
    assert _components(engine)[1]["backups"].status == HEALTHY  # the first backup is not due yet
    with engine.db.session() as session:
        session.add(BackupRow(created_at=clock.now(), kind="manual", dialect="sqlite", path="/nowhere.db.gz",
                              size_bytes=1, sha256="0" * 64, verify_ok=True))
    assert _components(engine)[1]["backups"].status == HEALTHY
    clock.advance(seconds=engine.settings.backup_overdue_s + 60)
    assert _components(engine)[1]["backups"].status == DEGRADED


def _open_health_alerts(engine):
    with engine.db.session() as session:
        return session.query(AlertRow).filter_by(service="system", metric="health").all()


def test_history_records_transitions_and_saturday_mode_alerts(engine, clock):
    runner = _runner(engine)
    _run_all(runner)
    assert engine.record_health() == HEALTHY
    engine.source.stop()
    clock.advance(seconds=40)           # the source is stale now: degraded
    _run_all(runner)
    assert engine.record_health() == DEGRADED
    assert _open_health_alerts(engine) == []   # no wedding today: history only
    _add_wedding_today(engine)
    clock.advance(seconds=1)
    assert engine.record_health() == DEGRADED  # same state: no history row, but now it alerts
    clock.advance(seconds=1)
    engine.record_health()                     # and only once
    assert [a.state for a in _open_health_alerts(engine)] == ["firing"]
    with engine.db.session() as session:
        assert [e.status for e in history(session)] == [DEGRADED, HEALTHY]


def test_degraded_on_a_wedding_day_raises_an_alert_that_resolves(engine, clock):
    _add_wedding_today(engine)
    runner = _runner(engine)
    _run_all(runner)
    engine.record_health()
    engine.source.stop()
    clock.advance(seconds=40)
    _run_all(runner)
    assert engine.record_health() == DEGRADED
    (alert,) = _open_health_alerts(engine)
    assert alert.state == "firing" and alert.severity == "critical" and "wedding day" in alert.summary
    engine.source.resume()
    clock.advance(seconds=5)
    _run_all(runner)
    assert engine.record_health() == HEALTHY
    (alert,) = _open_health_alerts(engine)
    assert alert.state == "resolved"
    with engine.db.session() as session:
        assert [e.status for e in history(session)] == [HEALTHY, DEGRADED, HEALTHY]


def test_slow_queries_keep_statements_never_parameters(engine):
    engine.slow_queries.threshold_ms = 0.0     # every statement is "slow" for this test
    with engine.db.engine.connect() as conn:
        conn.execute(text("SELECT :secret AS s"), {"secret": "hunter2-token"})
        conn.execute(text("SELECT 'inline-secret' AS s"))
    statements = [q.statement for q in engine.slow_queries.slowest()]
    assert "SELECT ? AS s" in statements
    assert not any("hunter2" in s or "inline-secret" in s for s in statements)


def test_table_sizes_count_rows(engine):
    _run_all(_runner(engine))
    sizes = {t.name: t for t in table_sizes(engine.db)}
    assert sizes["job_runs"].rows == 2 and sizes["users"].rows == 0
    assert sizes["job_runs"].bytes is None  # SQLite: no per-table size


def test_health_page_shows_jobs_history_slow_queries_and_tables(engine, clock):
    from app.pages.health import layout

    runner = _runner(engine)
    _run_all(runner)
    engine.record_health()
    engine.slow_queries.observe("SELECT * FROM audit_log WHERE id > 7", 250.0)
    text_of = str(layout(engine).to_plotly_json())
    for table_id in ("health-jobs", "health-history", "health-slow", "health-tables"):
        assert table_id in text_of
    assert "collect_metrics" in text_of and "SELECT * FROM audit_log WHERE id > ?" in text_of
    assert "job_runs" in text_of and "healthy" in text_of
