"""Break-glass grants: operators take emergency rights; admins revoke them."""

from __future__ import annotations

from flask import current_app, jsonify
from flask_login import current_user

from app.access import actor_of, require
from app.api import bp, schemas
from app.api.docs import documented
from app.api.params import json_body
from engine.security.permissions import Permission
from engine.storage.models import User


def grant_json(grant) -> dict:
    """Return the API shape of a grant."""
    return {"id": grant.id, "reason": grant.reason, "startedAt": grant.started_at.isoformat(),
            "expiresAt": grant.expires_at.isoformat(),
            "revokedAt": grant.revoked_at.isoformat() if grant.revoked_at else None,
            "revokedBy": grant.revoked_by}


def take_breakglass(minutes, reason):
    """Take emergency rights for the current user; return the grant (shared with the page)."""
    engine = current_app.extensions["wedscale"]
    with engine.db.session() as session:
        user = session.get(User, current_user.user_id)
        return engine.breakglass.take(session, user, minutes, reason, actor_of(current_user),
                                      engine.clock.now())


@bp.post("/scalability/breakglass")
@documented(Permission.BREAKGLASS_TAKE, body=schemas.BreakglassBodySchema,
            responses={201: schemas.GrantSchema}, errors=(409,))
def take():
    """Take emergency rights: ``{minutes (1–60, default 60), reason}``."""
    require(Permission.BREAKGLASS_TAKE)
    body = json_body()
    grant = take_breakglass(body.get("minutes", 60), body.get("reason", ""))
    return jsonify(grant_json(grant)), 201


@bp.delete("/scalability/breakglass/<int:grant_id>")
@documented(Permission.USERS_ADMIN, responses={200: schemas.GrantSchema}, errors=(409,))
def revoke(grant_id: int):
    """End a grant early (admins)."""
    require(Permission.USERS_ADMIN)
    engine = current_app.extensions["wedscale"]
    with engine.db.session() as session:
        grant = engine.breakglass.revoke(session, grant_id, actor_of(current_user), engine.clock.now())
        return jsonify(grant_json(grant))
