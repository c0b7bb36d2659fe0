"""Alerts in the browser: an injected incident's alert is acknowledged by an operator; a viewer
sees it but has no controls, and a forged acknowledgement is refused."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from engine.security.permissions import Role
from tests.browser.conftest import REDRAWN, browser_login
from tests.integration.test_alerts import raise_latency_alert

pytestmark = pytest.mark.browser

ANNOTATIONS_JS = ("const g = document.querySelector('#live-graph .js-plotly-plot');"
                  "return g && g.layout ? (g.layout.annotations || []).map(a => a.text) : [];")


def test_operator_acknowledges_an_incident_alert_in_the_ui(served, engine, clock):
    alert = raise_latency_alert(engine, clock)
    browser_login(served, engine, Role.SCALABILITY_OPERATOR)
    served.driver.get(served.server.url + "/alerts")
    served.wait_for_element(f"#alert-row-{alert.id}", timeout=20)
    Select(served.find_element("#alerts-pick")).select_by_value(str(alert.id))
    served.find_element("#alerts-note").send_keys("on it")
    served.find_element("#alerts-ack").click()
    served.wait_for_element("#alerts-ok", timeout=20)
    WebDriverWait(served.driver, 20, ignored_exceptions=REDRAWN).until(
        lambda d: "acknowledged" in d.find_element(By.ID, f"alert-row-{alert.id}").text)
    with engine.db.session() as session:
        row = session.get(type(alert), alert.id)
        assert (row.state, row.acknowledged_by, row.note) == ("acknowledged", "operator", "on it")
    # The live charts of the service mark the alert with its new state.
    served.driver.get(served.server.url + "/live")
    WebDriverWait(served.driver, 20, ignored_exceptions=REDRAWN).until(lambda d: "⚠ critical (acknowledged)" in d.execute_script(ANNOTATIONS_JS))


FORGE_ACK_JS = """
const done = arguments[arguments.length - 1];
fetch('/api/scalability/alerts/' + arguments[0] + '/ack', {method: 'POST', credentials: 'same-origin',
  headers: {'Content-Type': 'application/json'}, body: JSON.stringify({note: 'forged'})})
  .then(r => done(r.status)).catch(e => done(String(e)));
"""


def test_viewer_sees_the_alert_but_cannot_acknowledge(served, engine, clock):
    alert = raise_latency_alert(engine, clock)
    browser_login(served, engine, Role.SCALABILITY_VIEWER)
    served.driver.get(served.server.url + "/alerts")
    served.wait_for_element(f"#alert-row-{alert.id}", timeout=20)
    assert served.driver.find_elements(By.ID, "alerts-actions") == []
    assert served.driver.execute_async_script(FORGE_ACK_JS, alert.id) == 403
    with engine.db.session() as session:
        assert session.get(type(alert), alert.id).state == "firing"
