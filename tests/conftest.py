"""Shared fixtures: settings on a temporary SQLite file, an engine on a ManualClock, the
Flask test client, ``login_as(role)``, and a per-run PostgreSQL database when one listens.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import uuid
from datetime import datetime, timezone

import pytest

from engine.clock import ManualClock
from engine.security.audit import Actor
from engine.security.permissions import Role
from engine.settings import Settings
from engine.storage.schema import upgrade

# A Saturday in wedding season, mid-afternoon (UTC).
T0 = datetime(2026, 6, 13, 14, 0, tzinfo=timezone.utc)
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
TEST_ACTOR = Actor("pytest", "system", "local")
CHROMIUM = os.environ.get("DASH_TEST_CHROMEPATH") or shutil.which("chromium") or "/usr/bin/chromium"


def pytest_setup_options():
    """dash[testing] hook: headless Debian Chromium as root, no phoning home."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-quic"):
        options.add_argument(arg)
    return options


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> str:
    """A SQLite file migrated once per run; tests copy it instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


def make_settings(tmp_path, database_url: str, **overrides) -> Settings:
    """Settings for tests: no scheduler, no backfill, fast live ticks."""
    base = Settings(database_url=database_url, secret_key=TEST_SECRET, var_dir=tmp_path,
                    run_scheduler=False, backfill_days=0, live_interval_ms=500,
                    password_hash_profile="fast")
    return base.with_(**overrides)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def db_url(tmp_path, migrated_template) -> str:
    path = tmp_path / "wedscale.db"
    shutil.copy(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(tmp_path, db_url) -> Settings:
    return make_settings(tmp_path, db_url)


@pytest.fixture
def engine(settings, clock):
    from engine.bootstrap import build_engine

    built = build_engine(settings, clock=clock)
    built.size_simulated_cluster()  # start where an autoscaler would be, not at the minimum
    yield built
    built.db.dispose()


@pytest.fixture
def app(engine):
    from app import create_app

    return create_app(engine=engine)


@pytest.fixture
def client(app):
    return app.server.test_client()


def create_user(engine, name: str, role: Role, password: str | None = None) -> str:
    """Create a user directly through the engine; return its password."""
    password = password or f"pw-{name}-123"
    with engine.db.session() as session:
        if engine.accounts.find(session, name) is None:
            engine.accounts.create_user(session, name, password, role, TEST_ACTOR)
    return password


def csrf_of(html: str) -> str:
    """Return the CSRF token of the login form in ``html``."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "login form has no CSRF token"
    return match.group(1)


def sign_in(client, username: str, password: str, next_url: str = "/"):
    """GET the form, then POST it with its CSRF token; return the POST response."""
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_of(page.get_data(as_text=True)),
                                       "next": next_url})


ROLE_USER = {Role.SCALABILITY_VIEWER: "viewer", Role.WEDDING_COORDINATOR: "coordinator",
             Role.SCALABILITY_OPERATOR: "operator", Role.SCALABILITY_ADMIN: "admin"}


@pytest.fixture
def login_as(client, engine):
    """Sign ``client`` in as a user of the given role (created on first use)."""

    def _login(role: Role):
        name = ROLE_USER[role]
        password = create_user(engine, name, role)
        response = sign_in(client, name, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return _login


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for this test, dropped afterwards; skips when no server."""
    if not port_open("127.0.0.1", 5432):
        pytest.skip("no PostgreSQL server listens on 127.0.0.1:5432")
    import psycopg

    name = f"wedscale_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
