"""An admin sets a user's access hours on the Users page and opens the notification deliveries
from the Admin menu, in Chromium."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from engine.bootstrap import build_engine
from engine.config_model import NotificationConfig, WebhookSpec
from engine.detect.notify import Notification
from engine.security.permissions import Role
from tests.browser.conftest import REDRAWN, browser_login
from tests.conftest import create_user
from tests.fakes import RecordingChannel

pytestmark = pytest.mark.browser

ROW = (By.CSS_SELECTOR, "#deliveries-grid .ag-center-cols-container .ag-row")


@pytest.fixture
def engine(settings, clock):
    """An engine with one failed delivery (#1) to the "ops" webhook, whose URL is a secret."""
    notifications = NotificationConfig(
        webhooks=(WebhookSpec("ops", "all", "https://hooks.example.com/services/T0KEN-s3cret"),),
        group_window_s=30.0, backoff_base_s=10.0, max_attempts=2)
    settings = settings.with_(config=settings.config.__class__(notifications=notifications))
    built = build_engine(settings, clock=clock, channels=[RecordingChannel("ops", failures=2)], notifiers=[])
    with built.db.session() as session:
        built.outbox.enqueue(session, [Notification(5, "api", "cpu_pct", "critical", "firing", "cpu high")],
                             clock.now())
    for wait_s in (31, 11):
        clock.advance(seconds=wait_s)
        built.deliver_notifications()
    yield built
    built.db.dispose()


def wait(served, condition, timeout: int = 20):
    return WebDriverWait(served.driver, timeout, ignored_exceptions=REDRAWN).until(condition)


def test_admin_sets_a_window_and_opens_the_deliveries(served, engine):
    create_user(engine, "operator", Role.SCALABILITY_OPERATOR)
    browser_login(served, engine, Role.SCALABILITY_ADMIN)
    served.driver.get(served.server.url + "/users")
    Select(served.wait_for_element("#windows-subject", timeout=20)).select_by_value("user:operator")
    zone = served.find_element("#windows-zone")
    zone.clear()
    zone.send_keys("Europe/London")
    served.find_element("#windows-set").click()
    assert "operator may now act only Mon–Fri 08:00–18:00 Europe/London" in \
        served.wait_for_element("#windows-ok", timeout=20).text
    listed = served.find_element("#windows-table").text
    assert "operator" in listed and "Mon–Fri 08:00–18:00 Europe/London" in listed

    served.find_element("#nav-admin").click()
    wait(served, EC.element_to_be_clickable((By.ID, "nav-notifications"))).click()
    row = wait(served, EC.visibility_of_element_located(ROW))
    assert "failed" in row.text and "webhook https://hooks.example.com/…" in row.text
    assert "T0KEN" not in served.driver.page_source

    Select(served.find_element("#deliveries-status")).select_by_value("failed")
    wait(served, EC.element_to_be_clickable(ROW)).click()
    served.find_element("#deliveries-retry").click()
    assert "#1 will be attempted again" in served.wait_for_element("#deliveries-ok", timeout=20).text
    severe = [e["message"] for e in served.driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
