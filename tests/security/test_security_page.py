"""The admin Security page: open security alerts, suspicious events, grants, time windows."""

from __future__ import annotations

import json

from engine.security.audit import Actor
from engine.security.permissions import Role
from engine.security.time_windows import make_window
from tests.conftest import create_user, sign_in
from tests.integration.test_access import _forged_body


def page_text(client) -> str:
    body = {"output": "page-content.children", "outputs": {"id": "page-content", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": "/security"}],
            "changedPropIds": ["url.pathname"], "state": []}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_security_page_shows_alerts_events_grants_and_windows(app, login_as, engine):
    operator = login_as(Role.SCALABILITY_OPERATOR)
    assert operator.get("/api/audit").status_code == 403                      # a suspicious event
    assert operator.post("/api/scalability/breakglass",
                         json={"minutes": 20, "reason": "reception photos stuck"}).status_code == 201
    with engine.db.session() as session:
        engine.access_windows.set_windows(session, "role", "scalability_operator",
                                          [make_window("Mon-Sat", "06:00", "22:00", "Europe/London")],
                                          Actor("root", "scalability_admin"), engine.clock.now())
    admin = app.server.test_client()
    sign_in(admin, "admin", create_user(engine, "admin", Role.SCALABILITY_ADMIN))
    assert admin.get("/security").status_code == 200
    text = page_text(admin)
    assert "took break-glass rights" in text                                  # the open security alert
    assert "access.denied" in text and "/api/audit" in text                   # suspicious events
    assert "reception photos stuck" in text                                   # the active grant
    assert "Mon–Sat 06:00–22:00 Europe/London" in text                        # the window


def test_admin_revokes_a_grant_from_the_page(app, login_as, engine):
    operator = login_as(Role.SCALABILITY_OPERATOR)
    grant = operator.post("/api/scalability/breakglass", json={"minutes": 20, "reason": "r"}).get_json()
    admin = app.server.test_client()
    sign_in(admin, "admin", create_user(engine, "admin", Role.SCALABILITY_ADMIN))
    key = next(k for k in app.callback_map if "security-feedback" in k)
    body = _forged_body(key, app.callback_map[key])
    body["inputs"][0]["value"] = 1
    body["state"][0]["value"] = str(grant["id"])
    response = admin.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    assert f"Grant #{grant['id']} revoked" in json.dumps(response.get_json())
    assert operator.post("/api/scalability/actions/scale",
                         json={"action": "emergency_scale", "services": ["api"], "instances": 30,
                               "reason": "r"}).status_code == 403


def test_only_admins_open_the_security_page(login_as):
    client = login_as(Role.SCALABILITY_OPERATOR)
    assert client.get("/security").status_code == 403
