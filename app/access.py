"""Server-side access control: the request guard, ``require`` and denial auditing.

Every page, Dash callback and API route passes through here. Anonymous requests to pages
are redirected to ``/login``; anonymous requests to ``/_dash-*`` and ``/api/`` get 401;
a signed-in principal without the permission gets 403 and the denial is audited.
"""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlparse

from flask import Flask, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from engine.errors import InvalidInput
from engine.security.audit import Actor
from engine.security.permissions import Permission

# Served to everybody: sign-in, liveness/readiness, metrics (token-checked separately),
# Dash's static assets and our vendored CSS.
PUBLIC_PREFIXES = ("/login", "/healthz", "/readyz", "/metrics", "/assets/", "/static/",
                   "/_favicon.ico", "/favicon.ico")
API_PREFIXES = ("/_dash-", "/_reload-hash", "/api/")
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# What a Dash callback raises for a value it cannot read: parsers' ValueError (int("x"),
# date.fromisoformat, UnicodeError, json errors), the engine's InvalidInput, and
# app.callback_values.MalformedValue (a ValueError) from the type checks of callback inputs.
BAD_INPUT = (ValueError, InvalidInput)
# Reachable outside a user's access window: signing out, and taking break-glass rights
# (the emergency override), which then lifts the window for the grant's duration.
WINDOW_EXEMPT = {("POST", "/api/scalability/breakglass"), ("GET", "/logout"), ("POST", "/logout"),
                 ("POST", "/access/breakglass")}


def is_public(path: str) -> bool:
    """True for paths anyone may fetch without signing in."""
    return any(path == p or path.startswith(p) for p in PUBLIC_PREFIXES)


def client_ip() -> str:
    """Return the peer address of the current request (no proxy headers are trusted)."""
    return request.remote_addr or ""


def actor_of(principal) -> Actor:
    """Return the audit Actor for a principal in the current request."""
    role = principal.role.value if getattr(principal, "role", None) else ""
    return Actor(getattr(principal, "username", "anonymous"), role, client_ip(),
                 getattr(principal, "breakglass_grant", None))


def audit_denial(permission: Permission | str, target: str) -> None:
    """Write one ``access.denied`` audit row for the current principal."""
    services = current_app.extensions["wedscale"]
    with services.db.session() as session:
        services.audit.record(session, now=services.clock.now(), actor=actor_of(current_user),
                              action="access.denied", outcome="denied", target=target[:255],
                              details={"permission": str(getattr(permission, "value", permission)),
                                       "method": request.method})


def json_error(status: int, error: str, message: str, details: dict | None = None):
    """Return the API's error shape ``{error, message, details}`` with ``status``."""
    response = jsonify({"error": error, "message": message, "details": details or {}})
    response.status_code = status
    return response


def require(permission: Permission) -> None:
    """Abort with 401 (anonymous) or 403 (audited) unless the current principal holds it."""
    if not current_user.is_authenticated:
        abort(401)
    if not current_user.can(permission):
        audit_denial(permission, request.path)
        abort(403)


def guarded(permission: Permission) -> Callable:
    """Decorate a Dash callback so it runs only for principals holding ``permission``.

    The check runs inside the callback's HTTP request, so a refusal is a real 403
    response, not a 200 carrying an error text. A value the callback cannot read (a forged
    request sending a list where the component sends a number) raises one of ``BAD_INPUT``
    and answers 400. Anything else, a TypeError or KeyError included, is a bug in our code:
    it propagates to the server's error handler, which logs the traceback and answers a
    generic 500.
    """

    def wrap(func: Callable) -> Callable:
        def checked(*args, **kwargs):
            require(permission)
            try:
                return func(*args, **kwargs)
            except BAD_INPUT as exc:
                current_app.logger.warning("callback %s refused malformed input: %s: %s",
                                           func.__name__, type(exc).__name__, exc)
                abort(400, description="malformed callback input")

        checked.__name__ = func.__name__
        checked.__doc__ = func.__doc__
        checked.required_permission = permission
        return checked

    return wrap


def refuse_outside_window(path: str):
    """Return a 403 response when the principal is outside their access window, else None.

    Break-glass holders are not bound by windows (DESIGN: emergency override). The refusal
    is audited as ``access.outside_window``; API and callback requests get
    ``{error: "outside_access_window", message}``, pages a page with the same message.
    """
    if current_user.breakglass or (request.method, path) in WINDOW_EXEMPT:
        return None
    services = current_app.extensions["wedscale"]
    now = services.clock.now()
    with services.db.session() as session:
        verdict = services.access_windows.check(session, current_user.username,
                                                current_user.role.value, now)
        if verdict.allowed:
            return None
        services.audit.record(session, now=now, actor=actor_of(current_user),
                              action="access.outside_window", outcome="denied", target=path[:255],
                              reason=verdict.message, details={"method": request.method})
    if path.startswith(API_PREFIXES):
        return json_error(403, "outside_access_window", verdict.message)
    return render_outside_window(verdict.message), 403


def render_outside_window(message: str, error: str = "") -> str:
    """Return the page shown outside a user's window, with the break-glass form when allowed."""
    from flask_wtf.csrf import generate_csrf

    return render_template("outside_window.html", title="Outside your access hours", message=message,
                           error=error, csrf_token=generate_csrf(),
                           may_breakglass=current_user.can(Permission.BREAKGLASS_TAKE))


def _same_origin(origin: str) -> bool:
    parsed = urlparse(origin)
    return parsed.netloc == request.host


# /api routes that answer with a page for a person: signed out, the browser goes to the
# login form and comes back, like on any other page, instead of reading a JSON 401.
API_PAGES_FOR_PEOPLE = frozenset({"/api/docs"})


def install_guard(server: Flask, page_permission: Callable[[str], Permission | None]) -> None:
    """Register the before-request guard on ``server`` (before Dash adds its own hooks)."""

    @server.before_request
    def _guard():
        path = request.path
        origin = request.headers.get("Origin")
        # Browsers send Origin on cross-site POSTs ("null" from sandboxed frames): refuse both.
        if request.method in STATE_CHANGING and origin and (origin == "null" or not _same_origin(origin)):
            return json_error(403, "forbidden", "cross-origin request refused")
        if is_public(path):
            return None
        if path.startswith(API_PREFIXES) and path not in API_PAGES_FOR_PEOPLE:
            if not current_user.is_authenticated:
                return json_error(401, "unauthorized", "sign in or send a valid bearer token")
            return refuse_outside_window(path)
        if not current_user.is_authenticated:
            if path == "/logout":
                return None
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        refused = refuse_outside_window(path)
        if refused is not None:
            return refused
        permission = page_permission(path)
        if permission is None:
            return None  # an unknown page: the router shows "not found"
        if not current_user.can(permission):
            audit_denial(permission, path)
            g.denied_permission = permission
            abort(403)
        return None
