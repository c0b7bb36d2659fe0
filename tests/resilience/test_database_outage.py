"""A database outage while the engine runs: it keeps collecting and deciding from memory, health
turns degraded, writes are queued in order and flushed on recovery, and afterwards no decision,
alert transition, job run or audit row is missing and the audit chain verifies.

The outage is real at the SQLAlchemy level: every statement raises OperationalError (SQLite),
or the PostgreSQL database refuses connections and its sessions are terminated.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from app.cli import cli
from engine.clock import ManualClock
from engine.health import check_health
from engine.storage.models import AlertEvent, AuditEntry, DecisionRow, JobRun
from tests.conftest import T0, TEST_SECRET, make_settings
from tests.resilience.outage import JobLoop, SwitchableOutage


def audit_verify_cli(database_url: str) -> tuple[int, str]:
    env = {"WEDSCALE_DATABASE_URL": database_url, "WEDSCALE_SECRET_KEY": TEST_SECRET}
    result = CliRunner().invoke(cli, ["audit", "verify"], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def ride_out_an_outage(engine, clock, outage_on, outage_off, database_url):
    loop = JobLoop(engine, clock)
    engine.actuator.preset({"api": 2})               # too few for a Saturday afternoon crowd
    loop.run(5)                                      # one collection; no alert evaluation or autoscale yet
    with engine.db.session() as session:
        audit_before = session.query(AuditEntry).count()
        runs_before = session.query(JobRun).count()
    orders_before = len(engine.actuator.orders)

    outage_on()
    started = clock.now()
    statuses, ages = [], []

    def observe():
        report = check_health(engine, loop.runner)
        statuses.append((report.status, {c.name: c.status for c in report.components}["database"]))
        ages.append(engine.data_age_s())

    runs_at_outage = loop.runs
    loop.run(60, on_step=observe)
    runs_in_outage = loop.runs - runs_at_outage

    # Collecting went on: the data never got older than one collection interval.
    assert max(ages) <= engine.settings.collect_interval_s
    # Deciding went on: the autoscaler ordered the api scale-up during the outage.
    deferred = [o for o in engine.actuator.orders[orders_before:] if o.order_id.startswith("deferred-")]
    assert "api" in {o.service for o in deferred}
    assert engine.actuator.target("api") > 2
    # Health: degraded (not unhealthy) with writes queued.
    assert set(statuses) == {("degraded", "degraded")}
    queued = engine.writes.status().pending
    assert queued >= runs_in_outage  # every job run, plus decisions and alert evaluations

    outage_off()
    loop.run(5)                                      # the next flush job replays the queue
    assert engine.writes.status().pending == 0
    report = check_health(engine, loop.runner)
    assert {c.name: c.status for c in report.components}["database"] == "healthy"

    with engine.db.session() as session:
        rows = {r.order_id: r for r in session.query(DecisionRow).filter(DecisionRow.order_id.like("deferred-%"))}
        assert set(rows) == {o.order_id for o in deferred}, "a decision made during the outage is missing"
        for order in deferred:
            row = rows[order.order_id]
            assert (row.service, row.to_instances, row.status) == (order.service, order.target, "executed")
            assert row.created_at >= started
            audit = session.query(AuditEntry).filter(AuditEntry.action.like("scale.%"),
                                                     AuditEntry.details.like(f'%"{order.order_id}"%')).one()
            assert json.loads(audit.details)["recorded_after_outage"] is True
            assert audit.ts == row.created_at       # the time of the decision, not of the flush
        # The alert lifecycle was replayed with the outage's own times.
        api_events = session.query(AlertEvent).filter(AlertEvent.ts > started,
                                                      AlertEvent.ts <= started + timedelta(seconds=60)).all()
        assert api_events, "alert transitions during the outage are missing"
        # Every job run of the outage was recorded.
        assert session.query(JobRun).count() - runs_before >= runs_in_outage
        new_rows = session.query(AuditEntry).filter(AuditEntry.id > audit_before).order_by(AuditEntry.id).all()
        assert len(new_rows) >= len(deferred) + len(api_events)
        stamps = [r.ts for r in new_rows]
        assert stamps == sorted(stamps), "queued writes were flushed out of order"
        assert engine.audit.verify(session).ok
    code, out = audit_verify_cli(database_url)
    assert code == 0 and "audit chain intact" in out


def test_sqlite_outage_is_ridden_out(engine, clock, db_url):
    outage = SwitchableOutage(engine.db)
    ride_out_an_outage(engine, clock, lambda: setattr(outage, "on", True),
                       lambda: setattr(outage, "on", False), db_url)


@pytest.mark.postgres
def test_postgresql_outage_is_ridden_out(tmp_path, pg_url):
    import psycopg

    from engine.bootstrap import build_engine
    from engine.storage.schema import upgrade

    upgrade(pg_url)
    clock = ManualClock(T0)
    engine = build_engine(make_settings(tmp_path, pg_url), clock=clock)
    engine.size_simulated_cluster()
    name = pg_url.rsplit("/", 1)[1]
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True)

    def stop():
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))

    def start():
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')

    try:
        ride_out_an_outage(engine, clock, stop, start, pg_url)
    finally:
        start()
        admin.close()
        engine.db.dispose()


def test_a_full_write_queue_is_unhealthy_and_counts_what_it_lost(tmp_path, db_url):
    from engine.bootstrap import build_engine

    clock = ManualClock(T0)
    engine = build_engine(make_settings(tmp_path, db_url, write_queue_max=5), clock=clock)
    engine.size_simulated_cluster()
    outage = SwitchableOutage(engine.db)
    loop = JobLoop(engine, clock)
    loop.run(10)
    outage.on = True
    loop.run(30)
    status = engine.writes.status()
    assert status.full and status.lost > 0
    database = {c.name: c for c in check_health(engine, loop.runner).components}["database"]
    assert database.status == "unhealthy" and "write queue is full" in database.detail
    outage.on = False
    assert engine.flush_writes() == 5


def test_an_outage_over_five_minutes_is_unhealthy(engine, clock):
    outage = SwitchableOutage(engine.db)
    loop = JobLoop(engine, clock)
    loop.run(10)
    outage.on = True
    loop.run(240)
    assert check_health(engine, loop.runner).status == "degraded"
    loop.run(75)  # the first failed write came 5 s after the outage began
    assert check_health(engine, loop.runner).status == "unhealthy"
    outage.on = False
    loop.run(5)
    with engine.db.session() as session:
        assert engine.audit.verify(session).ok
