"""Forecasts in the browser: a coordinator opens a wedding's forecast from the calendar; a viewer
cannot edit weddings (no page, no controls, forged callback and API refused)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from engine.security.permissions import Role
from engine.storage.models import ForecastRow, WeddingRow
from tests.browser.conftest import REDRAWN, browser_login, nav_links
from tests.integration.test_forecasts import _next_wedding, db_url, forecast_template, ready  # noqa: F401

pytestmark = pytest.mark.browser

BAND_TRACES_JS = ("const g = document.querySelector('#forecast-bands .js-plotly-plot');"
                  "return g && g.data ? g.data.filter(t => t.name === 'forecast p50').length : -1;")


def test_coordinator_opens_a_wedding_forecast(served, ready):
    wedding = _next_wedding(ready)
    browser_login(served, ready, Role.WEDDING_COORDINATOR)
    assert {"/weddings", "/forecast", "/season"} <= nav_links(served)
    served.driver.get(served.server.url + "/weddings")
    served.wait_for_element(f"#wedding-forecast-{wedding.id}", timeout=20).click()
    WebDriverWait(served.driver, 30, ignored_exceptions=REDRAWN).until(
        lambda d: wedding.name in d.find_element(By.ID, "forecast-title").text)
    # one p50 line per service, the pre-scale timeline and the accuracy table are on the page
    WebDriverWait(served.driver, 20, ignored_exceptions=REDRAWN).until(
        lambda d: d.execute_script(BAND_TRACES_JS) == len(ready.service_names()))
    assert served.find_element("#forecast-timeline").text.count("preparation") >= 1
    assert served.find_element("#forecast-accuracy")
    assert served.find_element("#forecast-wedding").get_attribute("value") == str(wedding.id)
    with ready.db.session() as session:
        stored = session.query(ForecastRow).filter_by(wedding_id=wedding.id).count()
    assert stored >= 1


FORGE_JS = """
const [body, done] = [arguments[0], arguments[arguments.length - 1]];
fetch('/_dash-update-component', {method: 'POST', credentials: 'same-origin',
  headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
  .then(r => done(r.status)).catch(e => done(String(e)));
"""


def _forged_save(app) -> dict:
    """A complete, well-formed "Save" callback request for a new wedding, as the page would send."""
    key, spec = next((k, v) for k, v in app.callback_map.items() if "weddings-feedback.children" in k)
    values = {"wedding-save.n_clicks": 1, "wedding-edit-pick.value": "new", "wedding-name.value": "Forged",
              "wedding-date.value": "2026-07-01", "wedding-zone.value": "UTC", "wedding-ceremony.value": "14:00",
              "wedding-reception-start.value": "15:00", "wedding-reception-end.value": "20:00",
              "wedding-guests.value": 50}
    outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]}
               for o in (x.split("@")[0] for x in key.strip(".").split("..."))]
    return {"output": key, "outputs": outputs, "changedPropIds": ["wedding-save.n_clicks"],
            "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in spec["inputs"]],
            "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in spec["state"]]}


API_JS = """
const done = arguments[arguments.length - 1];
fetch('/api/scalability/weddings', {method: 'POST', credentials: 'same-origin',
  headers: {'Content-Type': 'application/json'},
  body: JSON.stringify({name: 'Forged', date: '2026-07-01', timezone: 'UTC', ceremonyStart: '14:00',
                        receptionStart: '15:00', receptionEnd: '20:00', guestCount: 50})})
  .then(r => done(r.status)).catch(e => done(String(e)));
"""


def test_viewer_cannot_edit_weddings(served, app, engine):
    browser_login(served, engine, Role.SCALABILITY_VIEWER)
    assert not {"/weddings", "/forecast", "/season"} & nav_links(served)
    served.driver.get(served.server.url + "/weddings")
    WebDriverWait(served.driver, 20, ignored_exceptions=REDRAWN).until(lambda d: "not allow" in d.page_source)
    assert served.driver.find_elements(By.ID, "weddings-controls") == []
    assert served.driver.find_elements(By.ID, "wedding-save") == []
    served.driver.get(served.server.url + "/")
    served.wait_for_element("#main-nav", timeout=20)
    assert served.driver.execute_async_script(FORGE_JS, _forged_save(app)) == 403
    assert served.driver.execute_async_script(API_JS) == 403
    with engine.db.session() as session:
        assert session.query(WeddingRow).count() == 0
