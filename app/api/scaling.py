"""Scaling: manual actions (with an optional pin), decision history with filters, approvals,
handing a pinned service back to the autoscaler."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, jsonify, request
from flask_login import current_user

from app.access import actor_of, require
from app.api import bp, schemas
from app.api.docs import documented
from app.api.params import csv_list, json_body, number, text_field
from engine.errors import InvalidInput
from engine.scaling.decision import Category, Trigger
from engine.scaling.executor import decision_json
from engine.scaling.manual import ManualRequest
from engine.security.permissions import Permission

MAX_SERVICES = 20
MAX_UNIX_S = 253402300799  # 9999-12-31T23:59:59Z, the last second datetime can hold
STATUSES = ["pending_approval", "executing", "executed", "failed", "rejected", "expired"]


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
    pin = body.get("pin_minutes")
    if pin is not None and (isinstance(pin, bool) or not isinstance(pin, (int, float))):
        raise InvalidInput("pin_minutes must be a number of minutes", {"field": "pin_minutes"})
    engine = _engine()
    rows = engine.request_manual_scale(
        requests, actor_of(current_user),
        may_approve_large=current_user.can(Permission.DECISIONS_APPROVE_LARGE), pin_minutes=pin)
    with engine.db.session() as session:
        return jsonify({"decisions": [decision_json(session.merge(r), engine.executor) for r in rows]}), 201


def _one(name: str, allowed: list[str]) -> str | None:
    values = csv_list(name, allowed, [])
    if len(values) > 1:
        raise InvalidInput(f"{name} takes one value", {"parameter": name})
    return values[0] if values else None


@bp.get("/scalability/decisions")
@documented(Permission.DECISIONS_READ, query=schemas.DecisionsQuerySchema,
            responses={200: schemas.DecisionListSchema})
def list_decisions():
    """Decision history, newest first.

    Filters (each optional, one value): ``service``, ``status``, ``trigger``
    (reactive|predictive|prescale|emergency|manual), ``category`` (auto_approved|
    requires_approval|emergency), ``since`` (Unix seconds); ``limit`` ≤ 500 (100).
    """
    require(Permission.DECISIONS_READ)
    try:
        limit = min(500, max(1, int(request.args.get("limit", 100))))
    except ValueError:
        raise InvalidInput("limit must be a whole number", {"parameter": "limit"}) from None
    engine = _engine()
    since = number("since", None)
    if since is not None and not 0 <= since <= MAX_UNIX_S:
        raise InvalidInput("since must be Unix seconds between 1970 and 9999", {"parameter": "since"})
    filters = {"service": _one("service", engine.service_names()), "status": _one("status", STATUSES),
               "trigger": _one("trigger", [t.value for t in Trigger]),
               "category": _one("category", [c.value for c in Category]),
               "since": None if since is None else datetime.fromtimestamp(since, timezone.utc)}
    with engine.db.session() as session:
        rows = engine.executor.history(session, limit=limit, **filters)
        return jsonify({"decisions": [decision_json(r, engine.executor) for r in rows]})


@bp.delete("/scalability/pins/<service>")
@documented(Permission.SCALE_MANUAL, responses={200: schemas.PinReleaseSchema})
def release_pin(service: str):
    """Hand a pinned service back to the autoscaler."""
    require(Permission.SCALE_MANUAL)
    released = _engine().release_pin(service, actor_of(current_user))
    return jsonify({"service": service, "released": released})


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
        return jsonify(decision_json(row, engine.executor))


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
