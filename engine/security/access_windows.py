"""Time-restricted access, stored: set and clear a role's or a user's windows; check a user.

Setting replaces the subject's windows (one shift per subject is the common case; give
several by passing several windows). Changes are audited. The check reads the user's own
windows and, when they have none, their role's.

The check runs on every signed-in request, so the windows are kept in memory: the whole table
(a few rows) is read at most once per ``ttl_s`` of the engine clock. ``set_windows`` and
``clear`` forget the copy at once, again when their transaction commits, so this process sees
its own changes on the next request; other processes (gunicorn workers) see them within
``ttl_s`` (``WEDSCALE_ACCESS_WINDOWS_TTL_S``, 30 s).
"""

from __future__ import annotations

from dataclasses import dataclass
import threading
from datetime import datetime, time, timedelta

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from engine.clock import Clock
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
    """Manage and check time windows over the ``access_windows`` table.

    Parameters
    ----------
    audit : AuditLog
        Where changes are recorded.
    clock : Clock
        The engine clock; ages the in-memory copy of the windows.
    ttl_s : float
        The copy is read again when older than this (0: on every check).
    """

    def __init__(self, audit: AuditLog, clock: Clock, ttl_s: float = 30.0):
        self.audit = audit
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_s)
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[AccessWindow, ...]] = {}
        self._loaded_at: datetime | None = None

    def invalidate(self) -> None:
        """Forget the in-memory windows; the next check reads the table."""
        with self._lock:
            self._loaded_at = None

    def _changed(self, session: Session) -> None:
        # Forget now, and again on commit: a check between the two would read the table
        # before the change is visible and keep that copy for a whole ttl.
        self.invalidate()
        event.listen(session, "after_commit", lambda _session: self.invalidate(), once=True)

    def _current(self, session: Session) -> dict[tuple[str, str], tuple[AccessWindow, ...]]:
        """Return every stored window by (kind, subject), read through ``session`` when stale."""
        now = self._clock.now()
        with self._lock:
            loaded = self._loaded_at
            if loaded is None or now < loaded or now - loaded >= self._ttl:
                by_subject: dict[tuple[str, str], list[AccessWindow]] = {}
                for row in self.list_all(session):
                    by_subject.setdefault((row.subject_kind, row.subject), []).append(window_of(row))
                self._windows = {key: tuple(windows) for key, windows in by_subject.items()}
                self._loaded_at = now
            return self._windows

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
        self._changed(session)
        self.audit.record(session, now=now, actor=actor, action="access_window.set", outcome="ok",
                          target=f"{kind}:{subject}", reason=reason,
                          details={"windows": [describe(w) for w in windows]})
        return rows

    def clear(self, session: Session, kind: str, subject: str, actor: Actor, now: datetime,
              reason: str = "") -> int:
        """Remove every window of the subject (it may then act at any time); audited."""
        n = session.execute(delete(AccessWindowRow).where(AccessWindowRow.subject_kind == kind,
                                                          AccessWindowRow.subject == subject)).rowcount
        self._changed(session)
        self.audit.record(session, now=now, actor=actor, action="access_window.clear", outcome="ok",
                          target=f"{kind}:{subject}", reason=reason, details={"removed": n})
        return n

    @staticmethod
    def list_all(session: Session) -> list[AccessWindowRow]:
        """Return every stored window, roles first, then users, by subject."""
        return list(session.execute(select(AccessWindowRow).order_by(
            AccessWindowRow.subject_kind, AccessWindowRow.subject, AccessWindowRow.id)).scalars())

    def windows_for(self, session: Session, username: str, role: str) -> tuple[str, list[AccessWindow]]:
        """Return (who the windows belong to, the windows) that bind this user."""
        windows = self._current(session)
        own = windows.get((USER, username))
        if own:
            return username, list(own)
        return _people(role), list(windows.get((ROLE, role), ()))

    def check(self, session: Session, username: str, role: str, now: datetime) -> WindowVerdict:
        """Return whether ``username`` (with ``role``) may act at ``now``.

        ``session`` is used only when the in-memory windows are stale; a warm check runs no SQL.
        """
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

