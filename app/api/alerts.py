"""Alerts: list with history, acknowledge, silence."""

from __future__ import annotations

from flask import current_app, jsonify
from flask_login import current_user

from app.access import actor_of, require
from app.api import bp, schemas
from app.api.docs import documented
from app.api.params import flag, json_body, text_field
from engine.detect.alert_service import alert_json
from engine.security.permissions import Permission


def _engine():
    return current_app.extensions["wedscale"]


@bp.get("/scalability/alerts")
@documented(Permission.ALERTS_READ, query=schemas.AlertsQuerySchema,
            responses={200: schemas.AlertListSchema})
def list_alerts():
    """Alerts (open first, newest first), each with its transitions when ``history=true``."""
    require(Permission.ALERTS_READ)
    engine = _engine()
    with engine.db.session() as session:
        rows = engine.alerts.list_alerts(session, open_only=flag("open"))
        out = []
        for row in rows:
            item = alert_json(row)
            if flag("history"):
                item["history"] = [{"ts": e.ts.isoformat(), "from": e.from_state, "to": e.to_state,
                                    "actor": e.actor, "note": e.note}
                                   for e in engine.alerts.history(session, row.id)]
            out.append(item)
    return jsonify({"alerts": out})


@bp.post("/scalability/alerts/<int:alert_id>/ack")
@documented(Permission.ALERTS_ACT, body=schemas.AckBodySchema, responses={200: schemas.AlertSchema},
            errors=(409,))
def acknowledge_alert(alert_id: int):
    """Acknowledge an open alert with an optional note."""
    require(Permission.ALERTS_ACT)
    note = text_field(json_body(), "note")
    engine = _engine()
    with engine.db.session() as session:
        row = engine.alerts.acknowledge(session, alert_id, actor_of(current_user), note,
                                        engine.clock.now())
        return jsonify(alert_json(row))


@bp.post("/scalability/alerts/<int:alert_id>/silence")
@documented(Permission.ALERTS_ACT, body=schemas.SilenceBodySchema, responses={200: schemas.AlertSchema},
            errors=(409,))
def silence_alert(alert_id: int):
    """Silence an open alert for ``minutes`` with a ``reason``."""
    require(Permission.ALERTS_ACT)
    body = json_body()
    reason = text_field(body, "reason")
    engine = _engine()
    with engine.db.session() as session:
        row = engine.alerts.silence(session, alert_id, actor_of(current_user), body.get("minutes"),
                                    reason, engine.clock.now())
        return jsonify(alert_json(row))
