"""Scaling: manual actions, decision history, approvals."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user

from app.access import actor_of, require
from app.api import bp, schemas
from app.api.docs import documented
from app.api.params import json_body, text_field
from engine.errors import InvalidInput
from engine.scaling.executor import decision_json
from engine.scaling.manual import ManualRequest
from engine.security.permissions import Permission

MAX_SERVICES = 20


def _engine():
    return current_app.extensions["wedscale"]


def _requests_from(body: dict) -> list[ManualRequest]:
    services = body.get("services")
    if isinstance(services, str):
        services = [s.strip() for s in services.split(",") if s.strip()]
    if not isinstance(services, list) or not services or not all(isinstance(s, str) for s in services):
        raise InvalidInput("services must be a non-empty list of service ids", {"field": "services"})
    if len(services) > MAX_SERVICES:
        raise InvalidInput(f"at most {MAX_SERVICES} services per request", {"field": "services"})
    action, reason = text_field(body, "action"), text_field(body, "reason")
    urgency = text_field(body, "urgency", "medium")
    return [ManualRequest(action=action, service=s, instances=body.get("instances"), reason=reason,
                          urgency=urgency) for s in services]


@bp.post("/scalability/actions/scale")
@documented(Permission.SCALE_MANUAL, body=schemas.ScaleBodySchema,
            responses={201: schemas.DecisionListSchema}, errors=(409,))
def scale_action():
    """Order a manual scaling action on one or more services; returns the decisions created."""
    require(Permission.SCALE_MANUAL)
    body = json_body()
    if body.get("action") == "emergency_scale":
        require(Permission.SCALE_EMERGENCY)
    requests = _requests_from(body)
    rows = _engine().request_manual_scale(
        requests, actor_of(current_user),
        may_approve_large=current_user.can(Permission.DECISIONS_APPROVE_LARGE))
    return jsonify({"decisions": [decision_json(r) for r in rows]}), 201


@bp.get("/scalability/decisions")
@documented(Permission.DECISIONS_READ, query=schemas.DecisionsQuerySchema,
            responses={200: schemas.DecisionListSchema})
def list_decisions():
    """Decision history, newest first (``service``, ``status``, ``limit`` ≤ 500)."""
    require(Permission.DECISIONS_READ)
    try:
        limit = min(500, max(1, int(request.args.get("limit", 100))))
    except ValueError:
        raise InvalidInput("limit must be a whole number", {"parameter": "limit"}) from None
    engine = _engine()
    with engine.db.session() as session:
        rows = engine.executor.history(session, service=request.args.get("service") or None,
                                       status=request.args.get("status") or None, limit=limit)
        return jsonify({"decisions": [decision_json(r) for r in rows]})


def _decide(decision_id: int, approve: bool):
    require(Permission.DECISIONS_APPROVE)
    reason = text_field(json_body(), "reason")
    engine = _engine()
    with engine.db.session() as session:
        if approve:
            row = engine.executor.approve(
                session, decision_id, actor_of(current_user), reason, engine.clock.now(),
                may_approve_large=current_user.can(Permission.DECISIONS_APPROVE_LARGE))
        else:
            row = engine.executor.reject(session, decision_id, actor_of(current_user), reason,
                                         engine.clock.now())
        return jsonify(decision_json(row))


@bp.post("/scalability/decisions/<int:decision_id>/approve")
@documented(Permission.DECISIONS_APPROVE, body=schemas.ReasonBodySchema,
            responses={200: schemas.DecisionSchema}, errors=(409,))
def approve_decision(decision_id: int):
    """Approve a decision waiting for approval (large ones need an admin)."""
    return _decide(decision_id, approve=True)


@bp.post("/scalability/decisions/<int:decision_id>/reject")
@documented(Permission.DECISIONS_APPROVE, body=schemas.ReasonBodySchema,
            responses={200: schemas.DecisionSchema}, errors=(409,))
def reject_decision(decision_id: int):
    """Reject a decision waiting for approval."""
    return _decide(decision_id, approve=False)
