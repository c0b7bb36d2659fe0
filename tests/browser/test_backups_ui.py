"""An admin backs up, verifies and restores on the Backups page in Chromium."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from engine.security.permissions import Role
from tests.browser.conftest import REDRAWN, browser_login

pytestmark = pytest.mark.browser


ROW = (By.CSS_SELECTOR, "#backups-grid .ag-center-cols-container .ag-row")
TYPED = (By.ID, "backups-restore-typed")


def rows(served):
    return served.driver.find_elements(*ROW)


def select_first_row(served) -> None:
    WebDriverWait(served.driver, 20, ignored_exceptions=REDRAWN).until(EC.element_to_be_clickable(ROW)).click()


def restore_with(served, typed: str) -> None:
    """Select the first row, open the dialog once it is idle, type ``typed`` and confirm."""
    WebDriverWait(served.driver, 20, ignored_exceptions=REDRAWN).until(EC.invisibility_of_element_located(TYPED))
    select_first_row(served)
    served.find_element("#backups-restore-open").click()
    WebDriverWait(served.driver, 20, ignored_exceptions=REDRAWN).until(EC.visibility_of_element_located(TYPED)).send_keys(typed)
    assert "Restore backup 1" in served.find_element("#backups-restore-target").text
    served.find_element("#backups-restore-confirm").click()


def test_admin_backs_up_verifies_and_restores_with_the_typed_id(served, engine):
    browser_login(served, engine, Role.SCALABILITY_ADMIN)
    served.driver.get(served.server.url + "/backups")
    served.wait_for_element("#backups-create", timeout=20).click()
    assert "Backup 1 written" in served.wait_for_element("#backups-ok", timeout=30).text
    WebDriverWait(served.driver, 20, ignored_exceptions=REDRAWN).until(lambda _: len(rows(served)) == 1)

    select_first_row(served)
    served.find_element("#backups-verify").click()
    WebDriverWait(served.driver, 30, ignored_exceptions=REDRAWN).until(lambda _: "verified" in served.find_element("#backups-ok").text)
    assert "verified" in rows(served)[0].text

    restore_with(served, "2")
    assert "Type the backup id 1" in served.wait_for_element("#backups-error", timeout=30).text
    assert {b.kind for b in engine.backups.list()} == {"manual"}

    restore_with(served, "1")
    assert "Restored backup 1" in served.wait_for_element("#backups-ok", timeout=60).text
    kinds = {b.kind for b in engine.backups.list()}
    assert kinds == {"manual", "pre-restore"}
    with engine.db.session() as session:
        assert engine.audit.verify(session).ok
