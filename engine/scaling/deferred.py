"""Scale decisions while the database is unreachable: order now, record when it is back.

The actuator does not depend on our database, so an outage during a wedding must not stop
the autoscaler from scaling. A decision that needs no approval is ordered at once with an
order id that does not need a database row (``deferred-<epoch ms>-<service>``, unique per
decision and stable, so a retried order is still idempotent). When the queued unit runs, the
decision row, its audit entry and its ``scale_orders`` row are written with that order id and
the original time (``Executor.record_sent``): from then on the order is verified by its
deadline, rolled back with an alert on failure and reconciled after a restart like any
other. A send the actuator failed is recorded as a failed order with its alert. A decision
that needs approval orders nothing and is simply recorded later, as it would have been.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from engine.clock import to_epoch_s
from engine.scaling.decision import Category, ScaleDecision
from engine.scaling.executor import Executor
from engine.scaling.orders import SentOrder, is_refusal
from engine.security.audit import Actor


@dataclass(frozen=True)
class DeferredOrder:
    """A decision made without a database, and the order sent for it (None: waits for approval)."""

    decision: ScaleDecision
    sent: SentOrder | None


def order_now(executor: Executor, decision: ScaleDecision) -> DeferredOrder:
    """Send ``decision`` to the actuator now unless it waits for approval; never raises."""
    if decision.category == Category.REQUIRES_APPROVAL:
        return DeferredOrder(decision, None)
    order_id = f"deferred-{int(to_epoch_s(decision.created_at) * 1000)}-{decision.service}"[:64]
    sent = SentOrder(order_id=order_id, service=decision.service, target=decision.to_instances,
                     rollback_to=decision.rollback_instances, sent_at=decision.created_at)
    try:
        executor.actuator.scale(decision.service, decision.to_instances, decision.created_at, order_id)
    except Exception as exc:  # recorded as a failed order with its alert once the database is back
        return DeferredOrder(decision, replace(sent, error=f"{type(exc).__name__}: {exc}",
                                               refused=is_refusal(exc)))
    return DeferredOrder(decision, sent)


def record_deferred(session: Session, executor: Executor, order: DeferredOrder, actor: Actor):
    """Write the decision row, audit entry and order row of a decision made during the outage."""
    if order.sent is None:
        return executor.submit(session, order.decision, actor)
    return executor.record_sent(session, order.decision, actor, order.sent)


def deferred_unit(executor: Executor, decisions: list[ScaleDecision], actor: Actor):
    """Order ``decisions`` now and return the unit of work that records them later.

    The unit sends nothing, so replaying it (e.g. after a commit whose answer was lost) orders
    nothing twice; it records each order once.
    """
    orders = [order_now(executor, d) for d in decisions]
    return lambda session: [record_deferred(session, executor, o, actor) for o in orders]
