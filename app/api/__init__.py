"""The REST API under ``/api``: JSON in and out, errors as ``{error, message, details}``.

Authentication is the browser session or ``Authorization: Bearer <token>``; every route
checks its permission with the same ``require`` the pages and callbacks use.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from werkzeug.exceptions import HTTPException

from app.access import json_error
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, WedscaleError
from engine.sources.push import TooManySamples

bp = Blueprint("api", __name__, url_prefix="/api")

_STATUS = {TooManySamples: 413, InvalidInput: 422, NotFound: 404, Conflict: 409, Forbidden: 403}
_HTTP_NAMES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 422: "invalid_input", 429: "rate_limited"}


@bp.errorhandler(WedscaleError)
def _engine_error(exc: WedscaleError):
    return json_error(_STATUS.get(type(exc), 400), exc.code, exc.message, exc.details)


def register_api(server: Flask) -> None:
    """Register the API blueprint and make every ``/api`` error answer JSON."""
    from app.api import (  # noqa: F401  (routes attach to bp)
        alerts, audit_routes, breakglass, ingest, monitoring, predictions, scaling, wedding_files, weddings)

    server.register_blueprint(bp)

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        from flask import request

        if request.path.startswith("/api/") or request.path.startswith("/_dash-"):
            code = exc.code or 500
            return json_error(code, _HTTP_NAMES.get(code, "error"), exc.description or exc.name)
        return exc

    @server.errorhandler(Exception)
    def _unexpected(exc: Exception):
        from flask import request

        if isinstance(exc, HTTPException):
            return _http_error(exc)
        server.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/api/"):
            return json_error(500, "internal", "the server failed to answer; the error was logged")
        raise exc
