"""User accounts and browser sessions: create, sign in, role changes, disable, sign out.

Each state change is audited in the same transaction as the change itself.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import Conflict, InvalidInput, NotFound
from engine.security.audit import Actor, AuditLog
from engine.security.lockout import lock_until, should_lock
from engine.security.passwords import MIN_PASSWORD_LENGTH, Passwords
from engine.security.permissions import Role, parse_role
from engine.storage.models import LoginAttempt, User, UserSession

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Writing last_seen on every request would turn each page view into a write; a minute of
# slack on a 30-minute idle limit is harmless.
LAST_SEEN_GRANULARITY = timedelta(seconds=60)


@dataclass(frozen=True)
class SignInResult:
    """Outcome of a sign-in attempt: the user on success, else a message safe to show."""

    user: User | None
    message: str = ""
    locked: bool = False


def _revoke_all(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


class Accounts:
    """User management and session lifecycle over the users/user_sessions tables."""

    def __init__(self, audit: AuditLog, clock: Clock, idle_minutes: int = 30,
                 passwords: Passwords | None = None):
        self.audit = audit
        self.clock = clock
        self.idle = timedelta(minutes=idle_minutes)
        self.passwords = passwords or Passwords()

    # --- users -------------------------------------------------------------------------
    def create_user(self, session: Session, username: str, password: str, role: Role | str,
                    actor: Actor) -> User:
        """Create a user; raises InvalidInput for a bad name/password, Conflict if it exists."""
        role = parse_role(role) if isinstance(role, str) else role
        if not USERNAME_RE.match(username or ""):
            raise InvalidInput("user name must be 1-64 letters, digits, '.', '_' or '-'")
        if len(password or "") < MIN_PASSWORD_LENGTH:
            raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
        if self.find(session, username) is not None:
            raise Conflict(f"user {username!r} already exists")
        now = self.clock.now()
        user = User(username=username, password_hash=self.passwords.hash(password), role=role.value,
                    disabled=False, session_version=1, created_at=now)
        session.add(user)
        session.flush()
        self.audit.record(session, now=now, actor=actor, action="user.create", outcome="ok",
                          target=username, details={"role": role.value})
        return user

    @staticmethod
    def find(session: Session, username: str) -> User | None:
        """Return the user named ``username`` or None."""
        return session.scalar(select(User).where(User.username == username))

    def get(self, session: Session, username: str) -> User:
        """Return the user named ``username``; raises NotFound."""
        user = self.find(session, username)
        if user is None:
            raise NotFound(f"no user named {username!r}")
        return user

    @staticmethod
    def list_users(session: Session) -> list[User]:
        """Return every user ordered by name."""
        return list(session.execute(select(User).order_by(User.username)).scalars())

    def set_role(self, session: Session, username: str, role: Role | str, actor: Actor) -> User:
        """Change a user's role and end all their sessions (audited)."""
        role = parse_role(role) if isinstance(role, str) else role
        user = self.get(session, username)
        old = user.role
        now = self.clock.now()
        user.role = role.value
        user.session_version += 1
        _revoke_all(session, user.id, now)
        self.audit.record(session, now=now, actor=actor, action="user.set_role", outcome="ok",
                          target=username, details={"from": old, "to": role.value})
        return user

    def set_disabled(self, session: Session, username: str, disabled: bool, actor: Actor) -> User:
        """Disable (ending all sessions) or re-enable a user (audited)."""
        user = self.get(session, username)
        now = self.clock.now()
        user.disabled = disabled
        if disabled:
            user.session_version += 1
            _revoke_all(session, user.id, now)
        self.audit.record(session, now=now, actor=actor,
                          action="user.disable" if disabled else "user.enable",
                          outcome="ok", target=username)
        return user

    # --- sign in / out -----------------------------------------------------------------
    def sign_in(self, session: Session, username: str, password: str, source_ip: str) -> SignInResult:
        """Check a password, apply the lockout rule and audit the attempt.

        The message for a wrong name and a wrong password is the same, so the form does not
        reveal which users exist.
        """
        now = self.clock.now()
        user = self.find(session, username)
        who = Actor(username[:64] or "?", user.role if user else "", source_ip)
        if user is not None and user.locked_until and user.locked_until > now:
            self.audit.record(session, now=now, actor=who, action="login", outcome="locked",
                              target=username)
            until = user.locked_until.strftime("%H:%M UTC")
            return SignInResult(None, f"Too many failed sign-ins: this account is locked until {until}.",
                                locked=True)
        ok = self.passwords.check(user.password_hash if user else None, password)
        if user is not None and user.disabled:
            ok = False
        session.add(LoginAttempt(username=username[:64], ts=now, ok=ok, source_ip=source_ip))
        if ok:
            user.last_login_at = now
            user.locked_until = None
            self.audit.record(session, now=now, actor=who, action="login", outcome="ok", target=username)
            return SignInResult(user)
        self.audit.record(session, now=now, actor=who, action="login", outcome="failed", target=username)
        if user is not None and self._should_lock(session, user, now):
            user.locked_until = lock_until(now)
            self.audit.record(session, now=now, actor=who, action="user.lock", outcome="ok",
                              target=username, reason="5 failed sign-ins within 15 minutes")
        return SignInResult(None, "Wrong user name or password.")

    @staticmethod
    def _should_lock(session: Session, user: User, now: datetime) -> bool:
        session.flush()
        failures = session.scalars(
            select(LoginAttempt.ts).where(LoginAttempt.username == user.username,
                                          LoginAttempt.ok.is_(False),
                                          LoginAttempt.ts > now - timedelta(minutes=15))
        ).all()
        return should_lock(failures, now, user.last_login_at)

    def open_session(self, session: Session, user: User, source_ip: str) -> str:
        """Create a server-side session record for ``user`` and return its id."""
        now = self.clock.now()
        sid = secrets.token_urlsafe(32)
        session.add(UserSession(id=sid, user_id=user.id, session_version=user.session_version,
                                created_at=now, last_seen_at=now, source_ip=source_ip))
        return sid

    def load_session(self, session: Session, sid: str) -> User | None:
        """Return the user of a live session, or None when revoked, stale, idle or disabled."""
        record = session.get(UserSession, sid)
        if record is None or record.revoked_at is not None:
            return None
        user = session.get(User, record.user_id)
        now = self.clock.now()
        if user is None or user.disabled or user.session_version != record.session_version:
            return None
        if now - record.last_seen_at > self.idle:
            record.revoked_at = now
            return None
        if now - record.last_seen_at > LAST_SEEN_GRANULARITY:
            record.last_seen_at = now
        return user

    def close_session(self, session: Session, sid: str, actor: Actor) -> None:
        """Revoke one session (sign-out) and audit it; unknown ids are ignored."""
        record = session.get(UserSession, sid)
        if record is None or record.revoked_at is not None:
            return
        now = self.clock.now()
        record.revoked_at = now
        self.audit.record(session, now=now, actor=actor, action="logout", outcome="ok",
                          target=actor.name)
