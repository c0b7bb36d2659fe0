"""Pins: an operator holds a service at its manual size for N minutes; the autoscaler waits.

A pin ends by itself at ``pinned_until`` or when someone hands the service back to the
autoscaler. While a service is pinned the autoscaler makes no decision for it, except an
emergency (a critical threshold crossed): safety beats a pin. Audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.security.audit import Actor, AuditLog
from engine.storage.models import ScalePinRow

MAX_PIN_MINUTES = 240


class Pins:
    """Pin and release services (``scale_pins`` table)."""

    def __init__(self, audit: AuditLog):
        self.audit = audit

    def pin(self, session: Session, service: str, minutes: float, actor: Actor, reason: str,
            now: datetime) -> ScalePinRow:
        """Pin ``service`` for ``minutes`` (1 … 240), replacing an active pin.

        Raises
        ------
        InvalidInput
            For minutes out of range (field ``pin_minutes``).
        """
        if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) \
                or not 1 <= minutes <= MAX_PIN_MINUTES:
            raise InvalidInput(f"pin_minutes must be between 1 and {MAX_PIN_MINUTES}",
                               {"field": "pin_minutes"})
        for old in self._active(session, now, service):
            old.released_at, old.released_by = now, actor.name
        row = ScalePinRow(service=service, pinned_until=now + timedelta(minutes=minutes), actor=actor.name,
                          reason=reason.strip()[:2000], created_at=now)
        session.add(row)
        session.flush()
        self.audit.record(session, now=now, actor=actor, action="scale.pin", outcome="ok", target=service,
                          reason=reason, details={"minutes": minutes, "until": row.pinned_until.isoformat()})
        return row

    def release(self, session: Session, service: str, actor: Actor, now: datetime) -> int:
        """Hand ``service`` back to the autoscaler; return how many pins ended (audited)."""
        rows = self._active(session, now, service)
        for row in rows:
            row.released_at, row.released_by = now, actor.name
        self.audit.record(session, now=now, actor=actor, action="scale.unpin", outcome="ok", target=service,
                          reason="handed back to the autoscaler", details={"pins": len(rows)})
        return len(rows)

    def active(self, session: Session, now: datetime) -> dict[str, ScalePinRow]:
        """Return the active pin of each pinned service."""
        return {row.service: row for row in self._active(session, now)}

    @staticmethod
    def _active(session: Session, now: datetime, service: str | None = None) -> list[ScalePinRow]:
        query = select(ScalePinRow).where(ScalePinRow.released_at.is_(None), ScalePinRow.pinned_until > now)
        if service is not None:
            query = query.where(ScalePinRow.service == service)
        return list(session.execute(query.order_by(ScalePinRow.id)).scalars())
