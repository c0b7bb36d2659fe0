"""The executor: records decisions, orders the actuator, handles approvals. Audited.

A decision's order id is derived from its row id (``decision-<id>``), so retrying an order
never scales twice: the actuator ignores an order id it has already applied.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.scaling.decision import Category, ScaleDecision
from engine.security.audit import Actor, AuditLog
from engine.storage.models import DecisionRow

EXECUTED, PENDING_APPROVAL, REJECTED, FAILED = "executed", "pending_approval", "rejected", "failed"


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
    """Turns decisions into actuator orders, or into approval requests."""

    def __init__(self, actuator, audit: AuditLog):
        self.actuator = actuator
        self.audit = audit

    def submit(self, session: Session, decision: ScaleDecision, actor: Actor) -> DecisionRow:
        """Record ``decision``; execute it unless it requires approval."""
        waits = decision.category == Category.REQUIRES_APPROVAL
        row = _row_of(decision, actor, PENDING_APPROVAL if waits else EXECUTED)
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

    def _order(self, session: Session, row: DecisionRow, actor: Actor, now: datetime, action: str) -> None:
        row.order_id = f"decision-{row.id}"
        try:
            self.actuator.scale(row.service, row.to_instances, now, row.order_id)
            row.status, outcome = EXECUTED, "ok"
        except Exception as exc:  # an unreachable actuator must leave a record, not a 500
            row.status, outcome = FAILED, "error"
            row.reason = f"{row.reason} [order failed: {type(exc).__name__}: {exc}]"
        self.audit.record(session, now=now, actor=actor, action=action, outcome=outcome,
                          target=row.service, reason=row.reason, details=self._details(row))

    @staticmethod
    def _details(row: DecisionRow) -> dict:
        return {"decision": row.id, "from": row.from_instances, "to": row.to_instances,
                "category": row.category, "order_id": row.order_id}

    def _pending(self, session: Session, decision_id: int) -> DecisionRow:
        row = session.get(DecisionRow, decision_id)
        if row is None:
            raise NotFound(f"no decision with id {decision_id}")
        if row.status != PENDING_APPROVAL:
            raise Conflict(f"decision {decision_id} is {row.status}, not waiting for approval")
        return row

    def approve(self, session: Session, decision_id: int, actor: Actor, reason: str, now: datetime,
                *, may_approve_large: bool) -> DecisionRow:
        """Approve a waiting decision and execute it (large ones need ``may_approve_large``)."""
        if not (reason or "").strip():
            raise InvalidInput("a reason is required to approve", {"field": "reason"})
        row = self._pending(session, decision_id)
        if json.loads(row.inputs or "{}").get("size") == "large" and not may_approve_large:
            raise Forbidden("a large change needs an admin (or break-glass rights) to approve")
        row.reason = f"{row.reason} [approved by {actor.name}: {reason.strip()}]"
        self._order(session, row, actor, now, "decision.approve")
        return row

    def reject(self, session: Session, decision_id: int, actor: Actor, reason: str,
               now: datetime) -> DecisionRow:
        """Reject a waiting decision with a reason (audited)."""
        if not (reason or "").strip():
            raise InvalidInput("a reason is required to reject", {"field": "reason"})
        row = self._pending(session, decision_id)
        row.status = REJECTED
        row.reason = f"{row.reason} [rejected by {actor.name}: {reason.strip()}]"
        self.audit.record(session, now=now, actor=actor, action="decision.reject", outcome="ok",
                          target=row.service, reason=reason.strip(), details=self._details(row))
        return row

    @staticmethod
    def history(session: Session, *, service: str | None = None, status: str | None = None,
                limit: int = 100) -> list[DecisionRow]:
        """Return decisions, newest first, optionally filtered."""
        query = select(DecisionRow)
        if service:
            query = query.where(DecisionRow.service == service)
        if status:
            query = query.where(DecisionRow.status == status)
        return list(session.execute(query.order_by(DecisionRow.id.desc()).limit(limit)).scalars())


def decision_json(row: DecisionRow) -> dict:
    """Return the API shape of a recorded decision."""
    return {"id": row.id, "createdAt": row.created_at.isoformat(), "service": row.service,
            "from": row.from_instances, "to": row.to_instances, "trigger": row.trigger,
            "category": row.category, "status": row.status, "reason": row.reason,
            "inputs": json.loads(row.inputs or "{}"), "confidence": row.confidence,
            "costPerHour": row.cost_per_hour, "rollbackTo": row.rollback_to, "actor": row.actor,
            "orderId": row.order_id}
