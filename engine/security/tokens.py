"""API bearer tokens: issued once, stored as SHA-256, optionally scoped and expiring.

Tokens are 256-bit random strings, so a plain SHA-256 is enough to store them safely
(a slow password hash buys nothing against a key that cannot be guessed).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import InvalidInput, NotFound
from engine.security.audit import Actor, AuditLog
from engine.security.permissions import Permission, parse_permission
from engine.storage.models import ApiToken, User

TOKEN_PREFIX = "wst_"
# ``last_used_at`` is refreshed at most this often: a write (and a SQLite commit) on every
# request made each metric push wait for the disk; "last used" to the minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenPrincipal:
    """A user authenticated by token, with the token's scopes (empty = no narrowing)."""

    user: User
    token_id: int
    scopes: frozenset[Permission]


class Tokens:
    """Issue, list, revoke and authenticate API tokens."""

    def __init__(self, audit: AuditLog, clock: Clock):
        self.audit = audit
        self.clock = clock

    def create(self, session: Session, user: User, scopes: list[str], expires_days: int | None,
               actor: Actor) -> tuple[ApiToken, str]:
        """Issue a token for ``user``; return the row and the token text (shown once)."""
        parsed = sorted({parse_permission(s) for s in scopes}, key=lambda p: p.value)
        if expires_days is not None and expires_days <= 0:
            raise InvalidInput("--expires-days must be a positive number of days")
        now = self.clock.now()
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(user_id=user.id, token_hash=_digest(token),
                       scopes=" ".join(p.value for p in parsed), created_at=now,
                       expires_at=now + timedelta(days=expires_days) if expires_days else None)
        session.add(row)
        session.flush()
        self.audit.record(session, now=now, actor=actor, action="token.create", outcome="ok",
                          target=f"token:{row.id}", details={"user": user.username,
                                                             "scopes": row.scopes})
        return row, token

    @staticmethod
    def list(session: Session, user: User | None = None) -> list[tuple[ApiToken, str]]:
        """Return ``(token row, user name)`` pairs, oldest first, optionally for one user."""
        query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
        if user is not None:
            query = query.where(ApiToken.user_id == user.id)
        return [(t, name) for t, name in session.execute(query.order_by(ApiToken.id))]

    def revoke(self, session: Session, token_id: int, actor: Actor) -> ApiToken:
        """Revoke a token by id (audited); raises NotFound."""
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"no token with id {token_id}")
        now = self.clock.now()
        if row.revoked_at is None:
            row.revoked_at = now
        self.audit.record(session, now=now, actor=actor, action="token.revoke", outcome="ok",
                          target=f"token:{token_id}")
        return row

    def authenticate(self, session: Session, token: str) -> TokenPrincipal | None:
        """Return the principal of a valid token, or None (unknown, revoked, expired, disabled)."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
        now = self.clock.now()
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and row.expires_at <= now:
            return None
        user = session.get(User, row.user_id)
        if user is None or user.disabled:
            return None
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            row.last_used_at = now
        scopes = frozenset(Permission(s) for s in row.scopes.split())
        return TokenPrincipal(user, row.id, scopes)
