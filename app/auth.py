"""Sign-in, sign-out and principal loading (browser session or bearer token).

The login page is a plain server-rendered form (CSRF-protected, same Bootstrap CSS as the
console). The session cookie carries the id of a server-side session record, so sign-out
and role changes take effect on the server, not only in the browser.
"""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, Flask, current_app, redirect, render_template, request, session
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms import ValidationError

from app.access import actor_of, client_ip
from app.principal import Anonymous, Principal
from engine.security.breakglass import active_grant
from engine.security.permissions import Permission, Role

bp = Blueprint("auth", __name__)


def _services():
    return current_app.extensions["wedscale"]


def _safe_next(target: str | None) -> str:
    """Return ``target`` if it is a local path, else "/" (no open redirects)."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _render_login(error: str = "", username: str = "", status: int = 200):
    html = render_template("login.html", title="Sign in", error=error, username=username,
                           demo=_services().settings.demo, csrf_token=generate_csrf(),
                           next_url=_safe_next(request.values.get("next")))
    return html, status


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form, or check it and open a session."""
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next")))
        return _render_login()
    try:
        validate_csrf(request.form.get("csrf_token", ""))
    except ValidationError:  # missing, expired or forged token
        return _render_login("The form expired; please sign in again.", status=400)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    services = _services()
    principal = None
    # The failed attempt must be committed (lockout counts it), so render after the block.
    with services.db.session() as db_session:
        result = services.accounts.sign_in(db_session, username, password, client_ip())
        if result.user is not None:
            sid = services.accounts.open_session(db_session, result.user, client_ip())
            principal = Principal(result.user.id, result.user.username, Role(result.user.role), sid)
    if principal is None:
        return _render_login(result.message, username=username, status=429 if result.locked else 401)
    session.clear()  # a fresh session on sign-in (no fixation)
    login_user(principal)
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST", "GET"])
def logout():
    """End the current session on the server and in the browser.

    GET is accepted too (it only ever ends the caller's own session), so a plain link works.
    """
    if current_user.is_authenticated and current_user.session_id:
        services = _services()
        with services.db.session() as db_session:
            services.accounts.close_session(db_session, current_user.session_id,
                                            actor_of(current_user))
    logout_user()
    session.clear()
    return redirect("/login")


def _breakglass_grant(db_session, user_id: int) -> int | None:
    grant = active_grant(db_session, user_id, _services().clock.now())
    return grant.id if grant is not None else None


def _load_session_principal(sid: str) -> Principal | None:
    services = _services()
    with services.db.session() as db_session:
        user = services.accounts.load_session(db_session, sid)
        if user is None:
            return None
        grant = _breakglass_grant(db_session, user.id)
        return Principal(user.id, user.username, Role(user.role), session_id=sid,
                         breakglass=grant is not None, breakglass_grant=grant)


def _load_token_principal(req) -> Principal | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    services = _services()
    with services.db.session() as db_session:
        found = services.tokens.authenticate(db_session, header[len("Bearer "):].strip())
        if found is None:
            return None
        user = found.user
        grant = _breakglass_grant(db_session, user.id)
        return Principal(user.id, user.username, Role(user.role), token_id=found.token_id,
                         scopes=found.scopes, breakglass=grant is not None, breakglass_grant=grant)


def install_auth(server: Flask) -> LoginManager:
    """Set up Flask-Login (session + bearer token loaders) and the auth blueprint."""
    manager = LoginManager()
    manager.anonymous_user = Anonymous
    manager.session_protection = None  # the server-side session record is the protection
    manager.user_loader(_load_session_principal)
    manager.request_loader(_load_token_principal)
    manager.init_app(server)
    server.register_blueprint(bp)
    return manager


__all__ = ["install_auth", "Permission"]
