"""Browser fixtures: the real app served by dash[testing] in a thread, signed in through the form."""

from __future__ import annotations

import socket

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By

from engine.security.permissions import Role
from tests.conftest import ROLE_USER, create_user

pytestmark = pytest.mark.browser

# Dash re-renders elements on every tick: a wait must look the element up again, not fail.
REDRAWN = (NoSuchElementException, StaleElementReferenceException)


def browser_login(dash_duo, engine, role: Role) -> None:
    """Open /login in Chromium, type the role's credentials and wait for the console."""
    name = ROLE_USER[role]
    password = create_user(engine, name, role)
    dash_duo.driver.get(dash_duo.server.url + "/login")
    dash_duo.wait_for_element("#username").send_keys(name)
    dash_duo.find_element("#password").send_keys(password)
    dash_duo.find_element("#login-button").click()
    dash_duo.wait_for_element("#main-nav", timeout=20)


def nav_links(dash_duo) -> set[str]:
    """Return the hrefs shown in the navigation bar, the Admin menu's included (opened first)."""
    toggles = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#main-nav .dropdown-toggle")
    for toggle in toggles:
        toggle.click()
    if toggles:
        dash_duo.wait_for_element("#main-nav .dropdown-menu a")
    links = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#main-nav a:not(.dropdown-toggle)")
    return {a.get_attribute("pathname") for a in links}


@pytest.fixture
def served(dash_duo, app):
    """Start the real app on a free port without navigating (the login page is in front)."""
    dash_duo.start_server(app, navigate=False, port=free_port())
    return dash_duo


def free_port() -> int:
    """A loopback port the OS says is free, so parallel test runs never share a server port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
