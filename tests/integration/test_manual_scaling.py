"""Manual scaling through the API: standard, large with approval, emergency, validation."""

from __future__ import annotations

import pytest

from engine.security.permissions import Role
from engine.storage.models import AuditEntry, DecisionRow

SCALE = "/api/scalability/actions/scale"


def ordered(engine, service):
    ready, pending = engine.actuator.sizes(service, engine.clock.now())
    return ready, pending


def test_standard_scale_up_executes_and_becomes_ready_after_the_delay(login_as, engine, clock):
    client = login_as(Role.SCALABILITY_OPERATOR)
    ready, pending = ordered(engine, "api")
    response = client.post(SCALE, json={"action": "scale_up", "services": ["api"], "instances": 1,
                                        "reason": "ceremony starting", "urgency": "high"})
    assert response.status_code == 201
    decision = response.get_json()["decisions"][0]
    assert (decision["status"], decision["category"], decision["to"]) == ("executed", "auto_approved", ready + 1)
    assert ordered(engine, "api") == (ready, pending + 1)
    clock.advance(seconds=engine.services[0].provisioning_delay_s)
    assert ordered(engine, "api") == (ready + 1, pending)
    with engine.db.session() as session:
        row = session.query(AuditEntry).filter_by(action="scale.manual").one()
        assert row.actor == "operator" and "ceremony starting" in row.reason


def test_large_change_waits_for_an_admin(login_as, app, engine):
    operator = login_as(Role.SCALABILITY_OPERATOR)
    ready, pending = ordered(engine, "api")
    big = min(40, (ready + pending) * 2 + 1)
    response = operator.post(SCALE, json={"action": "set", "services": ["api"], "instances": big,
                                          "reason": "big wedding"})
    decision = response.get_json()["decisions"][0]
    assert decision["status"] == "pending_approval"
    assert ordered(engine, "api") == (ready, pending)  # nothing ordered yet
    refused = operator.post(f"/api/scalability/decisions/{decision['id']}/approve", json={"reason": "ok"})
    assert refused.status_code == 403
    from tests.conftest import create_user, sign_in

    admin = app.server.test_client()
    sign_in(admin, "admin", create_user(engine, "admin", Role.SCALABILITY_ADMIN))
    no_reason = admin.post(f"/api/scalability/decisions/{decision['id']}/approve", json={})
    assert no_reason.status_code == 422
    approved = admin.post(f"/api/scalability/decisions/{decision['id']}/approve", json={"reason": "agreed"})
    assert approved.status_code == 200 and approved.get_json()["status"] == "executed"
    assert sum(ordered(engine, "api")) == big
    again = admin.post(f"/api/scalability/decisions/{decision['id']}/approve", json={"reason": "twice"})
    assert again.status_code == 409


def test_reject_leaves_the_service_alone(login_as, engine):
    client = login_as(Role.SCALABILITY_OPERATOR)
    before = ordered(engine, "database")
    decision = client.post(SCALE, json={"action": "set", "services": ["database"], "instances": 12,
                                        "reason": "test"}).get_json()["decisions"][0]
    rejected = client.post(f"/api/scalability/decisions/{decision['id']}/reject", json={"reason": "no"})
    assert rejected.get_json()["status"] == "rejected"
    assert ordered(engine, "database") == before


def test_emergency_scaling_needs_an_admin(login_as, app, engine):
    operator = login_as(Role.SCALABILITY_OPERATOR)
    body = {"action": "emergency_scale", "services": ["real-time"], "instances": 20, "reason": "spike"}
    assert operator.post(SCALE, json=body).status_code == 403
    from tests.conftest import create_user, sign_in

    admin = app.server.test_client()
    sign_in(admin, "admin", create_user(engine, "admin", Role.SCALABILITY_ADMIN))
    decision = admin.post(SCALE, json=body).get_json()["decisions"][0]
    assert (decision["category"], decision["trigger"], decision["status"]) == ("emergency", "emergency", "executed")
    assert sum(ordered(engine, "real-time")) == 20


@pytest.mark.parametrize("body, field", [
    ({"action": "scale_up", "services": ["api"]}, "reason"),
    ({"action": "grow", "services": ["api"], "reason": "x"}, "action"),
    ({"action": "scale_up", "services": ["nope"], "reason": "x"}, "services"),
    ({"action": "scale_up", "services": [], "reason": "x"}, "services"),
    ({"action": "set", "services": ["api"], "reason": "x"}, "instances"),
    ({"action": "set", "services": ["api"], "instances": 1000, "reason": "x"}, "instances"),
    ({"action": "set", "services": ["api"], "instances": "ten", "reason": "x"}, "instances"),
    ({"action": "set", "services": ["api"], "instances": True, "reason": "x"}, "instances"),
    ({"action": "scale_up", "services": ["api"], "reason": "x", "urgency": "now"}, "urgency"),
    ({"action": "scale_up", "services": ["api"], "reason": 5}, "reason"),
])
def test_invalid_orders_are_422_naming_the_field(login_as, engine, body, field):
    client = login_as(Role.SCALABILITY_OPERATOR)
    response = client.post(SCALE, json=body)
    assert response.status_code == 422
    assert response.get_json()["details"]["field"] == field
    with engine.db.session() as session:
        assert session.query(DecisionRow).count() == 0


def test_one_bad_service_rejects_the_whole_request(login_as, engine):
    client = login_as(Role.SCALABILITY_OPERATOR)
    before = ordered(engine, "api")
    response = client.post(SCALE, json={"action": "set", "services": ["api", "database"],
                                        "instances": 30, "reason": "x"})  # database max is 12
    assert response.status_code == 422
    assert ordered(engine, "api") == before
    with engine.db.session() as session:
        assert session.query(DecisionRow).count() == 0


def test_decision_history_is_readable_by_viewers(login_as, app, engine):
    operator = login_as(Role.SCALABILITY_OPERATOR)
    operator.post(SCALE, json={"action": "scale_up", "services": ["api"], "reason": "warm-up"})
    from tests.conftest import create_user, sign_in

    viewer = app.server.test_client()
    sign_in(viewer, "viewer", create_user(engine, "viewer", Role.SCALABILITY_VIEWER))
    history = viewer.get("/api/scalability/decisions?service=api").get_json()["decisions"]
    assert len(history) == 1 and history[0]["reason"].endswith("warm-up")
    assert viewer.post(SCALE, json={"action": "scale_up", "services": ["api"], "reason": "x"}).status_code == 403


def test_default_steps_are_always_standard():
    from engine.scaling.limits import is_standard_step
    from engine.scaling.manual import ManualRequest, target_of

    for current in range(2, 40):
        for action in ("scale_up", "scale_down"):
            target = target_of(ManualRequest(action, "api", None, "x"), current)
            assert target != current and is_standard_step(current, target, 0, 1000), (action, current, target)
