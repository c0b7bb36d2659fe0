"""Scale orders: recorded before they are sent, retried idempotently, verified, rolled back.

An order is an absolute target (``service → N instances``) with an order id. Its life:

1. ``place`` writes it to ``scale_orders`` as ``recorded`` and **commits** before the actuator
   hears of it, so a process killed at any later point leaves a record to reconcile;
2. it is sent; the actuator accepts it (``accepted``) or fails. A transient failure leaves it
   ``recorded`` and ``check`` re-sends it with the same order id on later cycles, up to
   ``max_attempts`` in all; a permanent one (unknown service, bad target) fails at once;
3. ``check`` (every cycle, and once when a process becomes leader) is level-triggered: it
   compares each service's newest open order with the actuator's actual sizes. A
   ``recorded`` order whose target the actuator already has is marked ``accepted`` without a
   second order (the process died after sending it); an ``accepted`` one whose size the
   actuator no longer shows is re-sent with its order id (within ``max_attempts``), and is
   ``done`` when all its instances are ready, or ``failed`` when the deadline (provisioning
   delay + ``verify_margin_s``) passes first;
4. a failed order raises a critical alert on the ``scaling`` pseudo-service, marks its
   decision ``failed`` and places a rollback order ``<order id>-rollback``.

An order sent while the database was unreachable (``engine.scaling.deferred``) joins this life
at step 3 through ``record_sent`` once the database is back: recorded as ``accepted`` with the
time it was sent (its deadline counts from then), or ``failed`` with its alert when the
actuator raised.

Choice made here (DESIGN.md is silent): a failed scale-up rolls back to the larger of its
rollback plan and the instances that did come up, so instances already serving are not
killed; a failed scale-down returns to the rollback plan. A rollback is not rolled back: when
it fails too, the alert says so and an operator takes over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound
from engine.security.audit import SYSTEM, AuditLog
from engine.storage.models import DecisionRow, ScaleOrderRow

RECORDED, ACCEPTED, DONE, FAILED, SUPERSEDED = "recorded", "accepted", "done", "failed", "superseded"
OPEN = (RECORDED, ACCEPTED)
SCALE, ROLLBACK = "scale", "rollback"
ALERT_SERVICE = "scaling"
_PERMANENT = (NotFound, InvalidInput)


def is_refusal(exc: BaseException) -> bool:
    """True when the actuator refused an order outright (unknown service, bad target).

    Nothing changed then, so a refused order is failed at once and not rolled back; any other
    error is transient (the order may or may not have landed).
    """
    return isinstance(exc, _PERMANENT)


@dataclass(frozen=True)
class SentOrder:
    """An order sent before it could be recorded (during a database outage), and how it went.

    ``sent_at`` is when it was sent (the decision's time); ``error`` is empty when the actuator
    accepted it; ``refused`` tells a refusal (see ``is_refusal``) from a transient failure.
    """

    order_id: str
    service: str
    target: int
    rollback_to: int
    sent_at: datetime
    error: str = ""
    refused: bool = False


class OrderDesk:
    """Places, re-sends, verifies and rolls back scale orders against one actuator.

    Parameters
    ----------
    actuator : Actuator
        Where orders go (idempotent per order id).
    audit : AuditLog
        Failures, rollbacks and reconciled orders are audited as the ``system`` actor.
    alerts : AlertService
        Raises the alert of a failed order.
    delays_s : dict of str to float
        Provisioning delay per service, seconds: part of each order's deadline.
    max_attempts : int
        Sends per order before it fails (3).
    verify_margin_s : float
        Added to the provisioning delay for the deadline (120 s).
    """

    def __init__(self, actuator, audit: AuditLog, alerts, delays_s: dict[str, float], *,
                 max_attempts: int = 3, verify_margin_s: float = 120.0):
        self.actuator = actuator
        self.audit = audit
        self.alerts = alerts
        self.delays_s = delays_s
        self.max_attempts = max_attempts
        self.verify_margin_s = verify_margin_s

    def place(self, session: Session, *, service: str, target: int, rollback_to: int,
              order_id: str, now: datetime, decision_id: int | None = None,
              kind: str = SCALE) -> ScaleOrderRow:
        """Record the order, commit, then send it once; return its row.

        Commits ``session`` (everything the caller added so far goes with it): the intent is
        durable before the actuator acts. Open orders of the same service are superseded.
        An order id placed before is not placed again: its row is returned as it is.
        """
        existing = self._by_id(session, order_id)
        if existing is not None:
            return existing
        for older in self._open(session, service):
            older.status, older.updated_at = SUPERSEDED, now
        row = self._new_row(service=service, target=target, rollback_to=rollback_to, order_id=order_id,
                            now=now, decision_id=decision_id, kind=kind)
        session.add(row)
        session.commit()  # durable before the actuator hears of it
        self._send(session, row, now)
        return row

    def record_sent(self, session: Session, sent: SentOrder, decision_id: int | None = None) -> ScaleOrderRow:
        """Record an order the actuator already received, so it is verified like any other; return its row.

        For orders sent while the database was unreachable. Nothing is sent here: the row is
        dated ``sent.sent_at`` with one attempt, so its deadline counts from the send and
        ``check`` verifies it (done, or failed and rolled back with an alert) and reconciles it
        after a restart. An order id recorded before is returned as it is, so replaying the
        write queue twice records (and orders) nothing twice. Does not commit: the caller's
        unit of work does.

        - Accepted: ``accepted``; it supersedes older open orders of its service, unless an
          order of that service dated after it is already recorded (a newer intent, e.g. a
          manual order placed before the queue was flushed): then it is ``superseded`` itself.
        - Failed (the actuator raised): ``failed`` at once, with its alert and the decision
          marked failed. It is neither re-sent nor rolled back here (choice made here): the
          autoscaler kept deciding from the actual size through the outage, so its later
          orders are the retry, and sending an old target now could undo a newer order still
          in the queue.
        """
        existing = self._by_id(session, sent.order_id)
        if existing is not None:
            return existing
        now = sent.sent_at
        newer = session.execute(select(ScaleOrderRow.id).where(
            ScaleOrderRow.service == sent.service, ScaleOrderRow.created_at > now).limit(1)).first()
        older = [] if newer is not None else self._open(session, sent.service)
        row = self._new_row(service=sent.service, target=sent.target, rollback_to=sent.rollback_to,
                            order_id=sent.order_id, now=now, decision_id=decision_id, kind=SCALE)
        row.attempts, row.status = 1, (SUPERSEDED if newer is not None else ACCEPTED)
        for open_row in older:
            open_row.status, open_row.updated_at = SUPERSEDED, now
        session.add(row)
        session.flush()
        if sent.refused:
            self._fail(session, row, now, f"refused: {sent.error}", roll_back=False)
        elif sent.error:
            self._fail(session, row, now, f"failed during the database outage: {sent.error}",
                       roll_back=False, plan="not re-sent: the autoscaler orders again from the actual size")
        return row

    def check(self, session: Session, now: datetime) -> list[ScaleOrderRow]:
        """Reconcile every open order with the actuator's actual sizes; return those changed."""
        changed = []
        newest: dict[str, ScaleOrderRow] = {}
        for row in self._open(session):
            older = newest.get(row.service)
            if older is not None:  # only the newest intent per service counts
                older.status, older.updated_at = SUPERSEDED, now
                changed.append(older)
            newest[row.service] = row
        for row in newest.values():
            before = row.status
            self._reconcile(session, row, now)
            if row.status != before:
                changed.append(row)
        return changed

    def open_orders(self, session: Session) -> list[ScaleOrderRow]:
        """Return the orders not yet done, failed or superseded, oldest first."""
        return self._open(session)

    # --- steps ----------------------------------------------------------------------
    def _reconcile(self, session: Session, row: ScaleOrderRow, now: datetime) -> None:
        try:
            ready, pending = self.actuator.sizes(row.service, now)
        except Exception as exc:  # cannot look: try again next cycle, unless time is up
            row.last_error = f"sizes: {type(exc).__name__}: {exc}"
            if now >= row.deadline_at:
                self._fail(session, row, now, f"actuator unreachable past the deadline ({row.last_error})")
            return
        was = row.status
        if row.status == RECORDED:
            if ready + pending == row.target:  # it got there: sending again would order twice
                row.status, row.updated_at = ACCEPTED, now
                self.audit.record(session, now=now, actor=SYSTEM, action="scale.reconcile", outcome="ok",
                                  target=row.service, reason="the actuator already has this order's size",
                                  details=self._details(row))
            else:
                self._send(session, row, now)
                return  # verified on a later cycle, against sizes read after the send
        if was == ACCEPTED:
            if ready + pending != row.target and row.attempts < self.max_attempts:
                # the actuator lost it (e.g. a simulated cluster that restarted with the
                # process): send the same order id again; an actuator that has it ignores it
                self._send(session, row, now)
                return
        if row.status == ACCEPTED:
            if ready == row.target and pending == 0:
                row.status, row.updated_at = DONE, now
            elif now >= row.deadline_at:
                self._fail(session, row, now, f"{row.service} has {ready} ready and {pending} pending of "
                                              f"{row.target} at the deadline", ready=ready)

    def _send(self, session: Session, row: ScaleOrderRow, now: datetime) -> None:
        row.attempts += 1
        row.updated_at = now
        try:
            self.actuator.scale(row.service, row.target, now, row.order_id)
        except _PERMANENT as exc:
            # refused outright: nothing changed, so there is nothing to roll back
            self._fail(session, row, now, f"refused: {type(exc).__name__}: {exc}", roll_back=False)
            return
        except Exception as exc:  # transient: re-sent with the same order id next cycle
            row.last_error = f"{type(exc).__name__}: {exc}"
            self.audit.record(session, now=now, actor=SYSTEM, action="scale.order_retry", outcome="error",
                              target=row.service, reason=row.last_error, details=self._details(row))
            if row.attempts >= self.max_attempts:
                self._fail(session, row, now, f"{row.attempts} attempts failed (last: {row.last_error})")
            return
        row.status, row.last_error = ACCEPTED, ""

    def _fail(self, session: Session, row: ScaleOrderRow, now: datetime, why: str,
              ready: int | None = None, roll_back: bool = True, plan: str | None = None) -> None:
        row.status, row.updated_at, row.last_error = FAILED, now, why[:2000]
        decision = session.get(DecisionRow, row.decision_id) if row.decision_id else None
        if decision is not None and row.kind == SCALE:
            decision.status = FAILED
            decision.reason = f"{decision.reason} [order failed: {why}]"[:4000]
        back = row.rollback_to
        if row.kind == SCALE and ready is not None and row.target > row.rollback_to:
            back = max(row.rollback_to, min(ready, row.target))  # keep what came up
        roll_back = roll_back and row.kind == SCALE
        plan = plan or (f"rolling back to {back}" if roll_back else
                        "nothing was changed" if row.kind == SCALE else "the rollback failed: act by hand")
        summary = f"scale order {row.order_id} ({row.service} → {row.target}) failed: {why}; {plan}"
        self.alerts.raise_alert(session, ALERT_SERVICE, f"order:{row.service}", summary[:500], now)
        self.audit.record(session, now=now, actor=SYSTEM, action="scale.order_failed", outcome="error",
                          target=row.service, reason=why, details=self._details(row))
        if roll_back:
            rollback = self.place(session, service=row.service, target=back, rollback_to=row.target,
                                  order_id=f"{row.order_id}-rollback", now=now,
                                  decision_id=row.decision_id, kind=ROLLBACK)
            self.audit.record(session, now=now, actor=SYSTEM, action="scale.rollback",
                              outcome="ok" if rollback.status != FAILED else "error",
                              target=row.service, reason=summary, details=self._details(rollback))

    def _new_row(self, *, service: str, target: int, rollback_to: int, order_id: str, now: datetime,
                 decision_id: int | None, kind: str) -> ScaleOrderRow:
        deadline = now + timedelta(seconds=self.delays_s.get(service, 0.0) + self.verify_margin_s)
        return ScaleOrderRow(order_id=order_id, decision_id=decision_id, service=service, kind=kind,
                             target=int(target), rollback_to=int(rollback_to), status=RECORDED,
                             attempts=0, created_at=now, updated_at=now, deadline_at=deadline,
                             last_error="")

    @staticmethod
    def _by_id(session: Session, order_id: str) -> ScaleOrderRow | None:
        return session.execute(select(ScaleOrderRow).where(ScaleOrderRow.order_id == order_id)).scalar()

    @staticmethod
    def _open(session: Session, service: str | None = None) -> list[ScaleOrderRow]:
        query = select(ScaleOrderRow).where(ScaleOrderRow.status.in_(OPEN))
        if service is not None:
            query = query.where(ScaleOrderRow.service == service)
        return list(session.execute(query.order_by(ScaleOrderRow.id)).scalars())

    @staticmethod
    def _details(row: ScaleOrderRow) -> dict:
        return {"order_id": row.order_id, "kind": row.kind, "target": row.target,
                "rollback_to": row.rollback_to, "attempts": row.attempts, "status": row.status,
                "decision": row.decision_id}


def order_json(row: ScaleOrderRow) -> dict:
    """Return the API shape of a recorded order."""
    return {"orderId": row.order_id, "decision": row.decision_id, "service": row.service,
            "kind": row.kind, "target": row.target, "rollbackTo": row.rollback_to,
            "status": row.status, "attempts": row.attempts, "createdAt": row.created_at.isoformat(),
            "deadlineAt": row.deadline_at.isoformat(), "lastError": row.last_error}
