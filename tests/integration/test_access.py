"""Every route and every Dash callback against a table written by hand from DESIGN.md.

The tables below are typed out, not derived from the permission table the app uses: a new
route or callback without an entry here fails ``test_every_route_has_an_entry`` /
``test_every_callback_has_an_entry``.
"""

from __future__ import annotations

import json

import pytest

from engine.security.permissions import Role
from engine.storage.models import AuditEntry

V, C, O, A = (Role.SCALABILITY_VIEWER, Role.WEDDING_COORDINATOR, Role.SCALABILITY_OPERATOR,
              Role.SCALABILITY_ADMIN)
ALL = {V, C, O, A}
COORD_UP = {C, O, A}
OPS = {O, A}
ADMIN = {A}
PUBLIC = "public"
SESSION = "any signed-in user"
PAGES = "page table below"
CALLBACKS = "callback table below"
CLIENTSIDE = "clientside"

# Flask url_map rule -> who may use it.
ROUTES = {
    "/login": PUBLIC,
    "/logout": PUBLIC,
    "/healthz": PUBLIC,
    "/readyz": PUBLIC,
    "/metrics": PUBLIC,
    "/static/vendor/<path:filename>": PUBLIC,
    "/assets/<path:filename>": PUBLIC,
    "/_favicon.ico": PUBLIC,
    "/_dash-layout": SESSION,
    "/_dash-dependencies": SESSION,
    "/_reload-hash": SESSION,
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": SESSION,
    "/_dash-update-component": CALLBACKS,
    "/": PAGES,
    "/<path:path>": PAGES,
    "/api/scalability/metrics/realtime": ALL,
    "/api/scalability/status": ALL,
    "/api/audit": ADMIN,
    "/api/audit/export": ADMIN,
    "/api/scalability/alerts": ALL,
    "/api/scalability/alerts/<int:alert_id>/ack": OPS,
    "/api/scalability/alerts/<int:alert_id>/silence": OPS,
    "/api/scalability/actions/scale": OPS,
    "/api/scalability/metrics": OPS,
    "/api/scalability/weddings": COORD_UP,
    "/api/scalability/weddings/<int:wedding_id>": COORD_UP,
    "/api/scalability/weddings/import": COORD_UP,
    "/api/scalability/weddings.ics": COORD_UP,
    "/api/scalability/weddings/<int:wedding_id>/prescale": COORD_UP,
    "/api/scalability/predictions": COORD_UP,
    "/api/scalability/predictions/<int:prediction_id>": COORD_UP,
    "/api/scalability/predictions/accuracy": COORD_UP,
    "/api/scalability/breakglass": OPS,
    "/api/scalability/breakglass/<int:grant_id>": ADMIN,
    "/api/scalability/decisions": ALL,
    "/api/scalability/decisions/<int:decision_id>/approve": OPS,
    "/api/scalability/decisions/<int:decision_id>/reject": OPS,
    "/api/scalability/pins/<service>": OPS,
    "/api/openapi.json": ALL,
    "/api/docs": ALL,
    "/access/breakglass": OPS,
}

# Console page path -> roles that may open it (DESIGN.md matrix).
PAGE_ROLES = {
    "/": ALL,
    "/live": ALL,
    "/alerts": ALL,
    "/scaling": ALL,
    "/weddings": COORD_UP,
    "/forecast": COORD_UP,
    "/season": COORD_UP,
    "/audit": ADMIN,
    "/users": ADMIN,
    "/health": ADMIN,
    "/notifications": ADMIN,
    "/security": ADMIN,
    "/backups": ADMIN,
}

# Dash callback (its output ids, sorted) -> roles that may call it.
CALLBACK_ROLES = {
    ("live-cursor.data", "live-graph.figure", "live-resolution.children", "live-status.children"): ALL,
    ("live-applied.children", "live-cursor.data", "live-graph.extendData", "live-marks.data",
     "live-status.children"): ALL,
    ("live-download.data",): ALL,
    # Clientside callbacks run in the browser only: no server code to guard or forge.
    ("live-heartbeat.children", "live-pulse.data"): CLIENTSIDE,
    ("live-pause.children", "live-pause.color", "live-paused.data"): CLIENTSIDE,
    ("live-tick.interval",): CLIENTSIDE,
    ("theme-store.data",): CLIENTSIDE,
    ("theme-icon.className",): CLIENTSIDE,
    ("overview-grid.children",): ALL,
    ("alerts-table.children",): ALL,
    ("alerts-feedback.children", "alerts-pick.options", "alerts-table.children"): OPS,
    ("scaling-history.children", "scaling-table-box.children"): ALL,
    ("scale-feedback.children", "scale-modal.is_open", "scale-summary.children"): OPS,
    ("approval-pick.options", "scale-feedback.children", "scale-modal.is_open",
     "scaling-history.children"): OPS,
    ("approval-pick.options", "scale-feedback.children", "scaling-history.children"): OPS,
    ("breakglass-feedback.children",): OPS,
    ("why-graph.figure",): ALL,
    ("scale-feedback.children",): OPS,
    ("users-feedback.children", "users-pick.options", "users-table-box.children", "windows-subject.options"): ADMIN,
    ("windows-confirm-box.hidden", "windows-confirm.value", "windows-days.invalid", "windows-end.invalid",
     "windows-feedback.children", "windows-start.invalid", "windows-table-box.children",
     "windows-zone.invalid"): ADMIN,
    ("deliveries-grid.rowData", "deliveries-summary.children"): ADMIN,
    ("deliveries-feedback.children", "deliveries-grid.rowData", "deliveries-summary.children"): ADMIN,
    ("audit-export.href", "audit-page.children", "audit-table.children"): ADMIN,
    ("audit-chain.children",): ADMIN,
    ("health-box.children",): ADMIN,
    ("drill-feedback.children",): ADMIN,
    ("security-feedback.children", "security-grants-box.children"): ADMIN,
    ("backups-feedback.children", "backups-grid.rowData", "backups-status.children"): ADMIN,
    ("backups-restore-modal.is_open", "backups-restore-target.children", "backups-restore-typed.value"): ADMIN,
    ("wedding-ceremony.value", "wedding-date.value", "wedding-guests.value", "wedding-name.value",
     "wedding-priority.value", "wedding-reception-end.value", "wedding-reception-start.value",
     "wedding-services.value", "wedding-zone.value"): COORD_UP,
    ("wedding-edit-pick.options", "weddings-feedback.children", "weddings-table-box.children"): COORD_UP,
    ("wedding-edit-pick.options", "weddings-import-report.children", "weddings-table-box.children"): COORD_UP,
    ("forecast-body.children", "forecast-wedding.value"): COORD_UP,
    ("forecast-prescale-feedback.children",): COORD_UP,
    ("page-content.children",): "router",
}

API_GETS = {
    "/api/scalability/metrics/realtime": ALL,
    "/api/scalability/status": ALL,
    "/api/audit": ADMIN,
    "/api/audit/export": ADMIN,
    "/api/scalability/alerts": ALL,
    "/api/scalability/decisions": ALL,
    "/api/scalability/weddings": COORD_UP,
    "/api/openapi.json": ALL,
    "/api/docs": ALL,
    "/api/scalability/weddings.ics": COORD_UP,
    "/api/scalability/predictions/accuracy": COORD_UP,
}

API_POSTS = {
    "/api/scalability/alerts/999/ack": OPS,
    "/api/scalability/alerts/999/silence": OPS,
    "/api/scalability/decisions/999/approve": OPS,
    "/api/scalability/decisions/999/reject": OPS,
    "/api/scalability/weddings/999/prescale": COORD_UP,
}


def _output_ids(key: str) -> list[str]:
    """``"..a.b...c.d@hash.."`` (Dash's callback_map key) -> ``["a.b", "c.d"]``."""
    return [o.split("@")[0] for o in key.strip(".").split("...")]


def _outputs_key(key: str) -> tuple[str, ...]:
    return tuple(sorted(_output_ids(key)))


def _forged_body(key: str, callback: dict) -> dict:
    outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in _output_ids(key)]
    inputs = [{"id": i["id"], "property": i["property"], "value": None} for i in callback["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": None} for s in callback["state"]]
    return {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": inputs, "state": state,
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}


def test_every_route_has_an_entry(app):
    served = {rule.rule for rule in app.server.url_map.iter_rules()}
    assert served - set(ROUTES) == set(), "routes without an access entry"
    assert set(ROUTES) - served == set(), "access entries for routes the app does not serve"


def test_every_callback_has_an_entry(app):
    served = {_outputs_key(key) for key in app.callback_map}
    assert served == set(CALLBACK_ROLES)


@pytest.mark.parametrize("path", sorted(PAGE_ROLES))
def test_anonymous_page_redirects_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_anonymous_api_reference_page_redirects_to_login(client):
    response = client.get("/api/docs")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/api/docs"


@pytest.mark.parametrize("path", ["/_dash-layout", "/_dash-dependencies", "/_reload-hash",
                                  "/api/scalability/status", "/api/audit", "/api/openapi.json"])
def test_anonymous_dash_and_api_get_401(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_anonymous_callback_gets_401(client):
    response = client.post("/_dash-update-component", json={"output": "x.children"})
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/login", "/healthz", "/readyz", "/assets/wedscale.css",
                                  "/static/vendor/bootstrap5/css/bootstrap.min.css"])
def test_public_paths_need_no_session(client, path):
    assert client.get(path).status_code in (200, 503)


@pytest.mark.parametrize("role", [V, C, O, A])
@pytest.mark.parametrize("path", sorted(PAGE_ROLES))
def test_page_access_by_role(login_as, engine, role, path):
    client = login_as(role)
    response = client.get(path)
    if role in PAGE_ROLES[path]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "not allow" in response.get_data(as_text=True)
        with engine.db.session() as session:
            denied = session.query(AuditEntry).filter_by(action="access.denied", target=path).count()
        assert denied == 1


@pytest.mark.parametrize("role", [V, C, O, A])
@pytest.mark.parametrize("path", sorted(PAGE_ROLES))
def test_router_callback_by_role(login_as, role, path):
    client = login_as(role)
    body = {"output": "page-content.children",
            "outputs": {"id": "page-content", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": path}],
            "changedPropIds": ["url.pathname"], "state": []}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == (200 if role in PAGE_ROLES[path] else 403)


@pytest.mark.parametrize("role", [V, C, O, A])
def test_every_callback_forged_by_role(app, login_as, role):
    client = login_as(role)
    checked = 0
    for key, callback in app.callback_map.items():
        roles = CALLBACK_ROLES[_outputs_key(key)]
        if roles in ("router", CLIENTSIDE):
            continue
        response = client.post("/_dash-update-component", json=_forged_body(key, callback))
        expected = {200, 204} if role in roles else {403}
        assert response.status_code in expected, (key, role, response.get_data(as_text=True)[:300])
        checked += 1
    skipped = sum(1 for roles in CALLBACK_ROLES.values() if roles in ("router", CLIENTSIDE))
    assert checked == len(CALLBACK_ROLES) - skipped


@pytest.mark.parametrize("role", [V, C, O, A])
@pytest.mark.parametrize("path", sorted(API_GETS))
def test_api_get_by_role(login_as, role, path):
    client = login_as(role)
    response = client.get(path)
    assert response.status_code == (200 if role in API_GETS[path] else 403)
    if response.status_code == 403:
        assert set(json.loads(response.get_data(as_text=True))) == {"error", "message", "details"}


def test_dash_layout_for_signed_in_user(login_as):
    client = login_as(V)
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/_dash-dependencies").status_code == 200


@pytest.mark.parametrize("role", [V, C, O, A])
@pytest.mark.parametrize("path", sorted(API_POSTS))
def test_api_post_by_role(login_as, role, path):
    client = login_as(role)
    response = client.post(path, json={"note": "x", "minutes": 5, "reason": "x"})
    # Allowed roles get past the check to the lookup (no alert 999): 404, never 401/403.
    assert response.status_code == (404 if role in API_POSTS[path] else 403)


def test_anonymous_api_post_gets_401(client):
    assert client.post("/api/scalability/alerts/1/ack", json={}).status_code == 401


@pytest.mark.parametrize("role", [V, C, O, A])
def test_scale_action_by_role(login_as, role):
    client = login_as(role)
    # An empty body gets past the permission check only for those allowed: 422, not 403.
    response = client.post("/api/scalability/actions/scale", json={})
    assert response.status_code == (422 if role in OPS else 403)
    emergency = client.post("/api/scalability/actions/scale", json={"action": "emergency_scale"})
    assert emergency.status_code == (422 if role in ADMIN else 403)


@pytest.mark.parametrize("role", [V, C, O, A])
def test_forecast_and_calendar_routes_by_role(login_as, role):
    client = login_as(role)
    allowed = role in COORD_UP
    # past the check: an unknown prediction is 404, a bad body 422, an empty CSV 422
    assert client.get("/api/scalability/predictions/999").status_code == (404 if allowed else 403)
    assert client.post("/api/scalability/predictions", json={"timeHorizonHours": 0}).status_code == \
        (422 if allowed else 403)
    assert client.post("/api/scalability/weddings/import", data=b"",
                       content_type="text/csv").status_code == (422 if allowed else 403)
