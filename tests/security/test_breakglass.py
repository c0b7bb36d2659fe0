"""Break-glass: bounded, reasoned, audited, alerting, revocable emergency rights."""

from __future__ import annotations

from engine.security.permissions import Role
from engine.storage.models import AlertRow, AuditEntry
from tests.conftest import create_user, sign_in

SCALE = "/api/scalability/actions/scale"
EMERGENCY = {"action": "emergency_scale", "services": ["api"], "instances": 30, "reason": "flash crowd"}


def test_operator_takes_rights_scales_in_an_emergency_and_they_expire(login_as, engine, clock):
    client = login_as(Role.SCALABILITY_OPERATOR)
    assert client.post(SCALE, json=EMERGENCY).status_code == 403
    assert client.post("/api/scalability/breakglass", json={"minutes": 30}).status_code == 422
    assert client.post("/api/scalability/breakglass", json={"minutes": 90, "reason": "x"}).status_code == 422
    taken = client.post("/api/scalability/breakglass", json={"minutes": 10, "reason": "API melting"})
    assert taken.status_code == 201
    assert client.post("/api/scalability/breakglass", json={"minutes": 5, "reason": "again"}).status_code == 409
    assert client.post(SCALE, json=EMERGENCY).status_code == 201
    with engine.db.session() as session:
        alert = session.query(AlertRow).filter_by(service="security").one()
        assert alert.state == "firing" and alert.severity == "critical" and "API melting" in alert.summary
        assert session.query(AuditEntry).filter_by(action="breakglass.take", actor="operator").count() == 1
    engine.evaluate_alerts()  # threshold evaluation must not resolve the security alert
    with engine.db.session() as session:
        assert session.query(AlertRow).filter_by(service="security").one().state == "firing"
    clock.advance(minutes=11)
    assert client.post(SCALE, json=EMERGENCY).status_code == 403


def test_admin_revokes_a_grant(login_as, app, engine):
    operator = login_as(Role.SCALABILITY_OPERATOR)
    grant = operator.post("/api/scalability/breakglass", json={"minutes": 60, "reason": "r"}).get_json()
    assert operator.delete(f"/api/scalability/breakglass/{grant['id']}").status_code == 403
    admin = app.server.test_client()
    sign_in(admin, "admin", create_user(engine, "admin", Role.SCALABILITY_ADMIN))
    revoked = admin.delete(f"/api/scalability/breakglass/{grant['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["revokedBy"] == "admin"
    assert operator.post(SCALE, json=EMERGENCY).status_code == 403
    assert admin.delete(f"/api/scalability/breakglass/{grant['id']}").status_code == 409


def test_coordinators_cannot_take_rights(login_as):
    client = login_as(Role.WEDDING_COORDINATOR)
    assert client.post("/api/scalability/breakglass", json={"minutes": 5, "reason": "x"}).status_code == 403


def test_every_action_under_break_glass_is_tagged_with_the_grant(login_as, engine):
    import json

    client = login_as(Role.SCALABILITY_OPERATOR)
    assert client.post(SCALE, json={"action": "scale_up", "services": ["api"], "reason": "before",
                                    "urgency": "low"}).status_code == 201
    grant = client.post("/api/scalability/breakglass", json={"minutes": 10, "reason": "outage"}).get_json()
    assert client.post(SCALE, json=EMERGENCY).status_code == 201
    with engine.db.session() as session:
        rows = session.query(AuditEntry).filter(AuditEntry.actor == "operator",
                                                AuditEntry.action.like("scale.%")).order_by(AuditEntry.id).all()
    tags = [json.loads(r.details).get("breakglass_grant") for r in rows]
    assert tags == [None, grant["id"]]
