"""``/healthz`` and ``/readyz`` from the real app."""

from __future__ import annotations

from engine.jobs.runner import EngineRunner, JobSpec
from engine.storage.db import Database
from tests.fakes import HeldLock


def test_healthz_reports_components(client, engine):
    response = client.get("/healthz")
    body = response.get_json()
    # No Redis configured: not reported.
    assert set(body["components"]) == {"database", "scheduler", "source", "actuator", "backups"}
    assert body["components"]["database"]["status"] == "healthy"
    # Nothing has run yet and the process did not start an engine: no leader -> unhealthy.
    assert body["status"] == "unhealthy" and response.status_code == 503


def test_healthz_healthy_once_jobs_ran_and_data_is_fresh(client, engine):
    runner = EngineRunner(engine, HeldLock(), [JobSpec("collect_metrics", 5, engine.collect_metrics)])
    engine.state["runner"] = runner
    assert runner.run_job(runner.jobs[0])
    body = client.get("/healthz").get_json()
    assert body["components"]["scheduler"]["status"] == "healthy"
    assert body["components"]["scheduler"]["role"] == "follower"  # elector not started
    assert body["components"]["source"]["status"] == "healthy"
    assert body["status"] == "healthy"


def test_stale_source_degrades(client, engine, clock):
    runner = EngineRunner(engine, HeldLock(), [JobSpec("collect_metrics", 5, engine.collect_metrics)])
    engine.state["runner"] = runner
    runner.run_job(runner.jobs[0])
    engine.source.stop()
    clock.advance(seconds=40)
    runner.run_job(runner.jobs[0])
    body = client.get("/healthz").get_json()
    assert body["components"]["source"]["status"] == "degraded"
    assert body["status"] == "degraded"
    assert client.get("/healthz").status_code == 200


def test_readyz(client, engine):
    assert client.get("/readyz").status_code == 200
    engine.db = Database("sqlite:////nonexistent-dir/none.db")
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["ready"] is False


def test_metrics_exposition_counts_requests_by_route(client, engine):
    client.get("/healthz")
    client.post("/api/scalability/alerts/7/ack")  # 401, counted under its rule, not its path
    text = client.get("/metrics").get_data(as_text=True)
    assert 'wedscale_http_requests_total{method="GET",route="/healthz",status="503"}' in text
    assert 'route="/api/scalability/alerts/<int:alert_id>/ack"' in text
    assert "wedscale_engine_leader 0.0" in text


def test_metrics_token_is_required_when_configured(tmp_path, db_url, clock):
    from app import create_app
    from engine.bootstrap import build_engine
    from tests.conftest import make_settings

    engine = build_engine(make_settings(tmp_path, db_url, metrics_token="scrape-me"), clock=clock)
    client = create_app(engine=engine).server.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200 and "wedscale_http_requests_total" in ok.get_data(as_text=True)


def test_security_headers_on_pages_and_api(client):
    for path in ("/login", "/api/scalability/status"):
        headers = client.get(path).headers
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
