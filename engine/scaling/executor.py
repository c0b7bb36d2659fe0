"""The executor: records decisions, hands them to the order desk, handles approvals. Audited.

A decision's order id is derived from its row id (``decision-<id>``), so retrying an order
never scales twice: the actuator ignores an order id it has already applied, and the order
desk (``engine.scaling.orders``) records each order before sending it, re-sends it only while
the actuator does not have its size, verifies it and rolls it back on failure.

A decision the autoscaler ordered while the database was unreachable keeps the id it was sent
with (``deferred-…``, see ``engine.scaling.deferred``) and joins the same order life through
``record_sent`` once the database is back.

Decision statuses: ``pending_approval`` → (``executing`` →) ``executed`` | ``failed``, or
``rejected`` / ``expired`` (not approved within ``approval_ttl_s``; 30 min by default).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.scaling.decision import Category, ScaleDecision
from engine.scaling.orders import ACCEPTED, DONE, FAILED as ORDER_FAILED, OrderDesk, SentOrder, order_json
from engine.security.audit import SYSTEM, Actor, AuditLog
from engine.storage.models import DecisionRow, ScaleOrderRow

EXECUTED, PENDING_APPROVAL, REJECTED, FAILED = "executed", "pending_approval", "rejected", "failed"
EXECUTING, EXPIRED = "executing", "expired"
APPROVAL_TTL_S = 1800.0


def _row_of(decision: ScaleDecision, actor: Actor, status: str) -> DecisionRow:
    return DecisionRow(
        created_at=decision.created_at, service=decision.service,
        from_instances=decision.from_instances, to_instances=decision.to_instances,
        trigger=decision.trigger.value, category=decision.category.value, status=status,
        reason=decision.reason, inputs=json.dumps(dict(decision.inputs), sort_keys=True, default=str),
        confidence=decision.confidence, cost_per_hour=decision.cost_per_hour,
        rollback_to=decision.rollback_instances, actor=actor.name,
    )


class Executor:
    """Turns decisions into orders (through the order desk), or into approval requests.

    Parameters
    ----------
    actuator : Actuator
        Where orders go.
    audit : AuditLog
        Every decision, approval, rejection and expiry is audited.
    orders : OrderDesk
        Records, sends, verifies and rolls back orders.
    approval_ttl_s : float
        A decision waiting for approval expires after this many seconds (1800).
    """

    def __init__(self, actuator, audit: AuditLog, orders: OrderDesk, *,
                 approval_ttl_s: float = APPROVAL_TTL_S):
        self.actuator = actuator
        self.audit = audit
        self.orders = orders
        self.approval_ttl_s = approval_ttl_s

    def submit(self, session: Session, decision: ScaleDecision, actor: Actor) -> DecisionRow:
        """Record ``decision``; order it unless it requires approval.

        Commits ``session`` once the decision and its order are recorded (see
        ``OrderDesk.place``), so call it last in a unit of work.
        """
        waits = decision.category == Category.REQUIRES_APPROVAL
        row = _row_of(decision, actor, PENDING_APPROVAL if waits else EXECUTING)
        session.add(row)
        session.flush()
        action = f"scale.{decision.trigger.value}"
        if waits:
            self.audit.record(session, now=decision.created_at, actor=actor, action=action,
                              outcome="pending_approval", target=decision.service,
                              reason=decision.reason, details=self._details(row))
            return row
        self._order(session, row, actor, decision.created_at, action)
        return row

    def record_sent(self, session: Session, decision: ScaleDecision, actor: Actor,
                    sent: SentOrder) -> DecisionRow:
        """Record a decision whose order went out before it could be recorded; return its row.

        For decisions ordered while the database was unreachable: the row keeps the decision's
        time and the order id it was sent with, is audited as made then, and its order joins
        the order desk (``OrderDesk.record_sent``), which verifies it by its deadline, rolls
        it back with an alert when it fails, and reconciles it after a restart. A failed send
        makes a failed decision and order, with an alert. Idempotent on the order id: a unit
        replayed twice returns the first row and orders nothing. Does not commit.
        """
        existing = session.execute(select(DecisionRow).where(DecisionRow.order_id == sent.order_id)).scalar()
        if existing is not None:
            return existing
        row = _row_of(decision, actor, EXECUTING)
        row.order_id = sent.order_id
        session.add(row)
        session.flush()
        self.audit.record(session, now=decision.created_at, actor=actor, action=f"scale.{decision.trigger.value}",
                          outcome="error" if sent.error else "ordered", target=row.service, reason=row.reason,
                          details={**self._details(row), "recorded_after_outage": True})
        self.orders.record_sent(session, sent, decision_id=row.id)
        # the actuator took it, whatever the desk finds later; a failed send was failed by the desk
        row.status = FAILED if sent.error else EXECUTED
        return row

    def _order(self, session: Session, row: DecisionRow, actor: Actor, now: datetime, action: str) -> None:
        row.order_id = f"decision-{row.id}"
        row.status = EXECUTING
        # audited with the intent, in the transaction that records the order
        self.audit.record(session, now=now, actor=actor, action=action, outcome="ordered",
                          target=row.service, reason=row.reason, details=self._details(row))
        order = self.orders.place(session, service=row.service, target=row.to_instances,
                                  rollback_to=row.rollback_to, order_id=row.order_id, now=now,
                                  decision_id=row.id)
        if order.status in (ACCEPTED, DONE):
            row.status = EXECUTED
        elif order.status == ORDER_FAILED:
            row.status = FAILED

    def check_orders(self, session: Session, now: datetime) -> int:
        """Reconcile open orders with the actuator and expire old approvals; return changes.

        Level-triggered: safe to run every cycle and right after a restart.
        """
        changed = self.orders.check(session, now)
        for order in changed:
            decision = session.get(DecisionRow, order.decision_id) if order.decision_id else None
            if decision is not None and decision.status == EXECUTING and order.status in (ACCEPTED, DONE):
                decision.status = EXECUTED
        return len(changed) + len(self.expire_approvals(session, now))

    def expire_approvals(self, session: Session, now: datetime) -> list[DecisionRow]:
        """Mark decisions waiting longer than ``approval_ttl_s`` as expired (audited)."""
        cutoff = now - timedelta(seconds=self.approval_ttl_s)
        rows = list(session.execute(select(DecisionRow).where(
            DecisionRow.status == PENDING_APPROVAL, DecisionRow.created_at <= cutoff)).scalars())
        for row in rows:
            self._expire(session, row, now)
        return rows

    def _expire(self, session: Session, row: DecisionRow, now: datetime) -> None:
        row.status = EXPIRED
        row.reason = f"{row.reason} [expired: not approved within {self.approval_ttl_s / 60:.0f} min]"
        self.audit.record(session, now=now, actor=SYSTEM, action="decision.expire", outcome="ok",
                          target=row.service, reason="not approved in time", details=self._details(row))

    def expires_at(self, row: DecisionRow) -> datetime:
        """Return when a waiting decision expires."""
        return row.created_at + timedelta(seconds=self.approval_ttl_s)

    @staticmethod
    def _details(row: DecisionRow) -> dict:
        return {"decision": row.id, "from": row.from_instances, "to": row.to_instances,
                "category": row.category, "order_id": row.order_id}

    def _pending(self, session: Session, decision_id: int, now: datetime) -> DecisionRow:
        row = session.get(DecisionRow, decision_id)
        if row is None:
            raise NotFound(f"no decision with id {decision_id}")
        if row.status == PENDING_APPROVAL and now >= self.expires_at(row):
            self._expire(session, row, now)
            session.commit()  # the expiry stands even though the request fails
        if row.status != PENDING_APPROVAL:
            raise Conflict(f"decision {decision_id} is {row.status}, not waiting for approval")
        return row

    def approve(self, session: Session, decision_id: int, actor: Actor, reason: str, now: datetime,
                *, may_approve_large: bool) -> DecisionRow:
        """Approve a waiting decision and execute it (large ones need ``may_approve_large``).

        A refused approval (large, without the right) is audited and committed before
        ``Forbidden`` is raised, so the refusal survives the caller's rollback.
        """
        if not (reason or "").strip():
            raise InvalidInput("a reason is required to approve", {"field": "reason"})
        row = self._pending(session, decision_id, now)
        inputs = json.loads(row.inputs or "{}")
        if (inputs.get("size") == "large" or inputs.get("over_budget")) and not may_approve_large:
            self.audit.record(session, now=now, actor=actor, action="decision.approve", outcome="denied",
                              target=row.service, reason=reason.strip(), details=self._details(row))
            session.commit()
            raise Forbidden("a large or over-budget change needs an admin (or break-glass rights) to approve")
        row.reason = f"{row.reason} [approved by {actor.name}: {reason.strip()}]"
        self._order(session, row, actor, now, "decision.approve")
        return row

    def reject(self, session: Session, decision_id: int, actor: Actor, reason: str,
               now: datetime) -> DecisionRow:
        """Reject a waiting decision with a reason (audited)."""
        if not (reason or "").strip():
            raise InvalidInput("a reason is required to reject", {"field": "reason"})
        row = self._pending(session, decision_id, now)
        row.status = REJECTED
        row.reason = f"{row.reason} [rejected by {actor.name}: {reason.strip()}]"
        self.audit.record(session, now=now, actor=actor, action="decision.reject", outcome="ok",
                          target=row.service, reason=reason.strip(), details=self._details(row))
        return row

    @staticmethod
    def history(session: Session, *, service: str | None = None, status: str | None = None,
                trigger: str | None = None, category: str | None = None,
                since: datetime | None = None, limit: int = 100) -> list[DecisionRow]:
        """Return decisions, newest first, optionally filtered (exact matches; ``since`` inclusive)."""
        query = select(DecisionRow)
        for column, value in ((DecisionRow.service, service), (DecisionRow.status, status),
                              (DecisionRow.trigger, trigger), (DecisionRow.category, category)):
            if value:
                query = query.where(column == value)
        if since is not None:
            query = query.where(DecisionRow.created_at >= since)
        return list(session.execute(query.order_by(DecisionRow.id.desc()).limit(limit)).scalars())


    @staticmethod
    def changes_since(session: Session, since: datetime) -> dict[str, list[tuple[datetime, int, int]]]:
        """Return executed changes per service since ``since``: ``(when, from, to)``, oldest first."""
        query = (select(DecisionRow.service, DecisionRow.created_at, DecisionRow.from_instances,
                        DecisionRow.to_instances)
                 .where(DecisionRow.status.in_((EXECUTED, EXECUTING)), DecisionRow.created_at >= since)
                 .order_by(DecisionRow.id))
        out: dict[str, list[tuple[datetime, int, int]]] = {}
        for service, when, before, after in session.execute(query):
            out.setdefault(service, []).append((when, before, after))
        return out

    @staticmethod
    def waiting_services(session: Session) -> set[str]:
        """Return the services with a decision waiting for approval."""
        query = select(DecisionRow.service).where(DecisionRow.status == PENDING_APPROVAL).distinct()
        return set(session.execute(query).scalars())


def decision_json(row: DecisionRow, executor: Executor | None = None) -> dict:
    """Return the API shape of a recorded decision (with its newest order, when it has one).

    Reads the decision's orders through the row's session; pass ``executor`` to include when
    a waiting decision expires.
    """
    body = {"id": row.id, "createdAt": row.created_at.isoformat(), "service": row.service,
            "from": row.from_instances, "to": row.to_instances, "trigger": row.trigger,
            "category": row.category, "status": row.status, "reason": row.reason,
            "inputs": json.loads(row.inputs or "{}"), "confidence": row.confidence,
            "costPerHour": row.cost_per_hour, "rollbackTo": row.rollback_to, "actor": row.actor,
            "orderId": row.order_id, "order": None}
    session = Session.object_session(row)
    if session is not None and row.order_id:
        orders = session.execute(select(ScaleOrderRow).where(ScaleOrderRow.decision_id == row.id)
                                 .order_by(ScaleOrderRow.id)).scalars().all()
        if orders:
            body["order"] = order_json(orders[-1])
    if executor is not None and row.status == PENDING_APPROVAL:
        body["expiresAt"] = executor.expires_at(row).isoformat()
    return body
