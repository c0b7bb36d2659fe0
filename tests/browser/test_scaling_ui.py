"""Scaling in the browser: an operator orders a scale-up through the confirm dialog and sees it
become ready after the provisioning delay; a viewer has no controls; an operator's emergency
order is refused."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from engine.security.permissions import Role
from tests.browser.conftest import REDRAWN, browser_login

pytestmark = pytest.mark.browser


def order(served, action: str, count: str | None, reason: str) -> None:
    Select(served.find_element("#scale-service")).select_by_value("api")
    Select(served.find_element("#scale-action")).select_by_value(action)
    if count is not None:
        served.find_element("#scale-instances").send_keys(count)
    served.find_element("#scale-reason").send_keys(reason)
    served.find_element("#scale-review").click()


def test_operator_scales_up_and_sees_instances_after_the_delay(served, engine, clock):
    browser_login(served, engine, Role.SCALABILITY_OPERATOR)
    served.driver.get(served.server.url + "/scaling")
    ready_before = int(served.wait_for_element("#ready-api", timeout=20).text)
    order(served, "scale_up", None, "ceremony at 15:00")
    served.wait_for_element("#scale-summary-body", timeout=20)
    # The modal fades in; its text reads empty until it is visible.
    summary = WebDriverWait(served.driver, 20, ignored_exceptions=REDRAWN).until(
        lambda d: d.find_element(By.ID, "scale-summary-body").text)
    assert f"api: {ready_before} →" in summary and "Rollback plan" in summary
    assert "autoscaler" in summary  # whether its next cycle would override the change
    served.find_element("#scale-confirm").click()
    served.wait_for_element("#scale-ok", timeout=20)
    assert int(served.find_element("#ready-api").text) == ready_before  # not before the delay
    clock.advance(seconds=engine.services[0].provisioning_delay_s + 1)
    # the table is re-rendered every tick: an element read mid-swap is simply read again
    WebDriverWait(served.driver, 30, ignored_exceptions=REDRAWN).until(
        lambda d: int(d.find_element(By.ID, "ready-api").text) > ready_before)
    with engine.db.session() as session:
        from engine.storage.models import DecisionRow

        row = session.query(DecisionRow).one()
        assert row.actor == "operator" and "ceremony at 15:00" in row.reason


def test_operator_emergency_is_refused_without_break_glass(served, engine):
    browser_login(served, engine, Role.SCALABILITY_OPERATOR)
    served.driver.get(served.server.url + "/scaling")
    served.wait_for_element("#scale-review", timeout=20)
    order(served, "emergency_scale", "20", "spike")
    assert "break-glass" in served.wait_for_element("#scale-error", timeout=20).text


FORGE_JS = """
const done = arguments[arguments.length - 1];
fetch('/_dash-update-component', {method: 'POST', credentials: 'same-origin',
  headers: {'Content-Type': 'application/json'},
  body: JSON.stringify({output: '..scale-modal.is_open...scale-summary.children...scale-feedback.children..',
    outputs: [{id: 'scale-modal', property: 'is_open'}, {id: 'scale-summary', property: 'children'},
              {id: 'scale-feedback', property: 'children'}],
    inputs: [{id: 'scale-review', property: 'n_clicks', value: 1}, {id: 'scale-cancel', property: 'n_clicks', value: null}],
    state: [{id: 'scale-service', property: 'value', value: 'api'}, {id: 'scale-action', property: 'value', value: 'set'},
            {id: 'scale-instances', property: 'value', value: 30}, {id: 'scale-reason', property: 'value', value: 'x'},
            {id: 'scale-pin-minutes', property: 'value', value: 0}],
    changedPropIds: ['scale-review.n_clicks']})})
  .then(r => done(r.status)).catch(e => done(String(e)));
"""


def test_viewer_sees_no_controls_and_a_forged_order_is_403(served, engine):
    browser_login(served, engine, Role.SCALABILITY_VIEWER)
    served.driver.get(served.server.url + "/scaling")
    served.wait_for_element("#ready-api", timeout=20)
    assert served.driver.find_elements(By.ID, "scaling-controls") == []
    assert served.driver.execute_async_script(FORGE_JS) == 403
