"""Journeys in headless Chromium: sign in per role, navigation, live graph, forged callback."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from engine.security.permissions import Role
from tests.browser.conftest import browser_login, nav_links

pytestmark = pytest.mark.browser

EXPECTED_NAV = {
    Role.SCALABILITY_VIEWER: {"/", "/live", "/alerts", "/scaling"},
    Role.WEDDING_COORDINATOR: {"/", "/live", "/alerts", "/scaling", "/weddings", "/forecast", "/season"},
    Role.SCALABILITY_OPERATOR: {"/", "/live", "/alerts", "/scaling", "/weddings", "/forecast", "/season"},
    Role.SCALABILITY_ADMIN: {"/", "/live", "/alerts", "/scaling", "/weddings", "/forecast", "/season",
                             "/audit", "/users", "/health"},
}

POINTS_JS = ("const g = document.querySelector('#live-graph .js-plotly-plot');"
             "return g && g.data ? g.data[0].x.length : -1;")
LAST_CPU_JS = ("const g = document.querySelector('#live-graph .js-plotly-plot');"
               "return g && g.data && g.data[0].y.length ? g.data[0].y[g.data[0].y.length - 1] : null;")


@pytest.mark.parametrize("role", list(EXPECTED_NAV), ids=lambda r: r.label)
def test_each_role_signs_in_and_sees_its_navigation(served, engine, role):
    browser_login(served, engine, role)
    assert nav_links(served) == EXPECTED_NAV[role]
    assert served.find_element("#nav-role").text == role.label


def test_live_graph_gains_the_injected_points(served, engine, clock):
    for _ in range(3):
        clock.advance(seconds=5)
        engine.collect_metrics()
    browser_login(served, engine, Role.SCALABILITY_VIEWER)
    served.driver.get(served.server.url + "/live")
    served.wait_for_element("#live-graph .js-plotly-plot", timeout=20)
    WebDriverWait(served.driver, 20).until(lambda d: d.execute_script(POINTS_JS) > 0)
    before = served.driver.execute_script(POINTS_JS)
    clock.advance(seconds=5)
    engine.collect_metrics()
    expected_ts, expected_cpu = (a[-1] for a in engine.store.series("api", "cpu_pct", 0))
    WebDriverWait(served.driver, 20).until(lambda d: d.execute_script(POINTS_JS) > before)
    shown = served.driver.execute_script(LAST_CPU_JS)
    assert shown == pytest.approx(expected_cpu)


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
                 "/health"):
        served.driver.get(served.server.url + path)
        served.wait_for_element("#page-content > *", timeout=20)
    severe = [entry["message"] for entry in served.driver.get_log("browser")
              if entry["level"] == "SEVERE" and "Content Security Policy" in entry["message"]]
    assert severe == []
