"""Break-glass: an operator takes emergency rights for a bounded time with a written reason.

Taking rights is audited and raises a critical security alert for admins at once; the
rights end by themselves at ``expires_at``, or earlier when an admin revokes them. While a
grant is active, ``permissions_for(role, breakglass=True)`` adds emergency scaling and large
approvals; every action is audited with the actor as usual, and the grant is in the audit
details of the take and revoke rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound
from engine.security.audit import Actor, AuditLog
from engine.storage.models import BreakGlassGrant, User

MAX_MINUTES = 60


def active_grant(session: Session, user_id: int, now: datetime) -> BreakGlassGrant | None:
    """Return the user's grant in force at ``now``, or None."""
    return session.scalar(select(BreakGlassGrant).where(
        BreakGlassGrant.user_id == user_id, BreakGlassGrant.revoked_at.is_(None),
        BreakGlassGrant.started_at <= now, BreakGlassGrant.expires_at > now))


class BreakGlass:
    """Take and revoke emergency grants (audited, alerting)."""

    def __init__(self, audit: AuditLog, alerts):
        self.audit = audit
        self.alerts = alerts

    def take(self, session: Session, user: User, minutes, reason: str, actor: Actor,
             now: datetime) -> BreakGlassGrant:
        """Grant ``user`` emergency rights for ``minutes`` (1–60); raise a security alert."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("a written reason is required to take break-glass rights", {"field": "reason"})
        if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not 1 <= minutes <= MAX_MINUTES:
            raise InvalidInput(f"minutes must be between 1 and {MAX_MINUTES}", {"field": "minutes"})
        if active_grant(session, user.id, now) is not None:
            raise Conflict("you already hold break-glass rights")
        grant = BreakGlassGrant(user_id=user.id, reason=reason.strip()[:2000], started_at=now,
                                expires_at=now + timedelta(minutes=float(minutes)))
        session.add(grant)
        session.flush()
        self.audit.record(session, now=now, actor=actor, action="breakglass.take", outcome="ok",
                          target=user.username, reason=grant.reason,
                          details={"grant": grant.id, "expires_at": grant.expires_at.isoformat()})
        self.alerts.raise_security_alert(
            session, f"breakglass:{grant.id}",
            f"{user.username} took break-glass rights until {grant.expires_at:%H:%M} UTC: {grant.reason}", now)
        return grant

    def revoke(self, session: Session, grant_id: int, actor: Actor, now: datetime) -> BreakGlassGrant:
        """End a grant early (admins); audited."""
        grant = session.get(BreakGlassGrant, grant_id)
        if grant is None:
            raise NotFound(f"no break-glass grant with id {grant_id}")
        if grant.revoked_at is not None or grant.expires_at <= now:
            raise Conflict(f"grant {grant_id} is no longer active")
        grant.revoked_at, grant.revoked_by = now, actor.name
        self.audit.record(session, now=now, actor=actor, action="breakglass.revoke", outcome="ok",
                          target=f"grant:{grant_id}", details={"grant": grant_id})
        return grant


def active_grants(session: Session, now: datetime) -> list[tuple[BreakGlassGrant, str]]:
    """Return every grant in force at ``now`` with its holder's user name, newest first."""
    rows = session.execute(
        select(BreakGlassGrant, User.username).join(User, User.id == BreakGlassGrant.user_id)
        .where(BreakGlassGrant.revoked_at.is_(None), BreakGlassGrant.started_at <= now,
               BreakGlassGrant.expires_at > now)
        .order_by(BreakGlassGrant.id.desc())).all()
    return [(grant, name) for grant, name in rows]
