"""The REST API under ``/api``: JSON in and out, errors as ``{error, message, details}``.

Authentication is the browser session or ``Authorization: Bearer <token>``; every route
checks its permission with the same ``require`` the pages and callbacks use.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from werkzeug import exceptions as http
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from app.access import json_error
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, WedscaleError
from engine.sources.push import TooManySamples

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_ID = 2**31 - 1

_STATUS = {TooManySamples: 413, InvalidInput: 422, NotFound: 404, Conflict: 409, Forbidden: 403}
_HTTP_NAMES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 422: "invalid_input", 429: "rate_limited"}


class IdConverter(IntegerConverter):
    """``<int:...>`` for database ids: at most ``MAX_ID`` (a PostgreSQL integer), else 404.

    A larger id would overflow the database driver. It is refused with ``NotFound`` rather
    than werkzeug's ``max`` (a ``ValidationError`` there makes a sibling rule of the same path
    answer 405 instead of 404); more than ten digits match no rule at all.
    """

    regex = r"\d{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise http.NotFound(f"no such id: {value}")
        return number


@bp.errorhandler(WedscaleError)
def _engine_error(exc: WedscaleError):
    return json_error(_STATUS.get(type(exc), 400), exc.code, exc.message, exc.details)


def register_api(server: Flask) -> None:
    """Register the API blueprint and make every ``/api`` error answer JSON."""
    from app.api import (  # noqa: F401  (routes attach to bp)
        alerts, audit_routes, breakglass, ingest, monitoring, predictions, scaling, spec_routes,
        wedding_files, weddings)

    server.url_map.converters["int"] = IdConverter  # before the rules are added
    server.register_blueprint(bp)
    _keep_api_paths_to_api_rules(server)

    @server.before_request
    def _refuse_unreadable_input():
        from flask import request

        from app.api.params import input_problem

        problem = input_problem() if request.path.startswith("/api/") else None
        if problem is not None:
            return json_error(422, InvalidInput.code, *problem)
        return None

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        from flask import request

        if request.path.startswith("/api/") or request.path.startswith("/_dash-"):
            code = exc.code or 500
            response = json_error(code, _HTTP_NAMES.get(code, "error"), exc.description or exc.name)
            own_headers = exc.get_response().headers
            for name in ("Allow", "Retry-After"):  # 405 lists the methods; 429 says when
                if own_headers.get(name):
                    response.headers[name] = own_headers[name]
            return response
        return exc

    @server.errorhandler(Exception)
    def _unexpected(exc: Exception):
        from flask import request

        if isinstance(exc, HTTPException):
            return _http_error(exc)
        server.logger.exception("unhandled error on %s", request.path)
        # A bug, not bad input: the traceback is in the log, the client learns nothing of it.
        if request.path.startswith(("/api/", "/_dash-")):
            return json_error(500, "internal", "the server failed to answer; the error was logged")
        raise exc


def _keep_api_paths_to_api_rules(server: Flask) -> None:
    """Route a path under ``/api/`` by the ``/api`` rules alone: 404/405 as they say.

    Dash's catch-all page rule ``/<path:path>`` (GET) also matches every ``/api/...`` path, so
    without this ``GET /api/typo`` would get the console's HTML page with 200, and
    ``POST /api/scalability/alerts/x/ack`` a 405 instead of a 404. The ``/api``-only map is
    built on first use, once every blueprint is registered.
    """
    from flask import request

    api_only: list[Map] = []

    @server.before_request
    def _api_paths_are_api_rules():
        rule = request.url_rule
        if not request.path.startswith("/api/") or (rule is not None and rule.rule.startswith("/api/")):
            return None  # not ours, or routed to an API rule
        if not api_only:
            api_only.append(Map([r.empty() for r in server.url_map.iter_rules()
                                 if r.rule.startswith("/api/")],
                                converters=dict(server.url_map.converters)))
        try:
            api_only[0].bind("api").match(request.path, request.method)
        except HTTPException as exc:
            return server.handle_http_exception(exc)
        return None
