"""Alerts end to end: an injected incident raises an alert; operators act on it; all audited."""

from __future__ import annotations


import pytest

from engine.security.permissions import Role
from engine.storage.models import AlertEvent, AuditEntry


def raise_latency_alert(engine, clock):
    """Inject a latency incident on api and run collection + evaluation until it fires."""
    engine.source.inject_incident("latency_spike", "api", clock.now(), 3600)
    for _ in range(3):
        clock.advance(seconds=5)
        engine.collect_metrics()
        engine.evaluate_alerts()
    with engine.db.session() as session:
        rows = [r for r in engine.alerts.list_alerts(session, open_only=True)
                if r.service == "api" and r.metric == "latency_p95_ms"]
    assert rows, "the latency incident raised no alert"
    return rows[0]


def test_incident_raises_a_critical_alert_once(engine, clock):
    alert = raise_latency_alert(engine, clock)
    assert alert.severity == "critical" and alert.state == "firing"
    with engine.db.session() as session:
        open_api = [r for r in engine.alerts.list_alerts(session, open_only=True)
                    if (r.service, r.metric) == ("api", "latency_p95_ms")]
    assert len(open_api) == 1  # deduplicated across evaluations


def test_operator_acknowledges_and_silences_through_the_api(login_as, engine, clock):
    alert = raise_latency_alert(engine, clock)
    client = login_as(Role.SCALABILITY_OPERATOR)
    acked = client.post(f"/api/scalability/alerts/{alert.id}/ack", json={"note": "looking"})
    assert acked.status_code == 200 and acked.get_json()["state"] == "acknowledged"
    assert acked.get_json()["acknowledgedBy"] == "operator"
    bad = client.post(f"/api/scalability/alerts/{alert.id}/silence", json={"minutes": 30})
    assert bad.status_code == 422 and bad.get_json()["details"]["field"] == "reason"
    silenced = client.post(f"/api/scalability/alerts/{alert.id}/silence",
                           json={"minutes": 30, "reason": "deploy in progress"})
    assert silenced.get_json()["state"] == "silenced"
    history = client.get("/api/scalability/alerts?history=true").get_json()["alerts"][0]["history"]
    assert [h["to"] for h in history][-2:] == ["acknowledged", "silenced"]
    with engine.db.session() as session:
        actions = [r.action for r in session.query(AuditEntry).filter(AuditEntry.actor == "operator")]
        assert "alert.acknowledged" in actions and "alert.silenced" in actions
        assert engine.audit.verify(session).ok


def test_viewer_cannot_acknowledge(login_as, engine, clock):
    alert = raise_latency_alert(engine, clock)
    client = login_as(Role.SCALABILITY_VIEWER)
    assert client.post(f"/api/scalability/alerts/{alert.id}/ack", json={}).status_code == 403
    with engine.db.session() as session:
        assert session.get(type(alert), alert.id).state == "firing"


def test_alert_resolves_when_the_incident_ends(engine, clock):
    alert = raise_latency_alert(engine, clock)
    engine.source.clear_incidents()
    clock.advance(seconds=5)
    engine.collect_metrics()
    engine.evaluate_alerts()
    with engine.db.session() as session:
        row = session.get(type(alert), alert.id)
        assert row.state == "resolved" and row.resolved_at is not None
        assert session.query(AlertEvent).filter_by(alert_id=alert.id).count() >= 2


@pytest.mark.parametrize("body, status", [
    ("not json", 422),
    ({"minutes": "soon", "reason": "x"}, 422),
    ({"minutes": 0, "reason": "x"}, 422),
    ({"minutes": 5000, "reason": "x"}, 422),
])
def test_bad_silence_requests_are_4xx(login_as, engine, clock, body, status):
    alert = raise_latency_alert(engine, clock)
    client = login_as(Role.SCALABILITY_OPERATOR)
    if isinstance(body, str):
        response = client.post(f"/api/scalability/alerts/{alert.id}/silence", data=body,
                               content_type="application/json")
    else:
        response = client.post(f"/api/scalability/alerts/{alert.id}/silence", json=body)
    assert response.status_code == status
    assert set(response.get_json()) == {"error", "message", "details"}


def test_acting_on_a_resolved_alert_is_a_conflict(login_as, engine, clock):
    alert = raise_latency_alert(engine, clock)
    engine.source.clear_incidents()
    clock.advance(seconds=5)
    engine.collect_metrics()
    engine.evaluate_alerts()
    client = login_as(Role.SCALABILITY_OPERATOR)
    assert client.post(f"/api/scalability/alerts/{alert.id}/ack", json={}).status_code == 409
    clock.advance(minutes=1)
    assert client.post("/api/scalability/alerts/424242/ack", json={}).status_code == 404


def test_admin_drill_raises_an_alert_and_is_audited(login_as, engine, clock):
    client = login_as(Role.SCALABILITY_ADMIN)
    body = {"output": "drill-feedback.children", "outputs": {"id": "drill-feedback", "property": "children"},
            "inputs": [{"id": "drill-start", "property": "n_clicks", "value": 1}],
            "state": [{"id": "drill-service", "property": "value", "value": "real-time"},
                      {"id": "drill-kind", "property": "value", "value": "error_burst"},
                      {"id": "drill-minutes", "property": "value", "value": 10}],
            "changedPropIds": ["drill-start.n_clicks"]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200 and "Drill started" in response.get_data(as_text=True)
    for _ in range(3):
        clock.advance(seconds=5)
        engine.collect_metrics()
        engine.evaluate_alerts()
    with engine.db.session() as session:
        alerts = {(r.service, r.metric) for r in engine.alerts.list_alerts(session, open_only=True)}
        assert ("real-time", "error_rate_pct") in alerts
        assert session.query(AuditEntry).filter_by(action="drill.start", actor="admin").count() == 1
    body["state"][2]["value"] = 500
    refused = client.post("/_dash-update-component", json=body)
    assert "1 to 120 minutes" in refused.get_data(as_text=True)
