"""Approvals expire, refusals are audited, the budget asks for approval, pins hold the autoscaler."""

from __future__ import annotations

from sqlalchemy import select

from engine.scaling.manual import ManualRequest
from engine.security.audit import Actor
from engine.security.permissions import Role
from engine.storage.models import AuditEntry, DecisionRow
from tests.conftest import create_user, sign_in

OPERATOR = Actor("operator", "scalability_operator", "127.0.0.1")
SCALE = "/api/scalability/actions/scale"


def audit_rows(engine, action):
    with engine.db.session() as session:
        return list(session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def test_waiting_decision_expires_and_cannot_be_approved_after(login_as, app, engine, clock):
    operator = login_as(Role.SCALABILITY_OPERATOR)
    decision = operator.post(SCALE, json={"action": "set", "services": ["database"], "instances": 12,
                                          "reason": "big wedding"}).get_json()["decisions"][0]
    assert decision["status"] == "pending_approval"
    clock.advance(minutes=engine.settings.approval_ttl_minutes + 1)
    admin = app.server.test_client()
    sign_in(admin, "admin", create_user(engine, "admin", Role.SCALABILITY_ADMIN))
    late = admin.post(f"/api/scalability/decisions/{decision['id']}/approve", json={"reason": "ok"})
    assert late.status_code == 409 and "expired" in late.get_json()["message"]
    history = admin.get("/api/scalability/decisions?status=expired").get_json()["decisions"]
    assert [d["id"] for d in history] == [decision["id"]]
    assert len(audit_rows(engine, "decision.expire")) == 1


def test_expiry_job_marks_old_requests(engine, clock):
    (row,) = engine.request_manual_scale([ManualRequest("set", "database", 12, "x")], OPERATOR,
                                         may_approve_large=False)
    assert engine.check_orders() == 0
    clock.advance(minutes=31)
    assert engine.check_orders() == 1
    with engine.db.session() as session:
        assert session.get(DecisionRow, row.id).status == "expired"


def test_an_operators_refused_large_approval_is_audited(login_as, engine):
    operator = login_as(Role.SCALABILITY_OPERATOR)
    decision = operator.post(SCALE, json={"action": "set", "services": ["database"], "instances": 12,
                                          "reason": "big wedding"}).get_json()["decisions"][0]
    refused = operator.post(f"/api/scalability/decisions/{decision['id']}/approve", json={"reason": "mine"})
    assert refused.status_code == 403
    (row,) = audit_rows(engine, "decision.approve")
    assert (row.actor, row.outcome, row.target) == ("operator", "denied", "database")


def test_over_budget_scale_up_waits_for_an_admin(settings, clock, tmp_path):
    from engine.bootstrap import build_engine

    engine = build_engine(settings.with_(daily_budget=10.0), clock=clock)  # far below a day's cost
    try:
        engine.size_simulated_cluster()
        (up,) = engine.preview_manual_scale([ManualRequest("scale_up", "api", 1, "x")], may_approve_large=False)
        assert up.category.value == "requires_approval" and up.inputs["over_budget"]
        (admin,) = engine.preview_manual_scale([ManualRequest("scale_up", "api", 1, "x")], may_approve_large=True)
        assert admin.category.value == "auto_approved" and admin.inputs["over_budget"]
        (down,) = engine.preview_manual_scale([ManualRequest("scale_down", "api", 1, "x")],
                                              may_approve_large=False)
        assert down.category.value == "auto_approved" and not down.inputs["over_budget"]
        (emergency,) = engine.preview_manual_scale([ManualRequest("emergency_scale", "api", 30, "x")],
                                                   may_approve_large=False)
        assert emergency.category.value == "emergency"  # never capped: it goes ahead, flagged
        assert emergency.inputs["over_budget"]
        state = engine.budget_state()
        assert state["budget"] == (25.0 if state["wedding_day"] else 10.0) and state["spent_today"] > 0
    finally:
        engine.db.dispose()


def feed(engine, clock, seconds=60):
    for _ in range(seconds // 5):
        clock.advance(seconds=5)
        engine.collect_metrics()


def test_autoscaler_respects_a_pin_until_it_is_handed_back(engine, clock):
    engine.actuator.preset({"api": 20})  # far more than the afternoon needs
    with engine.db.session() as session:
        engine.pins.pin(session, "api", 30, OPERATOR, "holding for the keynote", clock.now())
    feed(engine, clock)
    engine.run_autoscaler()
    preview = engine.autoscaler.preview(engine)["api"]
    assert preview.decision is not None and preview.decision.to_instances < 20  # it would scale down
    with engine.db.session() as session:
        assert session.query(DecisionRow).filter_by(service="api").count() == 0
    assert engine.release_pin("api", OPERATOR) == 1
    feed(engine, clock, 15)
    engine.run_autoscaler()
    with engine.db.session() as session:
        (row,) = session.query(DecisionRow).filter_by(service="api").all()
        assert row.to_instances < 20 and row.actor == "autoscaler"
    assert [r.action for r in audit_rows(engine, "scale.pin")] == ["scale.pin"]
    assert len(audit_rows(engine, "scale.unpin")) == 1


def test_a_pin_expires_by_itself(engine, clock):
    engine.actuator.preset({"api": 20})
    with engine.db.session() as session:
        engine.pins.pin(session, "api", 5, OPERATOR, "short hold", clock.now())
    feed(engine, clock)
    engine.run_autoscaler()
    clock.advance(minutes=5)
    feed(engine, clock, 15)
    engine.run_autoscaler()
    with engine.db.session() as session:
        assert session.query(DecisionRow).filter_by(service="api").count() == 1


def test_manual_order_with_a_pin_through_the_api(login_as, engine):
    client = login_as(Role.SCALABILITY_OPERATOR)
    response = client.post(SCALE, json={"action": "scale_up", "services": ["api"], "reason": "hold it",
                                        "pin_minutes": 45})
    assert response.status_code == 201
    with engine.db.session() as session:
        assert set(engine.pins.active(session, engine.clock.now())) == {"api"}
    bad = client.post(SCALE, json={"action": "scale_up", "services": ["api"], "reason": "x", "pin_minutes": 999})
    assert bad.status_code == 422 and bad.get_json()["details"]["field"] == "pin_minutes"
    released = client.delete("/api/scalability/pins/api", json={"reason": "back to auto"})
    assert released.status_code == 200 and released.get_json()["released"] == 1


def test_decisions_filter_by_trigger_and_category(login_as, engine):
    client = login_as(Role.SCALABILITY_OPERATOR)
    client.post(SCALE, json={"action": "scale_up", "services": ["api"], "reason": "a"})
    client.post(SCALE, json={"action": "set", "services": ["database"], "instances": 12, "reason": "b"})
    waiting = client.get("/api/scalability/decisions?category=requires_approval").get_json()["decisions"]
    assert [d["service"] for d in waiting] == ["database"]
    manual = client.get("/api/scalability/decisions?trigger=manual&service=api").get_json()["decisions"]
    assert [d["service"] for d in manual] == ["api"] and manual[0]["order"]["status"] == "accepted"
    assert client.get("/api/scalability/decisions?trigger=nope").status_code == 422


def test_only_operators_hand_a_service_back(login_as):
    viewer = login_as(Role.SCALABILITY_VIEWER)
    assert viewer.delete("/api/scalability/pins/api").status_code == 403
