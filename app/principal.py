"""The signed-in principal as Flask-Login sees it: a user (by session or token) and its rights."""

from __future__ import annotations

from dataclasses import dataclass

from flask_login import AnonymousUserMixin

from engine.security.permissions import Permission, Role, permissions_for


@dataclass
class Principal:
    """A user acting through a browser session (``session_id``) or an API token (``token_id``)."""

    user_id: int
    username: str
    role: Role
    session_id: str | None = None
    token_id: int | None = None
    scopes: frozenset[Permission] = frozenset()
    breakglass: bool = False
    breakglass_grant: int | None = None

    # Flask-Login protocol -------------------------------------------------------------
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        # The cookie carries the server-side session id, not the user id, so signing out
        # (revoking that id) makes a replayed cookie worthless.
        return self.session_id or ""

    @property
    def permissions(self) -> frozenset[Permission]:
        """The role's permissions, narrowed to the token's scopes when it has any."""
        granted = permissions_for(self.role, breakglass=self.breakglass)
        return granted & self.scopes if self.scopes else granted

    def can(self, permission: Permission) -> bool:
        """True when this principal holds ``permission``."""
        return permission in self.permissions


class Anonymous(AnonymousUserMixin):
    """Nobody signed in: holds no permission."""

    username = "anonymous"
    role = None
    permissions: frozenset[Permission] = frozenset()

    def can(self, permission: Permission) -> bool:
        """Always False."""
        return False
