"""Scale orders made while the database was down join the order life once they are recorded.

During an outage the autoscaler still orders the actuator (``engine.scaling.deferred``); when
the write queue is flushed each such order gets its ``scale_orders`` row with the id it was
sent with, and from then on it is verified by a deadline counted from when it was sent,
rolled back with an alert when it fails, and reconciled after a restart like any other order.
The outage is real at the SQLAlchemy level (``SwitchableOutage``); the clock is a ManualClock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from engine.bootstrap import build_engine
from engine.scaling.autoscaler import AUTOSCALER
from engine.scaling.decision import Category, ScaleDecision, Trigger
from engine.scaling.executor import decision_json
from engine.storage.models import AlertRow, AuditEntry, DecisionRow, ScaleOrderRow
from tests.conftest import T0
from tests.resilience.outage import SwitchableOutage

OUTAGE_S = 60


def scale_up(service: str, before: int, after: int, now) -> ScaleDecision:
    return ScaleDecision(service=service, from_instances=before, to_instances=after, trigger=Trigger.REACTIVE,
                         reason=f"reactive: {service} too busy", rollback_instances=before,
                         category=Category.AUTO_APPROVED, created_at=now)


def decide_during_outage(engine, clock, decisions: list[ScaleDecision]) -> None:
    """Submit ``decisions`` with the database down, keep it down for OUTAGE_S, then flush."""
    outage = SwitchableOutage(engine.db)
    outage.on = True
    assert engine.submit_decisions(decisions, AUTOSCALER) == decisions  # queued, not recorded
    assert engine.writes.status().pending == 1
    clock.advance(seconds=OUTAGE_S)
    outage.on = False
    assert engine.flush_writes() == 1


def orders_of(engine) -> list[ScaleOrderRow]:
    with engine.db.session() as session:
        return list(session.execute(select(ScaleOrderRow).order_by(ScaleOrderRow.id)).scalars())


def decisions_of(engine) -> list[DecisionRow]:
    with engine.db.session() as session:
        return list(session.execute(select(DecisionRow).order_by(DecisionRow.id)).scalars())


def scaling_alerts(engine) -> list[AlertRow]:
    with engine.db.session() as session:
        return list(session.execute(select(AlertRow).where(AlertRow.service == "scaling")).scalars())


def audit_actions(engine) -> list[str]:
    with engine.db.session() as session:
        return [a for (a,) in session.execute(select(AuditEntry.action).order_by(AuditEntry.id))]


def deadline_of(engine, service: str):
    spec = next(s for s in engine.services if s.name == service)
    return T0 + timedelta(seconds=spec.provisioning_delay_s + engine.settings.order_verify_margin_s)


def test_a_deferred_order_that_reaches_its_size_is_verified(engine, clock):
    ready, pending = engine.actuator.sizes("api", clock.now())
    before = ready + pending
    decide_during_outage(engine, clock, [scale_up("api", before, before + 2, T0)])
    (order,) = orders_of(engine)
    (row,) = decisions_of(engine)
    assert order.order_id == row.order_id and order.order_id.startswith("deferred-")
    assert (order.decision_id, order.kind, order.status, order.target) == (row.id, "scale", "accepted", before + 2)
    assert order.created_at == T0 and order.deadline_at == deadline_of(engine, "api")  # from the send
    assert row.status == "executed"
    delay_s = next(s for s in engine.services if s.name == "api").provisioning_delay_s
    if delay_s > OUTAGE_S:  # the new instances are still provisioning: not verified yet
        engine.check_orders()
        assert orders_of(engine)[0].status == "accepted"
        clock.advance(seconds=delay_s - OUTAGE_S)
    engine.check_orders()
    assert [o.status for o in orders_of(engine)] == ["done"]
    assert [o.order_id for o in engine.actuator.orders] == [order.order_id]  # sent once, never again
    with engine.db.session() as session:
        body = decision_json(session.get(DecisionRow, row.id))
    assert body["status"] == "executed" and body["order"]["status"] == "done"
    assert body["order"]["orderId"] == order.order_id
    assert not scaling_alerts(engine)


def test_a_deferred_order_that_never_gets_there_is_rolled_back_with_an_alert(wired, fake, clock):
    fake.get_stuck("api")  # takes the order, but no new instance ever becomes ready
    decide_during_outage(wired, clock, [scale_up("api", 6, 9, T0)])
    (order,) = orders_of(wired)
    deadline = deadline_of(wired, "api")
    clock.advance(seconds=(deadline - clock.now()).total_seconds() - 1)
    wired.check_orders()
    assert [o.status for o in orders_of(wired)] == ["accepted"]  # one second before the deadline
    clock.advance(seconds=1)  # the deadline counts from the send, not from the flush
    wired.check_orders()
    assert [(o.kind, o.status) for o in orders_of(wired)] == [("scale", "failed"), ("rollback", "accepted")]
    assert fake.order_ids() == [order.order_id, f"{order.order_id}-rollback"]
    assert fake.sizes("api", None) == (6, 0)
    (row,) = decisions_of(wired)
    assert row.status == "failed" and "[order failed:" in row.reason
    (alert,) = scaling_alerts(wired)
    assert (alert.state, alert.severity) == ("firing", "critical")
    assert order.order_id in alert.summary and "rolling back to 6" in alert.summary
    assert {"scale.order_failed", "scale.rollback"} <= set(audit_actions(wired))


@pytest.mark.parametrize("service, fault, why", [
    ("api", "transient", "failed during the database outage: ActuatorUnavailable"),
    ("ghost", "refused", "refused: NotFound"),
])
def test_a_deferred_order_the_actuator_failed_is_a_failed_order_with_an_alert(wired, fake, clock,
                                                                              service, fault, why):
    if fault == "transient":
        fake.fail_next(1)
    decide_during_outage(wired, clock, [scale_up(service, 6, 9, T0)])
    (order,) = orders_of(wired)
    (row,) = decisions_of(wired)
    assert (order.decision_id, order.status) == (row.id, "failed") and why in order.last_error
    assert row.status == "failed" and why in row.reason
    (alert,) = scaling_alerts(wired)
    assert alert.state == "firing" and order.order_id in alert.summary and why in alert.summary
    assert alert.started_at == T0  # raised at the time of the failure, not of the flush
    assert "scale.order_failed" in audit_actions(wired)
    sent = fake.order_ids()
    for _ in range(3):
        clock.advance(seconds=60)
        wired.check_orders()
    assert fake.order_ids() == sent  # neither re-sent nor rolled back: nothing open
    assert fake.sizes("api", None) == (6, 0)


class LostCommitAnswer:
    """Once armed, the next commit reaches the database but its caller gets a connection error."""

    def __init__(self, db):
        self.armed = False
        event.listen(db.engine, "commit", self._on_commit)

    def _on_commit(self, connection):
        if self.armed:
            self.armed = False
            connection.connection.driver_connection.commit()  # the transaction is durable...
            raise OperationalError("(simulated lost answer)", {}, ConnectionResetError("connection reset"))  # ...the answer is not


def test_replaying_the_queue_twice_orders_and_records_once(wired, fake, clock):
    outage = SwitchableOutage(wired.db)
    outage.on = True
    wired.submit_decisions([scale_up("api", 6, 9, T0), scale_up("real-time", 4, 6, T0)], AUTOSCALER)
    clock.advance(seconds=OUTAGE_S)
    outage.on = False
    lost = LostCommitAnswer(wired.db)
    lost.armed = True
    assert wired.flush_writes() == 0  # recorded, but the queue cannot know it: the unit is kept
    assert wired.writes.status().pending == 1
    assert decisions_of(wired) and orders_of(wired)  # ...although its rows are there
    assert wired.flush_writes() == 1  # the same unit again
    assert wired.writes.status().lost == 0  # replayed as a no-op, not dropped as a broken unit
    assert len(fake.received) == 2 and len(set(fake.order_ids())) == 2
    assert sorted((o.service, o.status) for o in orders_of(wired)) == [("api", "accepted"),
                                                                       ("real-time", "accepted")]
    assert len(decisions_of(wired)) == 2
    assert audit_actions(wired).count("scale.reactive") == 2
    for _ in range(3):
        clock.advance(seconds=10)
        wired.check_orders()
    assert [o.status for o in orders_of(wired)] == ["done", "done"]
    assert len(fake.received) == 2  # verifying sent nothing either
    assert fake.sizes("api", None) == (9, 0) and fake.sizes("real-time", None) == (6, 0)


def test_restart_reconciles_deferred_orders(settings, clock, fake):
    first = build_engine(settings, clock=clock, actuator=fake, notifiers=[])
    fake.get_stuck("real-time")
    decide_during_outage(first, clock, [scale_up("api", 6, 9, T0), scale_up("real-time", 4, 6, T0)])
    first.db.dispose()  # the process dies before its first check: only the rows are left
    clock.advance(seconds=(deadline_of(first, "real-time") - clock.now()).total_seconds())
    restarted = build_engine(settings, clock=clock, actuator=fake, notifiers=[])
    try:
        with restarted.db.session() as session:
            assert [o.status for o in restarted.executor.orders.open_orders(session)] == ["accepted", "accepted"]
        restarted.check_orders()
        by_service = {(o.service, o.kind): o.status for o in orders_of(restarted)}
        assert by_service == {("api", "scale"): "done", ("real-time", "scale"): "failed",
                              ("real-time", "rollback"): "accepted"}
        api_order = next(o for o in orders_of(restarted) if o.service == "api")
        assert fake.order_ids().count(api_order.order_id) == 1  # verified, not ordered again
        assert fake.sizes("real-time", None) == (4, 0)
        assert {d.service: d.status for d in decisions_of(restarted)} == {"api": "executed",
                                                                         "real-time": "failed"}
        (alert,) = scaling_alerts(restarted)
        assert "real-time" in alert.summary
    finally:
        restarted.db.dispose()


def test_a_newer_order_recorded_first_is_not_superseded_by_an_older_deferred_one(wired, fake, clock):
    outage = SwitchableOutage(wired.db)
    outage.on = True
    wired.submit_decisions([scale_up("api", 6, 9, T0)], AUTOSCALER)
    clock.advance(seconds=OUTAGE_S)
    outage.on = False
    # An operator's order reaches the database before the flush job replays the queue.
    with wired.db.session() as session:
        wired.executor.orders.place(session, service="api", target=7, rollback_to=9,
                                    order_id="manual-after-outage", now=clock.now())
    wired.flush_writes()
    assert [(o.order_id.split("-")[0], o.status) for o in orders_of(wired)] == [("manual", "accepted"),
                                                                                ("deferred", "superseded")]
    wired.check_orders()
    assert fake.sizes("api", None) == (7, 0)
    assert [o.status for o in orders_of(wired)] == ["done", "superseded"]
