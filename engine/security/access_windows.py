"""Time-restricted access, stored: set and clear a role's or a user's windows; check a user.

Setting replaces the subject's windows (one shift per subject is the common case; give
several by passing several windows). Changes are audited. The check reads the user's own
windows and, when they have none, their role's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.security.audit import Actor, AuditLog
from engine.security.permissions import Role
from engine.security.time_windows import AccessWindow, WindowVerdict, check_windows, describe
from engine.storage.models import AccessWindowRow

ROLE, USER = "role", "user"


def _clock(t: time) -> str:
    return "24:00" if t == time.max else f"{t:%H:%M}"


def window_of(row: AccessWindowRow) -> AccessWindow:
    """Return the pure window of a stored row."""
    def parse(text: str) -> time:
        return time.max if text == "24:00" else time.fromisoformat(text)

    days = frozenset(int(d) for d in row.days.split(",") if d)
    return AccessWindow(days, parse(row.start_time), parse(row.end_time), row.timezone)


def _people(role: str) -> str:
    """"operators" for the operator role: how a refusal names the people a role window binds."""
    return f"{Role(role).label}s" if role in {r.value for r in Role} else role


@dataclass(frozen=True)
class WindowChange:
    """Setting (``windows`` given) or clearing (``windows`` None) the windows of one subject."""

    kind: str
    subject: str
    windows: list[AccessWindow] | None


def windows_after(change: WindowChange, username: str, role: str, own: list[AccessWindow],
                  of_role: list[AccessWindow]) -> tuple[str, list[AccessWindow]]:
    """Return (who, windows) binding ``username`` once ``change`` replaces the stored ones.

    Same rule as ``windows_for``: a user's own windows, when there are any, replace the role's.
    """
    replacement = change.windows or []
    if change.kind == USER and change.subject == username:
        own = replacement
    elif change.kind == ROLE and change.subject == role:
        of_role = replacement
    if own:
        return username, own
    return _people(role), of_role


class AccessWindows:
    """Manage and check time windows over the ``access_windows`` table."""

    def __init__(self, audit: AuditLog):
        self.audit = audit

    def set_windows(self, session: Session, kind: str, subject: str, windows: list[AccessWindow],
                    actor: Actor, now: datetime, reason: str = "") -> list[AccessWindowRow]:
        """Replace the windows of a role (``kind="role"``) or a user (``"user"``); audited.

        ``reason`` goes to the audit row (the console notes there that an admin confirmed
        a change that signs themselves out).
        """
        if kind not in (ROLE, USER):
            raise InvalidInput("kind must be role or user", {"field": "kind"})
        if kind == ROLE:
            subject = Role(subject).value
        session.execute(delete(AccessWindowRow).where(AccessWindowRow.subject_kind == kind,
                                                      AccessWindowRow.subject == subject))
        rows = [AccessWindowRow(subject_kind=kind, subject=subject,
                                days=",".join(str(d) for d in sorted(w.days)),
                                start_time=_clock(w.start), end_time=_clock(w.end),
                                timezone=w.timezone, created_at=now, created_by=actor.name)
                for w in windows]
        session.add_all(rows)
        self.audit.record(session, now=now, actor=actor, action="access_window.set", outcome="ok",
                          target=f"{kind}:{subject}", reason=reason,
                          details={"windows": [describe(w) for w in windows]})
        return rows

    def clear(self, session: Session, kind: str, subject: str, actor: Actor, now: datetime,
              reason: str = "") -> int:
        """Remove every window of the subject (it may then act at any time); audited."""
        n = session.execute(delete(AccessWindowRow).where(AccessWindowRow.subject_kind == kind,
                                                          AccessWindowRow.subject == subject)).rowcount
        self.audit.record(session, now=now, actor=actor, action="access_window.clear", outcome="ok",
                          target=f"{kind}:{subject}", reason=reason, details={"removed": n})
        return n

    @staticmethod
    def list_all(session: Session) -> list[AccessWindowRow]:
        """Return every stored window, roles first, then users, by subject."""
        return list(session.execute(select(AccessWindowRow).order_by(
            AccessWindowRow.subject_kind, AccessWindowRow.subject, AccessWindowRow.id)).scalars())

    @staticmethod
    def windows_for(session: Session, username: str, role: str) -> tuple[str, list[AccessWindow]]:
        """Return (who the windows belong to, the windows) that bind this user."""
        rows = session.execute(select(AccessWindowRow).where(
            AccessWindowRow.subject_kind == USER, AccessWindowRow.subject == username)).scalars().all()
        if rows:
            return username, [window_of(r) for r in rows]
        rows = session.execute(select(AccessWindowRow).where(
            AccessWindowRow.subject_kind == ROLE, AccessWindowRow.subject == role)).scalars().all()
        return _people(role), [window_of(r) for r in rows]

    def check(self, session: Session, username: str, role: str, now: datetime) -> WindowVerdict:
        """Return whether ``username`` (with ``role``) may act at ``now``."""
        who, windows = self.windows_for(session, username, role)
        return check_windows(windows, now, who)

    def windows_after_change(self, session: Session, username: str, role: str,
                             change: WindowChange) -> tuple[str, list[AccessWindow]]:
        """Return (who, windows) that would bind ``username`` once ``change`` is applied.

        Nothing is written: the console asks this before setting or clearing a window, to warn
        an admin who is about to shut themselves out (``check_windows`` on the result).
        """
        own = self._rows(session, USER, username)
        of_role = self._rows(session, ROLE, role)
        return windows_after(change, username, role, own, of_role)

    @staticmethod
    def _rows(session: Session, kind: str, subject: str) -> list[AccessWindow]:
        return [window_of(r) for r in session.execute(select(AccessWindowRow).where(
            AccessWindowRow.subject_kind == kind, AccessWindowRow.subject == subject)).scalars()]

