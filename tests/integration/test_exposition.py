"""``/metrics`` parses as Prometheus text and carries the figures an operator graphs."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from engine.clock import to_epoch_s
from engine.jobs.runner import EngineRunner, JobSpec
from engine.scaling.manual import ManualRequest
from engine.security.permissions import Role
from engine.storage.models import User
from tests.conftest import TEST_ACTOR, create_user
from tests.fakes import HeldLock


def scrape(client) -> dict[str, dict[tuple, float]]:
    """Return ``{sample name: {labels as sorted tuple: value}}`` of one parsed scrape."""
    response = client.get("/metrics")
    assert response.status_code == 200
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_exposition_has_requests_ingest_decisions_alerts_jobs(app, engine, clock):
    client = app.server.test_client()
    runner = EngineRunner(engine, HeldLock(), [JobSpec("collect_metrics", 5, engine.collect_metrics),
                                               JobSpec("evaluate_alerts", 10, engine.evaluate_alerts)])
    assert runner.run_job(runner.jobs[0]) and runner.run_job(runner.jobs[1])
    collected = sum(engine.ingested.totals().values())
    assert collected > 0

    create_user(engine, "pusher", Role.SCALABILITY_OPERATOR)
    with engine.db.session() as session:
        _row, token = engine.tokens.create(session, session.query(User).filter_by(username="pusher").one(),
                                           ["metrics:push"], None, TEST_ACTOR)
    now = to_epoch_s(clock.now())
    pushed = client.post("/api/scalability/metrics", headers={"Authorization": f"Bearer {token}"},
                         json=[{"service": "api", "metric": "queue_depth", "ts": now - 3, "value": 7.0}])
    assert pushed.status_code == 202
    engine.request_manual_scale([ManualRequest("scale_up", "api", None, "load test")], TEST_ACTOR,
                                may_approve_large=False)
    with engine.db.session() as session:
        engine.alerts.raise_system_alert(session, "system", "health", "degraded on a wedding day", clock.now())
    clock.advance(seconds=4)

    samples = scrape(client)
    assert samples["wedscale_samples_ingested_total"][(("path", "collect"),)] == collected
    assert samples["wedscale_samples_ingested_total"][(("path", "push"),)] == 1
    (labels, n), = samples["wedscale_decisions_total"].items()
    assert dict(labels)["category"] == "auto_approved" and n == 1  # a standard step is auto-approved
    assert samples["wedscale_alerts"][(("severity", "critical"), ("state", "firing"))] == 1
    assert samples["wedscale_job_runs_total"][(("job", "collect_metrics"), ("ok", "true"))] == 1
    assert samples["wedscale_job_last_run_age_seconds"][(("job", "evaluate_alerts"),)] == 4
    assert samples["wedscale_job_last_duration_seconds"][(("job", "collect_metrics"),)] == 0  # ManualClock
    route = (("method", "POST"), ("route", "/api/scalability/metrics"), ("status", "202"))
    assert samples["wedscale_http_requests_total"][route] == 1
    assert samples["wedscale_http_request_duration_seconds_count"][route[:2]] == 1
    assert samples["wedscale_engine_leader"][()] == 0
    assert "wedscale_backup_age_seconds" not in samples  # no backups table: no figure, no error


def test_backup_age_reads_the_newest_verified_backup(app, engine, clock):
    client = app.server.test_client()
    assert "wedscale_backup_age_seconds" not in scrape(client)  # nothing verified yet
    with engine.db.session() as session:
        for hours_ago, ok in ((3, True), (1, False), (0, None)):
            session.add(_backup_row(clock.now() - timedelta(hours=hours_ago), ok))
    assert scrape(client)["wedscale_backup_age_seconds"][()] == 3 * 3600


def _backup_row(created_at, verify_ok):
    from engine.storage.models import BackupRow

    return BackupRow(created_at=created_at, kind="manual", dialect="sqlite", path="/nowhere.db.gz",
                     size_bytes=1, sha256="0" * 64, verify_ok=verify_ok)
