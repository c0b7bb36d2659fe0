"""Threat detection end to end: real requests leave audit rows, the job raises security alerts.

Each case drives the app through the test client (or seeds history through the audit
service), runs the engine's job and checks the alert: critical, firing, on the ``security``
pseudo-service, audited, and raised once (dedup).
"""

from __future__ import annotations

from datetime import timedelta

from engine.jobs.runner import default_jobs
from engine.security.audit import Actor
from engine.security.permissions import Role
from engine.storage.models import AlertRow, AuditEntry
from tests.conftest import create_user, csrf_of, sign_in

SCALE = "/api/scalability/actions/scale"


def security_alerts(engine):
    with engine.db.session() as session:
        return {a.metric: a for a in session.query(AlertRow).filter_by(service="security")}


def failed_sign_in(client, username):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": "wrong-password",
                                       "csrf_token": csrf_of(page.get_data(as_text=True))})


def test_brute_force_from_one_address_raises_one_alert(client, engine):
    for i in range(10):
        assert failed_sign_in(client, f"guess{i % 4}").status_code in (401, 429)
    assert engine.detect_threats() == 1
    alert = security_alerts(engine)["threat:bruteforce:addr:127.0.0.1"]
    assert (alert.severity, alert.state) == ("critical", "firing")
    assert "10 failed sign-ins from 127.0.0.1" in alert.summary
    with engine.db.session() as session:
        assert session.query(AuditEntry).filter_by(action="alert.firing",
                                                   target=f"alert:{alert.id} security/{alert.metric}").count() == 1
    failed_sign_in(client, "guess9")
    assert engine.detect_threats() == 0  # deduplicated while the alert is open
    assert len(security_alerts(engine)) == 1


def test_below_the_threshold_nothing_is_raised(client, engine):
    for i in range(9):
        failed_sign_in(client, f"guess{i % 4}")
    assert engine.detect_threats() == 0
    assert security_alerts(engine) == {}


def test_repeated_forbidden_requests_and_forged_callbacks(app, login_as, engine):
    from tests.integration.test_access import _forged_body

    client = login_as(Role.SCALABILITY_VIEWER)
    for path in ("/api/audit", "/api/audit/export"):
        assert client.get(path).status_code == 403
    key = next(k for k in app.callback_map if "users-feedback" in k)
    forged = _forged_body(key, app.callback_map[key])
    for _ in range(3):
        assert client.post("/_dash-update-component", json=forged).status_code == 403
    assert engine.detect_threats() == 1
    alert = security_alerts(engine)["threat:escalation:viewer"]
    assert "refused 5 times" in alert.summary and "/_dash-update-component" in alert.summary


def test_a_burst_of_manual_scale_actions(login_as, engine):
    client = login_as(Role.SCALABILITY_OPERATOR)
    services = ["api", "database", "file-storage", "real-time", "ai-services", "api"]
    for service in services:
        response = client.post(SCALE, json={"action": "scale_up", "services": [service],
                                            "reason": "load", "urgency": "low"})
        assert response.status_code == 201, response.get_json()
    assert engine.detect_threats() == 1
    assert "operator made 6 scale actions" in security_alerts(engine)["threat:scaleburst:operator"].summary


def test_scaling_a_service_the_user_never_scaled(login_as, engine, clock):
    client = login_as(Role.SCALABILITY_OPERATOR)
    olga = Actor("operator", Role.SCALABILITY_OPERATOR.value, "10.1.1.1")
    with engine.db.session() as session:
        for day in range(8):
            engine.audit.record(session, now=clock.now() - timedelta(days=day + 1), actor=olga,
                                action="scale.manual", outcome="ok", target="api")
    assert client.post(SCALE, json={"action": "scale_up", "services": ["api"], "reason": "usual",
                                    "urgency": "low"}).status_code == 201
    assert engine.detect_threats() == 0
    assert client.post(SCALE, json={"action": "scale_up", "services": ["database"], "reason": "odd",
                                    "urgency": "low"}).status_code == 201
    assert engine.detect_threats() == 1
    (key, alert), = security_alerts(engine).items()
    assert key.startswith("threat:service:") and "scaled database" in alert.summary
    assert engine.detect_threats() == 0  # the same event never alerts twice


def test_sign_in_at_an_unusual_hour(app, engine, clock):
    password = create_user(engine, "olga", Role.SCALABILITY_OPERATOR)
    with engine.db.session() as session:
        for day in range(10):
            ts = (clock.now() - timedelta(days=day + 1)).replace(hour=8 + day % 3)
            engine.audit.record(session, now=ts, actor=Actor("olga", "scalability_operator", "10.0.0.5"),
                                action="login", outcome="ok", target="olga")
    assert sign_in(app.server.test_client(), "olga", password).status_code == 302  # 14:00: unusual too
    engine.detect_threats()
    clock.advance(hours=13)  # 03:00 the next day
    assert sign_in(app.server.test_client(), "olga", password).status_code == 302
    assert engine.detect_threats() == 1
    newest = max(security_alerts(engine).values(), key=lambda a: a.id)
    assert "olga signed in at 03:00 UTC" in newest.summary


def test_threat_detection_is_a_leader_job(engine):
    jobs = {job.name: job for job in default_jobs(engine)}
    assert jobs["detect_threats"].run == engine.detect_threats
    assert jobs["detect_threats"].interval_s == engine.settings.threat_interval_s
