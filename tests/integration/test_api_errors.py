"""Every error under /api is JSON ``{error, message, details}``: never HTML, never a stack trace."""

from __future__ import annotations

import json

import pytest
from flask import Blueprint
from werkzeug.exceptions import BadRequest

from engine.security.permissions import Role
from engine.storage.models import User
from tests.conftest import TEST_ACTOR, create_user, make_settings

V, O = Role.SCALABILITY_VIEWER, Role.SCALABILITY_OPERATOR


@pytest.fixture
def tight_app(tmp_path, db_url, clock):
    """The app with 5 actions a minute, plus two test-only /api routes that fail on purpose."""
    from app import create_app
    from engine.bootstrap import build_engine

    settings = make_settings(tmp_path, db_url, rate_limits={"actions": "5/minute"})
    engine = build_engine(settings, clock=clock)
    app = create_app(engine=engine)
    broken = Blueprint("broken", __name__, url_prefix="/api/test-only")
    broken.add_url_rule("/bad-request", "bad_request", _raise(BadRequest("the body could not be read")))
    broken.add_url_rule("/crash", "crash", _raise(RuntimeError("secret internals")))
    app.server.register_blueprint(broken)
    yield app, engine
    engine.db.dispose()


def _raise(exc):
    def view():
        raise exc

    return view


def _bearer(engine, name, role) -> dict:
    create_user(engine, name, role)
    with engine.db.session() as session:
        user = session.query(User).filter_by(username=name).one()
        _row, token = engine.tokens.create(session, user, [], None, TEST_ACTOR)
    return {"Authorization": f"Bearer {token}"}


def _assert_error(response, status: int, error: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = json.loads(response.get_data(as_text=True))
    assert set(body) == {"error", "message", "details"}
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict)
    assert "Traceback" not in response.get_data(as_text=True)
    if error:
        assert body["error"] == error
    return body


def test_every_error_status_is_json(tight_app):
    app, engine = tight_app
    client = app.server.test_client()
    viewer, operator = _bearer(engine, "viewer", V), _bearer(engine, "operator", O)
    _assert_error(client.get("/api/scalability/status"), 401, "unauthorized")
    _assert_error(client.get("/api/test-only/bad-request", headers=viewer), 400, "bad_request")
    _assert_error(client.post("/api/scalability/actions/scale", json={}, headers=viewer), 403, "forbidden")
    _assert_error(client.get("/api/no/such/thing", headers=viewer), 404, "not_found")
    _assert_error(client.post("/api/scalability/alerts/7/ack", json={}, headers=operator), 404, "not_found")
    # An id past the database's integers matches no route: 404, not an overflow in the driver.
    _assert_error(client.post(f"/api/scalability/alerts/{2**63}/ack", json={}, headers=operator), 404)
    wrong = client.delete("/api/scalability/alerts", headers=viewer)
    _assert_error(wrong, 405, "method_not_allowed")
    assert set(wrong.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}
    _assert_error(client.get("/api/scalability/metrics", headers=viewer), 405)
    body = {"minutes": 5, "reason": "drill"}
    assert client.post("/api/scalability/breakglass", json=body, headers=operator).status_code == 201
    _assert_error(client.post("/api/scalability/breakglass", json=body, headers=operator), 409, "conflict")
    samples = [{"service": "api", "metric": "cpu_pct", "ts": 0, "value": 1}] * 10_001
    _assert_error(client.post("/api/scalability/metrics", json=samples, headers=operator), 413)
    huge = b"x" * (9 * 1024 * 1024)
    _assert_error(client.post("/api/scalability/metrics", data=huge, content_type="text/plain",
                              headers=operator), 413, "payload_too_large")
    _assert_error(client.post("/api/scalability/metrics", data="x", content_type="image/png",
                              headers=operator), 415, "unsupported_media_type")
    invalid = _assert_error(client.post("/api/scalability/actions/scale", json={"services": 3},
                                        headers=operator), 422, "invalid_input")
    assert invalid["details"]["field"] == "services"
    statuses = [client.post("/api/scalability/actions/scale", json={}, headers=operator).status_code
                for _ in range(2)]
    assert statuses == [422, 429]  # ack, 2 break-glass and the scale above used 4 of the 5
    limited = client.post("/api/scalability/actions/scale", json={}, headers=operator)
    _assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0


def test_unexpected_failure_is_a_json_500_without_internals(tight_app):
    app, engine = tight_app
    response = app.server.test_client().get("/api/test-only/crash", headers=_bearer(engine, "v", V))
    body = _assert_error(response, 500, "internal")
    assert "secret internals" not in json.dumps(body)


DEEP = b"[" * 100_000 + b"]" * 100_000  # deeper than Python's recursion limit


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2", b"\xff\xfe", b"null", b"42", b'"text"', DEEP,
                                  b'{"reason": "a\\u0000b", "minutes": 5, "services": ["api"]}'])
@pytest.mark.parametrize("path", ["/api/scalability/actions/scale", "/api/scalability/breakglass",
                                  "/api/scalability/weddings", "/api/scalability/alerts/1/silence",
                                  "/api/scalability/decisions/1/approve"])
def test_malformed_json_body_is_422_and_stores_nothing(app, engine, path, body):
    from engine.storage.models import BreakGlassGrant, DecisionRow, WeddingRow

    client = app.server.test_client()
    headers = _bearer(engine, "admin", Role.SCALABILITY_ADMIN)

    def counts():
        with engine.db.session() as session:
            return [session.query(m).count() for m in (BreakGlassGrant, DecisionRow, WeddingRow)]

    before = counts()
    response = client.post(path, data=body, content_type="application/json", headers=headers)
    assert response.status_code in (404, 422)  # 404: no alert/decision 1 to act on
    if body in (DEEP,) or b"u0000" in body:
        assert response.status_code == 422  # refused before the handler, whatever the route
    _assert_error(response, response.status_code)
    assert counts() == before


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request, tmp_path, clock):
    """The app on SQLite and on PostgreSQL (skips when no server listens), limits raised."""
    from app import create_app
    from engine.bootstrap import build_engine
    from engine.storage.schema import upgrade

    url = request.getfixturevalue("db_url" if request.param == "sqlite" else "pg_url")
    upgrade(url)
    settings = make_settings(tmp_path, url, rate_limits={"monitoring": "1000/minute", "actions": "1000/minute"})
    engine = build_engine(settings, clock=clock)
    yield create_app(engine=engine), engine
    engine.db.dispose()


NUL_REQUESTS = [
    ("post", "/api/scalability/weddings", {"name": "A\x00B", "date": "2026-06-20", "timezone": "UTC",
                                           "ceremonyStart": "15:00", "receptionStart": "17:00",
                                           "receptionEnd": "23:00", "guestCount": 80}, "name"),
    ("post", "/api/scalability/actions/scale", {"action": "scale_up", "services": ["api"],
                                                "reason": "x\x00y"}, "reason"),
    ("post", "/api/scalability/breakglass", {"minutes": 5, "reason": "x\x00y"}, "reason"),
    ("get", "/api/audit?text=a%00b", None, "text"),
    ("get", "/api/audit/export?action=a%00b", None, "action"),
    ("get", "/api/scalability/decisions?status=a%00b", None, "status"),
]


def test_nul_characters_and_huge_numbers_are_4xx_on_every_database(any_db_app):
    """PostgreSQL refuses U+0000 in text and 64-bit overflows: those must be 4xx, not 500."""
    from engine.storage.models import BreakGlassGrant, DecisionRow, WeddingRow

    app, engine = any_db_app
    client = app.server.test_client()
    admin = _bearer(engine, "admin", Role.SCALABILITY_ADMIN)
    for method, path, body, name in NUL_REQUESTS:
        response = getattr(client, method)(path, json=body, headers=admin)
        details = _assert_error(response, 422, "invalid_input")["details"]
        assert name in (details.get("field"), details.get("parameter")), (path, details)
    with engine.db.session() as session:
        assert [session.query(m).count() for m in (BreakGlassGrant, DecisionRow, WeddingRow)] == [0, 0, 0]
    _assert_error(client.get(f"/api/audit?offset={2**70}", headers=admin), 422)
    _assert_error(client.delete(f"/api/scalability/weddings/{2**31}", headers=admin), 404)
    _assert_error(client.delete(f"/api/scalability/breakglass/{2**31 - 1}", headers=admin), 404)
