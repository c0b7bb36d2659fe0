"""The OpenAPI 3 document of every ``/api`` route, generated from the url_map and the views.

``build_spec`` walks ``server.url_map``: each ``/api`` rule whose view carries an
``@documented`` operation (``app/api/docs.py``, where the pattern for a new route is written
down) becomes one operation per HTTP method; apispec's marshmallow plugin turns the schemas of
``app/api/schemas.py`` into components, and apispec-webframeworks' Flask path converter turns
``<int:alert_id>`` into ``{alert_id}``. Rules without documentation are left out of the
document, and ``tests/integration/test_openapi.py`` fails for them.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from inspect import getdoc

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask
from werkzeug.routing import Rule

from app.api import MAX_ID
from app.api.docs import Operation, operation_of
from app.api.schemas import ErrorSchema

TITLE = "Wedscale API"
API_VERSION = "1"
OPENAPI_VERSION = "3.0.3"
HIDDEN_METHODS = frozenset({"HEAD", "OPTIONS"})
ERROR_ANSWERS = {
    400: "Malformed request.",
    401: "Not signed in, and no valid bearer token.",
    403: "The principal lacks the permission (the denial is audited), or a cross-origin request.",
    404: "Nothing with that id.",
    405: "The path exists but not with this method (the Allow header lists the methods).",
    409: "The request clashes with the current state.",
    413: "The body is too large.",
    415: "Unsupported media type.",
    422: "Invalid input: details.field (body) or details.parameter (query) names it.",
    429: "Rate limit of the route class reached: retry after Retry-After seconds.",
}
_ALWAYS = (401, 403, 429)
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTER_SCHEMA = {"int": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                     "float": {"type": "number", "minimum": 0}}


def api_rules(server: Flask) -> list[Rule]:
    """Return the url_map rules under ``/api/``, sorted by path."""
    return sorted((r for r in server.url_map.iter_rules() if r.rule.startswith("/api/")),
                  key=lambda r: r.rule)


def rule_methods(rule: Rule) -> list[str]:
    """Return the methods of ``rule`` that the document describes (no HEAD/OPTIONS)."""
    return sorted(set(rule.methods or ()) - HIDDEN_METHODS)


def openapi_path(rule: Rule) -> str:
    """Return the OpenAPI path of a Flask rule (``<int:id>`` -> ``{id}``)."""
    return FlaskPlugin.flaskpath2openapi(rule.rule)


def build_spec(server: Flask) -> dict:
    """Return the OpenAPI 3 document (a JSON-ready dict) of the documented ``/api`` routes."""
    spec = APISpec(title=TITLE, version=API_VERSION, openapi_version=OPENAPI_VERSION,
                   plugins=[MarshmallowPlugin()],
                   info={"description": "The Wedscale console's REST API. Errors are "
                                        "`{error, message, details}` JSON."},
                   security=[{"bearerToken": []}, {"sessionCookie": []}])
    _add_components(spec, server)
    for rule in api_rules(server):
        view = server.view_functions[rule.endpoint]
        operation = operation_of(view)
        if operation is None:
            continue
        methods = rule_methods(rule)
        spec.path(path=openapi_path(rule), operations={
            m.lower(): _operation(operation, rule, view, m, several=len(methods) > 1) for m in methods})
    return spec.to_dict()


def _add_components(spec: APISpec, server: Flask) -> None:
    spec.components.security_scheme("bearerToken", {
        "type": "http", "scheme": "bearer",
        "description": "An API token from `wedscale tokens create` (its user's permissions, "
                       "optionally narrowed by scopes)."})
    spec.components.security_scheme("sessionCookie", {
        "type": "apiKey", "in": "cookie", "name": server.config.get("SESSION_COOKIE_NAME", "session"),
        "description": "The console's sign-in session (state-changing requests must come "
                       "from the same origin)."})
    spec.components.schema("Error", schema=ErrorSchema)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for code, text in ERROR_ANSWERS.items():
        answer = {"description": text, "content": error}
        if code == 429:
            answer["headers"] = {"Retry-After": {"description": "seconds to wait",
                                                 "schema": {"type": "integer"}}}
        spec.components.response(f"Error{code}", answer)


def _operation(op: Operation, rule: Rule, view, method: str, *, several: bool) -> dict:
    # Docstrings use reST ``literals``; the document uses Markdown `code`.
    text = (getdoc(view) or rule.endpoint).replace("``", "`")
    summary, _, description = text.partition("\n")
    name = rule.endpoint.removeprefix("api.")
    out = {"operationId": f"{name}_{method.lower()}" if several else name,
           "tags": [op.tag or view.__module__.rsplit(".", 1)[-1].removesuffix("_routes")],
           "summary": summary.strip(),
           "description": _description(description.strip(), op),
           "x-permission": op.permission.value if op.permission else None,
           "parameters": _path_parameters(rule),
           "responses": _responses(op, rule)}
    if op.query is not None:
        out["parameters"].append({"in": "query", "schema": op.query})
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": _content(op.body)}
    return out


def _description(text: str, op: Operation) -> str:
    needs = f"Requires `{op.permission.value}`." if op.permission else "Any signed-in principal."
    return f"{text}\n\n{needs}".strip()


def _path_parameters(rule: Rule) -> list[dict]:
    return [{"in": "path", "name": m["name"], "required": True,
             "schema": dict(_CONVERTER_SCHEMA.get(m["converter"] or "default", {"type": "string"}))}
            for m in _ARGUMENT.finditer(rule.rule)]


def _content(body) -> dict:
    """A schema (JSON) or ``{media type: schema}`` -> an OpenAPI content map."""
    if isinstance(body, dict):
        return {media: {"schema": schema} for media, schema in body.items()}
    return {"application/json": {"schema": body}}


def _responses(op: Operation, rule: Rule) -> dict:
    out: dict = {}
    for code, body in op.responses.items():
        out[str(code)] = {"description": HTTPStatus(code).phrase}
        if body is not None:
            out[str(code)]["content"] = _content(body)
    errors = set(_ALWAYS) | set(op.errors)
    if rule.arguments:
        errors.add(404)
    if op.query is not None or op.body is not None:
        errors.add(422)
    if op.body is not None:
        errors.add(413)
    for code in sorted(errors):
        out[str(code)] = f"Error{code}"
    return out
