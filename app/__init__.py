"""The web shell: ``create_app`` builds Flask, Flask-Login, the Dash app and the API.

Importing this package does nothing; ``create_app`` is the one place that wires the web
side, and ``engine.bootstrap.build_engine`` the engine side.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dash import Dash
from flask import Flask, render_template

from typing import TYPE_CHECKING

from engine.settings import Settings, load_settings

if TYPE_CHECKING:
    from engine.bootstrap import Engine

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
BOOTSTRAP_CSS = "/static/vendor/bootstrap5/css/bootstrap.min.css"
ICONS_CSS = "/static/vendor/bootstrap5/css/font/bootstrap-icons.min.css"


def _settings_from(config: dict | Settings | None) -> Settings:
    if isinstance(config, Settings):
        return config
    settings = load_settings(demo=bool((config or {}).get("demo", False)))
    overrides = {k: v for k, v in (config or {}).items() if k != "demo"}
    return settings.with_(**overrides) if overrides else settings


def _make_server(settings: Settings) -> Flask:
    server = Flask(__name__, template_folder="templates", static_folder=None)
    server.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure or bool(settings.extra.get("secure_cookies")),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_idle_minutes),
        WTF_CSRF_TIME_LIMIT=None,  # the session's idle limit bounds the form's life already
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
    )
    return server


def create_app(config: dict | Settings | None = None, *, engine: "Engine | None" = None) -> Dash:
    """Build the Dash app (``app.server`` is the Flask server) around ``engine``.

    Parameters
    ----------
    config : dict or Settings, optional
        Settings, or overrides of the environment's settings (tests pass a dict).
    engine : Engine, optional
        A pre-built engine (tests inject fakes and a ManualClock); built from the settings
        otherwise.
    """
    from app.access import install_guard
    from app.api import register_api
    from app.auth import install_auth
    from app.callback_input import install_callback_validation
    from app.emergency import register_emergency
    from app.exposition import register_exposition
    from app.headers import install_security_headers
    from app.limits import install_rate_limits
    from app.ops import register_ops
    from app.pages import all_pages, page_permission
    from app.shell import make_layout, register_router
    from app.theme import register_theme
    from app.vendor import register_vendor
    from engine.bootstrap import build_engine

    settings = engine.settings if engine is not None else _settings_from(config)
    engine = engine or build_engine(settings)
    server = _make_server(settings)
    server.extensions["wedscale"] = engine
    register_vendor(server)
    install_auth(server)
    pages = all_pages()
    # The guard must be registered before Dash adds its own before_request hooks.
    install_guard(server, page_permission(pages))
    register_api(server)
    register_emergency(server)
    register_ops(server)
    register_exposition(server, engine)
    install_rate_limits(server, settings)

    @server.errorhandler(403)
    def _forbidden(_error):
        from flask import request

        from app.access import json_error

        if request.path.startswith(("/api/", "/_dash-")):
            return json_error(403, "forbidden", "your role does not allow this")
        return render_template("error.html", title="Not allowed",
                               message="Your role does not allow you to open this page."), 403

    app = Dash(
        __name__, server=server, assets_folder=str(ASSETS), title="Wedscale",
        external_stylesheets=[BOOTSTRAP_CSS, ICONS_CSS], suppress_callback_exceptions=True,
        update_title=None, serve_locally=True,
    )
    app.index_string = app.index_string.replace("<html>", '<html lang="en" data-bs-theme="dark">')
    app.layout = make_layout(pages, settings.demo)
    register_router(app, pages, engine)
    register_theme(app)
    for module in _page_modules():
        module.register(app, engine)
    install_callback_validation(app)
    install_security_headers(app)
    return app


def _page_modules():
    from app.pages import PAGE_MODULES

    return PAGE_MODULES
