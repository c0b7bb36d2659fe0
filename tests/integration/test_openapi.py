"""The OpenAPI document covers every /api route, is valid OpenAPI 3, and is served with the docs page."""

from __future__ import annotations

import re

import pytest
import schemathesis

from engine.security.permissions import Role
from engine.storage.models import User
from tests.conftest import TEST_ACTOR, create_user

V = Role.SCALABILITY_VIEWER


def _token(engine, name="spec-reader", role=V, scopes=()):
    create_user(engine, name, role)
    with engine.db.session() as session:
        user = session.query(User).filter_by(username=name).one()
        _row, token = engine.tokens.create(session, user, list(scopes), None, TEST_ACTOR)
    return {"Authorization": f"Bearer {token}"}


def _served_operations(server) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every /api rule in the url_map, derived here, not by the builder."""
    out = set()
    for rule in server.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        out |= {(m.lower(), path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return out


@pytest.fixture
def spec(app, engine):
    response = app.server.test_client().get("/api/openapi.json", headers=_token(engine))
    assert response.status_code == 200
    return response.get_json()


def test_every_api_route_is_documented(app, spec):
    documented = {(method, path) for path, item in spec["paths"].items() for method in item}
    missing = _served_operations(app.server) - documented
    assert not missing, f"/api routes missing from the OpenAPI document (see app/api/docs.py): {sorted(missing)}"
    assert documented - _served_operations(app.server) == set()


def test_document_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(spec).validate()  # raises on a document the meta-schema refuses


def test_security_schemes_and_error_schema(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {**schemes["bearerToken"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert {"bearerToken": []} in spec["security"] and {"sessionCookie": []} in spec["security"]
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "message", "details"}


def test_every_operation_has_answers_and_shared_errors(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert {"401", "403", "429"} <= codes, (method, path)
            assert any(c.startswith("2") for c in codes), (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if "requestBody" in op:
                assert {"413", "422"} <= codes, (method, path)
            for code in codes - {"200", "201", "202"}:
                assert op["responses"][code] == {"$ref": f"#/components/responses/Error{code}"}
            assert op["summary"] and op["x-permission"], (method, path)


def test_request_and_answer_schemas_are_specific(spec):
    silence = spec["paths"]["/api/scalability/alerts/{alert_id}/silence"]["post"]
    body = silence["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/SilenceBody")
    assert spec["components"]["schemas"]["SilenceBody"]["required"] == ["minutes", "reason"]
    alert = spec["components"]["schemas"]["Alert"]
    assert alert["properties"]["firedAt"]["nullable"] is True
    realtime = spec["paths"]["/api/scalability/metrics/realtime"]["get"]
    assert {p["name"] for p in realtime["parameters"]} == {"services", "metrics", "since",
                                                          "includeWeddingContext"}
    push = spec["paths"]["/api/scalability/metrics"]["post"]["requestBody"]["content"]
    assert set(push) == {"application/json", "text/plain"}


def test_only_documented_routes_enter_the_document():
    """A rule without @documented is left out, so the coverage test above fails for it."""
    from flask import Flask

    from app.api.docs import documented
    from app.api.schemas import WeddingSchema
    from app.openapi import build_spec
    from engine.security.permissions import Permission

    server = Flask(__name__)

    @server.get("/api/things/<int:thing_id>")
    @documented(Permission.WEDDINGS_READ, responses={200: WeddingSchema})
    def thing(thing_id):
        """One thing."""

    server.add_url_rule("/api/stray", "stray", lambda: "x")
    paths = build_spec(server)["paths"]
    assert set(paths) == {"/api/things/{thing_id}"}
    assert paths["/api/things/{thing_id}"]["get"]["summary"] == "One thing."
    assert ("get", "/api/stray") in _served_operations(server)


def test_spec_needs_a_principal(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 401
    assert set(response.get_json()) == {"error", "message", "details"}
    assert client.get("/api/docs").status_code == 302  # a page for people: to the login form


def test_spec_refused_to_a_token_without_metrics_read(app, engine):
    headers = _token(engine, "pusher", Role.SCALABILITY_OPERATOR, scopes=["metrics:push"])
    response = app.server.test_client().get("/api/openapi.json", headers=headers)
    assert response.status_code == 403


def test_docs_page_lists_every_operation(login_as, spec):
    client = login_as(V)
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'data-bs-theme="dark"' in html and "bootstrap.min.css" in html
    assert "<script" not in html and "cdn" not in html.lower()
    for path, item in spec["paths"].items():
        assert f"<code class=\"fs-6\">{path}</code>" in html
    assert "alerts[].history[].ts" in html  # nested answer fields are flattened into rows
    assert "services.*.ready" in html
