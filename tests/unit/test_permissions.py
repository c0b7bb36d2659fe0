"""The permission table against DESIGN.md's matrix, written out by hand (not derived)."""

import pytest

from engine.security.permissions import (
    Permission,
    Role,
    has_permission,
    parse_permission,
    parse_role,
    permissions_for,
)

V, C, O, A = "viewer", "coordinator", "operator", "admin"
ROLE = {V: Role.SCALABILITY_VIEWER, C: Role.WEDDING_COORDINATOR,
        O: Role.SCALABILITY_OPERATOR, A: Role.SCALABILITY_ADMIN}

# permission value -> the roles that hold it (DESIGN.md, "Who uses it"), typed by hand.
MATRIX = {
    "metrics:read": {V, C, O, A},
    "alerts:read": {V, C, O, A},
    "decisions:read": {V, C, O, A},
    "weddings:read": {C, O, A},
    "forecasts:read": {C, O, A},
    "weddings:write": {C, O, A},
    "prescale:request": {C, O, A},
    "alerts:act": {O, A},
    "scale:manual": {O, A},
    "decisions:approve": {O, A},
    "metrics:push": {O, A},
    "breakglass:take": {O, A},
    "scale:emergency": {A},
    "decisions:approve_large": {A},
    "audit:read": {A},
    "users:admin": {A},
    "health:read": {A},
    "backups:admin": {A},
    "security:read": {A},
    "settings:admin": {A},
}


def test_matrix_names_every_permission():
    assert set(MATRIX) == {p.value for p in Permission}


@pytest.mark.parametrize("permission", sorted(MATRIX))
@pytest.mark.parametrize("role", [V, C, O, A])
def test_role_holds_exactly_the_matrix(role, permission):
    assert has_permission(ROLE[role], Permission(permission)) == (role in MATRIX[permission])


def test_roles_are_cumulative():
    order = [ROLE[r] for r in (V, C, O, A)]
    for lower, higher in zip(order, order[1:]):
        assert permissions_for(lower) < permissions_for(higher)


def test_breakglass_gives_an_operator_emergency_rights_only():
    operator = Role.SCALABILITY_OPERATOR
    assert not has_permission(operator, Permission.SCALE_EMERGENCY)
    assert has_permission(operator, Permission.SCALE_EMERGENCY, breakglass=True)
    assert has_permission(operator, Permission.DECISIONS_APPROVE_LARGE, breakglass=True)
    assert not has_permission(operator, Permission.AUDIT_READ, breakglass=True)
    # A coordinator cannot take break-glass rights, so the flag gives nothing.
    assert not has_permission(Role.WEDDING_COORDINATOR, Permission.SCALE_EMERGENCY, breakglass=True)


def test_parse_role_accepts_ids_and_labels_and_names_the_valid_ones():
    assert parse_role("scalability_admin") is Role.SCALABILITY_ADMIN
    assert parse_role("viewer") is Role.SCALABILITY_VIEWER
    with pytest.raises(ValueError, match="wedding_coordinator"):
        parse_role("root")


def test_parse_permission_rejects_unknown():
    assert parse_permission("metrics:push") is Permission.METRICS_PUSH
    with pytest.raises(ValueError, match="unknown permission"):
        parse_permission("metrics:write")
