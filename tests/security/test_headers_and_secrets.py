"""Security headers (a CSP Dash can live with) and secrets that never reach the logs."""

from __future__ import annotations

import base64
import hashlib
import logging
import re

from engine.security.permissions import Role
from engine.storage.models import AuditEntry
from tests.conftest import TEST_ACTOR, TEST_SECRET, create_user, sign_in


def test_headers_on_pages_api_and_callbacks(login_as):
    client = login_as(Role.SCALABILITY_VIEWER)
    for response in (client.get("/login"), client.get("/"), client.get("/api/scalability/status"),
                     client.get("/healthz")):
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "object-src 'none'" in csp and "http" not in csp   # no third-party origin
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_csp_allows_exactly_the_inline_scripts_dash_serves(login_as):
    client = login_as(Role.SCALABILITY_VIEWER)
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    html = re.sub(r"<!--.*?-->", "", response.get_data(as_text=True), flags=re.S)  # IE-only comment
    inline = [body for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
              if "src=" not in attrs and "application/json" not in attrs]
    assert inline, "Dash's index page has inline start-up scripts"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_passwords_tokens_and_the_secret_key_are_never_logged(app, engine, caplog):
    caplog.set_level(logging.DEBUG)
    password = create_user(engine, "olga", Role.SCALABILITY_OPERATOR, "a-very-private-pw")
    client = app.server.test_client()
    sign_in(client, "olga", "wrong-but-also-private")
    sign_in(client, "olga", password)
    with engine.db.session() as session:
        user = engine.accounts.get(session, "olga")
        _row, token = engine.tokens.create(session, user, [], None, TEST_ACTOR)
    api = app.server.test_client()
    assert api.get("/api/scalability/status", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert api.get("/api/scalability/status", headers={"Authorization": "Bearer forged-token"}).status_code == 401
    logged = "\n".join(r.getMessage() for r in caplog.records)
    with engine.db.session() as session:
        audited = "\n".join(f"{r.target} {r.reason} {r.details}" for r in session.query(AuditEntry))
    for secret in ("a-very-private-pw", "wrong-but-also-private", token, TEST_SECRET, "forged-token"):
        assert secret not in logged
        assert secret not in audited
