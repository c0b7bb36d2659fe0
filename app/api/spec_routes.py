"""The API describing itself: ``GET /api/openapi.json`` and the ``GET /api/docs`` page."""

from __future__ import annotations

from flask import current_app, jsonify, render_template

from app.access import require
from app.api import bp
from app.api.docs import documented
from app.api_reference import reference_of
from app.openapi import build_spec
from engine.security.permissions import Permission

_CACHE_KEY = "wedscale.openapi"


def current_spec() -> dict:
    """Return this app's OpenAPI document, built on first use (routes do not change at run time)."""
    extensions = current_app.extensions
    if _CACHE_KEY not in extensions:
        extensions[_CACHE_KEY] = build_spec(current_app)
    return extensions[_CACHE_KEY]


@bp.get("/openapi.json")
@documented(Permission.METRICS_READ, tag="meta",
            responses={200: {"application/json": {"type": "object"}}})
def openapi_json():
    """The OpenAPI 3 document of every /api route, this one included."""
    require(Permission.METRICS_READ)
    return jsonify(current_spec())


@bp.get("/docs")
@documented(Permission.METRICS_READ, tag="meta", responses={200: {"text/html": {"type": "string"}}})
def api_docs():
    """The same document as a page for people (server-rendered, no script)."""
    require(Permission.METRICS_READ)
    spec = current_spec()
    return render_template("api_docs.html", title="API", spec=spec, sections=reference_of(spec))
