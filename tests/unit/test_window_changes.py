"""Which windows bind a user once a window change is applied (the self-lockout check)."""

from __future__ import annotations

import pytest

from engine.security.access_windows import WindowChange, windows_after
from engine.security.time_windows import make_window

OWN = [make_window("Sat-Sun", "09:00", "17:00", "UTC")]
TEAM = [make_window("Mon-Fri", "08:00", "18:00", "UTC")]
NEW = [make_window("Mon", "00:00", "24:00", "UTC")]
ADMIN = "scalability_admin"


@pytest.mark.parametrize("change, own, of_role, expected", [
    (WindowChange("user", "ann", NEW), [], TEAM, ("ann", NEW)),          # her own replaces the role's
    (WindowChange("user", "ann", None), OWN, TEAM, ("admins", TEAM)),    # clearing hers leaves the role's
    (WindowChange("user", "bob", NEW), OWN, TEAM, ("ann", OWN)),         # someone else: no change for her
    (WindowChange("role", ADMIN, NEW), [], TEAM, ("admins", NEW)),
    (WindowChange("role", ADMIN, NEW), OWN, TEAM, ("ann", OWN)),         # her own still wins
    (WindowChange("role", ADMIN, None), [], TEAM, ("admins", [])),       # no window: any time
    (WindowChange("role", "scalability_viewer", NEW), [], TEAM, ("admins", TEAM)),
])
def test_windows_after_a_change(change, own, of_role, expected):
    assert windows_after(change, "ann", ADMIN, own, of_role) == expected
