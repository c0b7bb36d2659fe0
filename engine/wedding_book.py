"""Editing the wedding calendar: validate, create, update, cancel. Audited.

Times arrive as local wall-clock times in the venue's IANA zone (what a coordinator reads off
the contract) and are stored in UTC. A reception ending before it starts, or at or past
midnight, is taken to end the next day (receptions often run late).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import wedding_of
from engine.errors import InvalidInput, NotFound
from engine.security.audit import Actor, AuditLog
from engine.storage.models import WeddingRow
from engine.weddings import Wedding

MAX_GUESTS = 5000
MAX_NAME = 200


@dataclass(frozen=True)
class WeddingInput:
    """A wedding as a coordinator enters it (local times in ``timezone``)."""

    name: str
    date: str
    timezone: str
    ceremony_start: str
    reception_start: str
    reception_end: str
    guest_count: int
    services: tuple[str, ...] = ()
    priority: bool = False


def _parse_time(field: str, text: str) -> time:
    try:
        return time.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} must be a time like 14:30", {"field": field}) from None


def to_utc_times(data: WeddingInput) -> tuple[datetime, datetime, datetime]:
    """Return (ceremony, reception start, reception end) in UTC; raise InvalidInput naming the field."""
    if not isinstance(data.name, str) or not data.name.strip() or len(data.name) > MAX_NAME:
        raise InvalidInput(f"name must be 1–{MAX_NAME} characters", {"field": "name"})
    try:
        day = date.fromisoformat(data.date)
    except (TypeError, ValueError):
        raise InvalidInput("date must be YYYY-MM-DD", {"field": "date"}) from None
    try:
        zone = ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput(f"unknown time zone {data.timezone!r}", {"field": "timezone"}) from None
    if isinstance(data.guest_count, bool) or not isinstance(data.guest_count, int) \
            or not 1 <= data.guest_count <= MAX_GUESTS:
        raise InvalidInput(f"guest_count must be a whole number from 1 to {MAX_GUESTS}", {"field": "guest_count"})
    ceremony = datetime.combine(day, _parse_time("ceremony_start", data.ceremony_start), zone)
    reception = datetime.combine(day, _parse_time("reception_start", data.reception_start), zone)
    end = datetime.combine(day, _parse_time("reception_end", data.reception_end), zone)
    if reception < ceremony:
        raise InvalidInput("reception_start must not be before ceremony_start", {"field": "reception_start"})
    if end <= reception:
        end += timedelta(days=1)
    utc = ZoneInfo("UTC")
    return ceremony.astimezone(utc), reception.astimezone(utc), end.astimezone(utc)


class WeddingBook:
    """Create, update and cancel weddings (audited).

    Callers refresh the engine's calendar cache after their transaction commits.
    """

    def __init__(self, audit: AuditLog):
        self.audit = audit

    def create(self, session: Session, data: WeddingInput, actor: Actor, now: datetime) -> WeddingRow:
        """Store a new wedding; raise InvalidInput naming the bad field."""
        ceremony, reception, end = to_utc_times(data)
        row = WeddingRow(name=data.name.strip(), timezone=data.timezone, ceremony_start=ceremony,
                         reception_start=reception, reception_end=end, guest_count=data.guest_count,
                         services=";".join(data.services), vendors="", priority=bool(data.priority),
                         cancelled=False, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        self._audit(session, "wedding.create", row, actor, now)
        return row

    def update(self, session: Session, wedding_id: int, data: WeddingInput, actor: Actor,
               now: datetime) -> WeddingRow:
        """Replace a wedding's details."""
        row = self._get(session, wedding_id)
        ceremony, reception, end = to_utc_times(data)
        row.name, row.timezone, row.guest_count = data.name.strip(), data.timezone, data.guest_count
        row.ceremony_start, row.reception_start, row.reception_end = ceremony, reception, end
        row.services, row.priority, row.updated_at = ";".join(data.services), bool(data.priority), now
        self._audit(session, "wedding.update", row, actor, now)
        return row

    def cancel(self, session: Session, wedding_id: int, actor: Actor, now: datetime) -> WeddingRow:
        """Mark a wedding cancelled (kept for history and forecast accuracy)."""
        row = self._get(session, wedding_id)
        row.cancelled, row.updated_at = True, now
        self._audit(session, "wedding.cancel", row, actor, now)
        return row

    @staticmethod
    def _get(session: Session, wedding_id: int) -> WeddingRow:
        row = session.get(WeddingRow, wedding_id)
        if row is None:
            raise NotFound(f"no wedding with id {wedding_id}")
        return row

    def _audit(self, session: Session, action: str, row: WeddingRow, actor: Actor, now: datetime) -> None:
        self.audit.record(session, now=now, actor=actor, action=action, outcome="ok",
                          target=f"wedding:{row.id} {row.name}",
                          details={"ceremony_start": row.ceremony_start.isoformat(),
                                   "guests": row.guest_count, "priority": row.priority})


def wedding_json(row: WeddingRow) -> dict:
    """Return the API shape of a stored wedding (UTC times, venue zone)."""
    return {"id": row.id, "name": row.name, "timezone": row.timezone,
            "ceremonyStart": row.ceremony_start.isoformat(), "receptionStart": row.reception_start.isoformat(),
            "receptionEnd": row.reception_end.isoformat(), "guestCount": row.guest_count,
            "services": [s for s in row.services.split(";") if s], "priority": row.priority,
            "cancelled": row.cancelled}


def stored_weddings(session: Session, *, include_cancelled: bool = False) -> list[Wedding]:
    """Return every stored wedding (cancelled ones too when asked) by ceremony start."""
    query = select(WeddingRow).order_by(WeddingRow.ceremony_start)
    if not include_cancelled:
        query = query.where(WeddingRow.cancelled.is_(False))
    return [wedding_of(r) for r in session.execute(query).scalars()]
