"""Journeys in headless Chromium: sign in per role, navigation, forged callback (the live page:
tests/browser/test_live_ui.py)."""

from __future__ import annotations

import pytest

from engine.security.permissions import Role
from tests.browser.conftest import browser_login, nav_links

pytestmark = pytest.mark.browser

EXPECTED_NAV = {
    Role.SCALABILITY_VIEWER: {"/", "/live", "/alerts", "/scaling"},
    Role.WEDDING_COORDINATOR: {"/", "/live", "/alerts", "/scaling", "/weddings", "/forecast", "/season"},
    Role.SCALABILITY_OPERATOR: {"/", "/live", "/alerts", "/scaling", "/weddings", "/forecast", "/season"},
    Role.SCALABILITY_ADMIN: {"/", "/live", "/alerts", "/scaling", "/weddings", "/forecast", "/season",
                             "/audit", "/users", "/health", "/notifications", "/backups", "/security"},
}

@pytest.mark.parametrize("role", list(EXPECTED_NAV), ids=lambda r: r.label)
def test_each_role_signs_in_and_sees_its_navigation(served, engine, role):
    browser_login(served, engine, role)
    assert nav_links(served) == EXPECTED_NAV[role]
    assert served.find_element("#nav-role").text == role.label


FORGE_JS = """
const done = arguments[arguments.length - 1];
fetch('/_dash-update-component', {method: 'POST', credentials: 'same-origin',
  headers: {'Content-Type': 'application/json'},
  body: JSON.stringify({output: 'audit-chain.children',
                        outputs: {id: 'audit-chain', property: 'children'},
                        inputs: [{id: 'audit-verify', property: 'n_clicks', value: 1}],
                        changedPropIds: ['audit-verify.n_clicks'], state: []})})
  .then(r => done(r.status)).catch(e => done(String(e)));
"""


def test_viewer_forging_an_admin_callback_gets_403(served, engine):
    browser_login(served, engine, Role.SCALABILITY_VIEWER)
    assert served.driver.execute_async_script(FORGE_JS) == 403


def test_admin_callback_works_for_an_admin(served, engine):
    browser_login(served, engine, Role.SCALABILITY_ADMIN)
    assert served.driver.execute_async_script(FORGE_JS) == 200


def test_pages_load_under_the_content_security_policy_without_violations(served, engine):
    browser_login(served, engine, Role.SCALABILITY_ADMIN)
    for path in ("/", "/live", "/alerts", "/scaling", "/weddings", "/forecast", "/season", "/audit", "/users",
                 "/health", "/notifications", "/backups", "/security"):
        served.driver.get(served.server.url + path)
        served.wait_for_element("#page-content > *", timeout=20)
    severe = [entry["message"] for entry in served.driver.get_log("browser")
              if entry["level"] == "SEVERE" and "Content Security Policy" in entry["message"]]
    assert severe == []
