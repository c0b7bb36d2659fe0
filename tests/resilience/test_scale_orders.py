"""Resilience of scale orders: an actuator failing mid-scale, a process killed mid-order.

The actuator is a ``FakeActuator`` that records every order it receives; "killed" is a
``ProcessKilled`` raised inside the actuator call (nothing after it runs, the open transaction
rolls back), after which the engine is rebuilt on the same database and the same actuator —
the cluster outlives the process.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.bootstrap import build_engine
from engine.scaling.manual import ManualRequest
from engine.security.audit import Actor
from engine.storage.models import AlertRow, AuditEntry, DecisionRow, ScaleOrderRow
from tests.fakes import ProcessKilled

OPERATOR = Actor("operator", "scalability_operator", "127.0.0.1")


def scale_api_to(engine, n: int):
    (row,) = engine.request_manual_scale([ManualRequest("set", "api", n, "ceremony at 15:00")],
                                         OPERATOR, may_approve_large=True)
    return row


def orders(engine) -> list[ScaleOrderRow]:
    with engine.db.session() as session:
        return list(session.execute(select(ScaleOrderRow).order_by(ScaleOrderRow.id)).scalars())


def decision(engine, decision_id: int) -> DecisionRow:
    with engine.db.session() as session:
        return session.get(DecisionRow, decision_id)


def audit_actions(engine) -> list[str]:
    with engine.db.session() as session:
        return [a for (a,) in session.execute(select(AuditEntry.action).order_by(AuditEntry.id))]


def scaling_alerts(engine) -> list[AlertRow]:
    with engine.db.session() as session:
        return list(session.execute(select(AlertRow).where(AlertRow.service == "scaling")).scalars())


def test_transient_failure_is_retried_with_the_same_order_id(wired, fake, clock):
    fake.fail_next(1)
    row = scale_api_to(wired, 8)
    assert decision(wired, row.id).status == "executing" and fake.sizes("api", None) == (6, 0)
    clock.advance(seconds=10)
    wired.check_orders()
    assert fake.order_ids() == ["decision-1", "decision-1"]  # same id: a retry, not a new order
    assert fake.applied == {"decision-1": 8} and fake.sizes("api", None) == (8, 0)
    assert decision(wired, row.id).status == "executed"
    wired.check_orders()
    assert [o.status for o in orders(wired)] == ["done"] and len(fake.received) == 2


def test_order_applied_but_answer_lost_is_not_sent_again(wired, fake, clock):
    fake.fail_next(1, apply_first=True)  # mid-scale: the cluster took it, the answer never came
    scale_api_to(wired, 9)
    for _ in range(3):
        clock.advance(seconds=10)
        wired.check_orders()
    assert fake.order_ids() == ["decision-1"] and fake.sizes("api", None) == (9, 0)
    assert [o.status for o in orders(wired)] == ["done"]
    assert "scale.reconcile" in audit_actions(wired)


def test_persistent_failure_is_retried_then_rolled_back_with_an_alert(wired, fake, clock):
    fake.fail_next(3)  # every attempt of the order fails; the rollback gets through
    row = scale_api_to(wired, 9)
    for _ in range(2):
        clock.advance(seconds=10)
        wired.check_orders()
    assert fake.order_ids() == ["decision-1"] * 3 + ["decision-1-rollback"]
    assert fake.sizes("api", None) == (6, 0)  # back to the rollback plan
    assert [(o.kind, o.status) for o in orders(wired)] == [("scale", "failed"), ("rollback", "accepted")]
    assert decision(wired, row.id).status == "failed"
    (alert,) = scaling_alerts(wired)
    assert alert.state == "firing" and alert.severity == "critical"
    assert "decision-1" in alert.summary and "rolling back to 6" in alert.summary
    actions = audit_actions(wired)
    assert actions.count("scale.order_retry") == 3
    assert "scale.order_failed" in actions and "scale.rollback" in actions
    wired.check_orders()
    assert [o.status for o in orders(wired)][-1] == "done"


def test_order_not_ready_by_the_deadline_is_rolled_back(wired, fake, clock):
    fake.get_stuck("api")  # accepted, but the new instances never become ready
    scale_api_to(wired, 9)
    clock.advance(seconds=wired.services[0].provisioning_delay_s + 30)
    wired.check_orders()
    assert [o.status for o in orders(wired)] == ["accepted"]  # still within the deadline
    clock.advance(seconds=wired.settings.order_verify_margin_s)
    wired.check_orders()
    assert [(o.kind, o.status) for o in orders(wired)] == [("scale", "failed"), ("rollback", "accepted")]
    assert fake.sizes("api", None) == (6, 0)
    assert len(scaling_alerts(wired)) == 1


def test_permanent_refusal_fails_at_once_without_retries(wired, fake):
    with wired.db.session() as session:
        order = wired.executor.orders.place(session, service="ghost", target=3, rollback_to=1,
                                            order_id="manual-ghost", now=wired.clock.now())
        assert order.status == "failed"
    assert fake.order_ids() == []  # NotFound before anything was recorded by the fake
    (alert,) = scaling_alerts(wired)
    assert "ghost" in alert.summary


@pytest.mark.parametrize("landed", [True, False], ids=["killed-after-the-order-landed",
                                                       "killed-before-it-landed"])
def test_killed_mid_order_reconciles_on_restart_and_never_orders_twice(settings, clock, fake, landed):
    first = build_engine(settings, clock=clock, actuator=fake, notifiers=[])
    fake.fail_next(1, apply_first=landed, kill=True)
    with pytest.raises(ProcessKilled):
        scale_api_to(first, 10)
    first.db.dispose()
    # The process is gone; its order record is not.
    restarted = build_engine(settings, clock=clock, actuator=fake, notifiers=[])
    try:
        (order,) = orders(restarted)
        assert (order.order_id, order.status, order.target) == ("decision-1", "recorded", 10)
        for _ in range(3):  # reconcile on start, and every cycle after: level-triggered
            clock.advance(seconds=10)
            restarted.check_orders()
        assert list(fake.applied.items()) == [("decision-1", 10)]
        assert fake.order_ids() == ["decision-1"] * (1 if landed else 2)
        assert fake.sizes("api", None) == (10, 0)
        assert [o.status for o in orders(restarted)] == ["done"]
        assert decision(restarted, order.decision_id).status == "executed"
    finally:
        restarted.db.dispose()


def test_a_newer_order_supersedes_an_open_one(wired, fake, clock):
    fake.fail_next(1)
    scale_api_to(wired, 8)
    scale_api_to(wired, 7)  # the operator changed their mind before the retry
    clock.advance(seconds=10)
    wired.check_orders()
    assert fake.order_ids() == ["decision-1", "decision-2"] and fake.sizes("api", None) == (7, 0)
    assert [o.status for o in orders(wired)] == ["superseded", "done"]
