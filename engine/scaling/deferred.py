"""Scale decisions while the database is unreachable: order now, record when it is back.

The actuator does not depend on our database, so an outage during a wedding must not stop
the autoscaler from scaling. A decision that needs no approval is ordered at once with an
order id that does not need a database row (``deferred-<epoch ms>-<service>``, unique per
decision and stable, so a retried order is still idempotent); the decision row and its audit
entry are written when the queued unit runs, with that order id and the original time. A
decision that needs approval orders nothing and is simply recorded later, as it would have
been.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine.clock import to_epoch_s
from engine.scaling.decision import Category, ScaleDecision
from engine.scaling.executor import EXECUTED, FAILED, Executor, _row_of
from engine.security.audit import Actor


@dataclass(frozen=True)
class DeferredOrder:
    """A decision ordered without a database: its order id and how the order went."""

    decision: ScaleDecision
    order_id: str | None
    error: str = ""


def order_now(executor: Executor, decision: ScaleDecision) -> DeferredOrder:
    """Send ``decision`` to the actuator now unless it waits for approval."""
    if decision.category == Category.REQUIRES_APPROVAL:
        return DeferredOrder(decision, None)
    order_id = f"deferred-{int(to_epoch_s(decision.created_at) * 1000)}-{decision.service}"[:64]
    try:
        executor.actuator.scale(decision.service, decision.to_instances, decision.created_at, order_id)
    except Exception as exc:  # recorded as a failed order, like Executor._order does
        return DeferredOrder(decision, order_id, f"{type(exc).__name__}: {exc}")
    return DeferredOrder(decision, order_id)


def record_deferred(session: Session, executor: Executor, order: DeferredOrder, actor: Actor):
    """Write the decision row and audit entry of an order made during the outage."""
    if order.order_id is None:
        return executor.submit(session, order.decision, actor)
    decision = order.decision
    row = _row_of(decision, actor, FAILED if order.error else EXECUTED)
    row.order_id = order.order_id
    if order.error:
        row.reason = f"{row.reason} [order failed: {order.error}]"
    session.add(row)
    session.flush()
    executor.audit.record(session, now=decision.created_at, actor=actor,
                          action=f"scale.{decision.trigger.value}",
                          outcome="error" if order.error else "ok", target=row.service, reason=row.reason,
                          details={"decision": row.id, "from": row.from_instances, "to": row.to_instances,
                                   "category": row.category, "order_id": row.order_id,
                                   "recorded_after_outage": True})
    return row


def deferred_unit(executor: Executor, decisions: list[ScaleDecision], actor: Actor):
    """Order ``decisions`` now and return the unit of work that records them later."""
    orders = [order_now(executor, d) for d in decisions]
    return lambda session: [record_deferred(session, executor, o, actor) for o in orders]
