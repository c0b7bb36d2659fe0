"""The wedding calendar: list, create, update, cancel."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from app.access import actor_of, require
from app.api import bp, schemas
from app.api.docs import documented
from app.api.params import flag, json_body
from engine.errors import InvalidInput
from engine.security.permissions import Permission
from engine.storage.models import WeddingRow
from engine.wedding_book import WeddingInput, wedding_json

FIELDS = {"name": "name", "date": "date", "timezone": "timezone", "ceremonyStart": "ceremony_start",
          "receptionStart": "reception_start", "receptionEnd": "reception_end",
          "guestCount": "guest_count", "services": "services", "priority": "priority"}
REQUIRED = ("name", "date", "timezone", "ceremonyStart", "receptionStart", "receptionEnd", "guestCount")


def _engine():
    return current_app.extensions["wedscale"]


def _input_from(body: dict) -> WeddingInput:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", {"field": unknown[0]})
    missing = [f for f in REQUIRED if f not in body]
    if missing:
        raise InvalidInput(f"missing field(s): {', '.join(missing)}", {"field": missing[0]})
    for name in ("name", "date", "timezone", "ceremonyStart", "receptionStart", "receptionEnd"):
        if not isinstance(body[name], str):
            raise InvalidInput(f"{name} must be text", {"field": name})
    services = body.get("services", [])
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        raise InvalidInput("services must be a list of names", {"field": "services"})
    if not isinstance(body.get("priority", False), bool):
        raise InvalidInput("priority must be true or false", {"field": "priority"})
    return WeddingInput(name=body["name"], date=body["date"], timezone=body["timezone"],
                        ceremony_start=body["ceremonyStart"], reception_start=body["receptionStart"],
                        reception_end=body["receptionEnd"], guest_count=body["guestCount"],
                        services=tuple(services), priority=body.get("priority", False))


def _day_param(name: str, default: datetime) -> datetime:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=timezone.utc)
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2026-06-13", {"parameter": name}) from None


@bp.get("/scalability/weddings")
@documented(Permission.WEDDINGS_READ, query=schemas.WeddingsQuerySchema,
            responses={200: schemas.WeddingListSchema})
def list_weddings():
    """Weddings whose ceremony falls in ``[from, to)`` (default: the next 60 days)."""
    require(Permission.WEDDINGS_READ)
    engine = _engine()
    now = engine.clock.now()
    start, end = _day_param("from", now - timedelta(days=1)), _day_param("to", now + timedelta(days=60))
    with engine.db.session() as session:
        query = select(WeddingRow).where(WeddingRow.ceremony_start >= start, WeddingRow.ceremony_start < end)
        if not flag("includeCancelled"):
            query = query.where(WeddingRow.cancelled.is_(False))
        rows = session.execute(query.order_by(WeddingRow.ceremony_start).limit(2000)).scalars()
        return jsonify({"weddings": [wedding_json(r) for r in rows]})


@bp.post("/scalability/weddings")
@documented(Permission.WEDDINGS_WRITE, body=schemas.WeddingBodySchema,
            responses={201: schemas.WeddingSchema})
def create_wedding():
    """Add a wedding (local times in the venue's zone)."""
    require(Permission.WEDDINGS_WRITE)
    data = _input_from(json_body())
    engine = _engine()
    with engine.db.session() as session:
        row = engine.weddings.create(session, data, actor_of(current_user), engine.clock.now())
        body = wedding_json(row)
    engine.calendar.invalidate()
    return jsonify(body), 201


@bp.put("/scalability/weddings/<int:wedding_id>")
@documented(Permission.WEDDINGS_WRITE, body=schemas.WeddingBodySchema,
            responses={200: schemas.WeddingSchema})
def update_wedding(wedding_id: int):
    """Replace a wedding's details."""
    require(Permission.WEDDINGS_WRITE)
    data = _input_from(json_body())
    engine = _engine()
    with engine.db.session() as session:
        body = wedding_json(engine.weddings.update(session, wedding_id, data, actor_of(current_user),
                                                   engine.clock.now()))
    engine.calendar.invalidate()
    return jsonify(body)


@bp.delete("/scalability/weddings/<int:wedding_id>")
@documented(Permission.WEDDINGS_WRITE, responses={200: schemas.WeddingSchema})
def cancel_wedding(wedding_id: int):
    """Cancel a wedding (it stays in the history)."""
    require(Permission.WEDDINGS_WRITE)
    engine = _engine()
    with engine.db.session() as session:
        body = wedding_json(engine.weddings.cancel(session, wedding_id, actor_of(current_user),
                                                   engine.clock.now()))
    engine.calendar.invalidate()
    return jsonify(body)
