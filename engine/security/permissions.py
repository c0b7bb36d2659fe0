"""Roles, permissions and the one table that maps one to the other.

This module encodes DESIGN.md's access matrix. Roles are cumulative in the order
viewer < coordinator < operator < admin. Everything that checks access — pages, Dash
callbacks, API routes, the CLI — asks ``has_permission``; nothing compares role names.
"""

from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    """A user's role; the value is what is stored and what ``--role`` takes."""

    SCALABILITY_VIEWER = "scalability_viewer"
    WEDDING_COORDINATOR = "wedding_coordinator"
    SCALABILITY_OPERATOR = "scalability_operator"
    SCALABILITY_ADMIN = "scalability_admin"

    @property
    def label(self) -> str:
        """Short human name: viewer, coordinator, operator, admin."""
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.SCALABILITY_VIEWER: "viewer",
    Role.WEDDING_COORDINATOR: "coordinator",
    Role.SCALABILITY_OPERATOR: "operator",
    Role.SCALABILITY_ADMIN: "admin",
}


class Permission(str, Enum):
    """A right to read or do one thing; the value is stored and audited."""

    METRICS_READ = "metrics:read"
    ALERTS_READ = "alerts:read"
    DECISIONS_READ = "decisions:read"
    WEDDINGS_READ = "weddings:read"
    FORECASTS_READ = "forecasts:read"
    WEDDINGS_WRITE = "weddings:write"
    PRESCALE_REQUEST = "prescale:request"
    ALERTS_ACT = "alerts:act"
    SCALE_MANUAL = "scale:manual"
    DECISIONS_APPROVE = "decisions:approve"
    METRICS_PUSH = "metrics:push"
    SCALE_EMERGENCY = "scale:emergency"
    DECISIONS_APPROVE_LARGE = "decisions:approve_large"
    BREAKGLASS_TAKE = "breakglass:take"
    AUDIT_READ = "audit:read"
    USERS_ADMIN = "users:admin"
    HEALTH_READ = "health:read"
    BACKUPS_ADMIN = "backups:admin"
    SECURITY_READ = "security:read"
    SETTINGS_ADMIN = "settings:admin"


P = Permission

# What each role adds to the role before it (DESIGN.md, "Who uses it").
_ADDED_BY_ROLE: dict[Role, frozenset[Permission]] = {
    Role.SCALABILITY_VIEWER: frozenset({P.METRICS_READ, P.ALERTS_READ, P.DECISIONS_READ}),
    Role.WEDDING_COORDINATOR: frozenset(
        {P.WEDDINGS_READ, P.FORECASTS_READ, P.WEDDINGS_WRITE, P.PRESCALE_REQUEST}
    ),
    Role.SCALABILITY_OPERATOR: frozenset(
        {P.ALERTS_ACT, P.SCALE_MANUAL, P.DECISIONS_APPROVE, P.METRICS_PUSH, P.BREAKGLASS_TAKE}
    ),
    Role.SCALABILITY_ADMIN: frozenset(
        {
            P.SCALE_EMERGENCY,
            P.DECISIONS_APPROVE_LARGE,
            P.AUDIT_READ,
            P.USERS_ADMIN,
            P.HEALTH_READ,
            P.BACKUPS_ADMIN,
            P.SECURITY_READ,
            P.SETTINGS_ADMIN,
        }
    ),
}

ROLE_ORDER: tuple[Role, ...] = (
    Role.SCALABILITY_VIEWER,
    Role.WEDDING_COORDINATOR,
    Role.SCALABILITY_OPERATOR,
    Role.SCALABILITY_ADMIN,
)

# Rights an operator gains only while holding a break-glass grant.
BREAKGLASS_PERMISSIONS: frozenset[Permission] = frozenset(
    {P.SCALE_EMERGENCY, P.DECISIONS_APPROVE_LARGE}
)


def _cumulative() -> dict[Role, frozenset[Permission]]:
    table: dict[Role, frozenset[Permission]] = {}
    granted: frozenset[Permission] = frozenset()
    for role in ROLE_ORDER:
        granted = granted | _ADDED_BY_ROLE[role]
        table[role] = granted
    return table


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = _cumulative()


def permissions_for(role: Role, *, breakglass: bool = False) -> frozenset[Permission]:
    """Return the permissions of ``role``, plus break-glass rights when granted and allowed."""
    granted = ROLE_PERMISSIONS[role]
    if breakglass and Permission.BREAKGLASS_TAKE in granted:
        granted = granted | BREAKGLASS_PERMISSIONS
    return granted


def has_permission(role: Role, permission: Permission, *, breakglass: bool = False) -> bool:
    """True when ``role`` (with an active break-glass grant if ``breakglass``) holds ``permission``."""
    return permission in permissions_for(role, breakglass=breakglass)


def parse_role(text: str) -> Role:
    """Return the Role for a role id or short label; raise ValueError naming the valid ids."""
    for role in Role:
        if text in (role.value, role.label):
            return role
    valid = ", ".join(r.value for r in Role)
    raise ValueError(f"unknown role {text!r}; expected one of: {valid}")


def parse_permission(text: str) -> Permission:
    """Return the Permission for its string value; raise ValueError naming the valid values."""
    try:
        return Permission(text)
    except ValueError:
        valid = ", ".join(p.value for p in Permission)
        raise ValueError(f"unknown permission {text!r}; expected one of: {valid}") from None
