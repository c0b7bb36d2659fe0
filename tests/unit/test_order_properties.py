"""Properties of scale-order execution over random sequences of orders, faults, cycles, restarts.

- idempotent: an order id the actuator has applied is never sent again, and no order id is
  sent more than ``max_attempts`` times;
- convergent: once faults stop, a few cycles bring the actuator to the newest order's target
  (or to its rollback) and leave no order open;
- every failed order raised an alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine.detect.alert_service import AlertService
from engine.scaling.orders import OPEN, OrderDesk
from engine.security.audit import AuditLog
from engine.storage.db import Database
from engine.storage.models import AlertRow, AuditCheckpoint, Base, ScaleOrderRow
from tests.fakes import FakeActuator, ProcessKilled

T0 = datetime(2026, 6, 13, 14, 0, tzinfo=timezone.utc)
MAX_ATTEMPTS = 3

steps = st.lists(st.one_of(
    st.tuples(st.just("order"), st.integers(1, 30)),
    st.tuples(st.just("fault"), st.integers(1, 4), st.booleans(), st.booleans()),
    st.tuples(st.just("check"), st.integers(1, 400)),
    st.tuples(st.just("restart")),
), max_size=25)


def _desk(db: Database, fake: FakeActuator) -> OrderDesk:
    audit = AuditLog("k" * 40)
    return OrderDesk(fake, audit, AlertService(audit, []), {"api": 60.0},
                     max_attempts=MAX_ATTEMPTS, verify_margin_s=120.0)


@settings(max_examples=60, deadline=None)
@given(steps)
def test_orders_are_idempotent_and_converge(plan):
    db = Database("sqlite://")
    Base.metadata.create_all(db.engine)
    with db.session() as session:
        session.add(AuditCheckpoint(id=1, last_id=0, last_hash="0" * 64))
    fake = FakeActuator({"api": 5})
    desk, now, n = _desk(db, fake), T0, 0
    for step in plan:
        try:
            with db.session() as session:
                if step[0] == "order":
                    n += 1
                    ready, pending = fake.sizes("api", now)
                    desk.place(session, service="api", target=step[1], rollback_to=ready + pending,
                               order_id=f"o{n}", now=now)
                elif step[0] == "fault":
                    fake.fail_next(step[1], apply_first=step[2], kill=step[3])
                elif step[0] == "check":
                    now += timedelta(seconds=step[1])
                    desk.check(session, now)
                else:
                    desk = _desk(db, fake)  # a new process on the same database and cluster
        except ProcessKilled:
            desk = _desk(db, fake)
    fake._faults.clear()
    for _ in range(4):
        now += timedelta(seconds=400)
        with db.session() as session:
            desk.check(session, now)

    ids = fake.order_ids()
    for order_id in set(ids):
        sends = [i for i, x in enumerate(ids) if x == order_id]
        assert len(sends) <= MAX_ATTEMPTS
        if order_id in fake.landed_at:
            assert max(sends) == fake.landed_at[order_id], f"{order_id} sent again after it landed"
    with db.session() as session:
        rows = list(session.execute(select(ScaleOrderRow).order_by(ScaleOrderRow.id)).scalars())
        assert not [r for r in rows if r.status in OPEN]
        if rows:
            newest = max(rows, key=lambda r: r.id)
            assert newest.status in ("done", "failed")
            if newest.status == "done":
                assert sum(fake.sizes("api", now)) == newest.target
        n_failed = sum(r.status == "failed" for r in rows)
        alerts = session.execute(select(AlertRow).where(AlertRow.service == "scaling")).scalars().all()
        assert len(alerts) == n_failed
    db.dispose()

