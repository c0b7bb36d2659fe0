"""The console frame: navigation bar, demo banner, router between pages.

The navigation shows only the pages the principal may open — a convenience, not the
check: the request guard and the router both enforce the permission on the server.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html
from flask import abort
from flask_login import current_user

from app.access import audit_denial
from app.pages.base import PageSpec
from app.theme import theme_store, theme_toggle
from engine.security.permissions import Permission

URL = "url"
PAGE_CONTENT = "page-content"
NAV = "main-nav"


# Admin pages sit in one "Admin" menu so the bar fits a laptop screen for every role.
ADMIN_PERMISSIONS = frozenset({Permission.AUDIT_READ, Permission.USERS_ADMIN, Permission.HEALTH_READ,
                               Permission.BACKUPS_ADMIN, Permission.SECURITY_READ, Permission.SETTINGS_ADMIN})
ADMIN_MENU = "nav-admin"


def _label(p: PageSpec):
    return [html.I(className=f"bi {p.icon} me-1"), p.title] if p.icon else p.title


def _nav(pages: list[PageSpec], demo: bool) -> dbc.Navbar:
    allowed = [p for p in pages if current_user.can(p.permission)]
    links = [dbc.NavItem(dbc.NavLink(_label(p), href=p.path, active="exact",
                                     id=f"nav-{p.path.strip('/') or 'overview'}"))
             for p in allowed if p.permission not in ADMIN_PERMISSIONS]
    admin = [dbc.DropdownMenuItem(_label(p), href=p.path, id=f"nav-{p.path.strip('/')}")
             for p in allowed if p.permission in ADMIN_PERMISSIONS]
    if admin:
        links.append(dbc.DropdownMenu(admin, label=[html.I(className="bi bi-shield-lock me-1"), "Admin"],
                                      nav=True, in_navbar=True, id=ADMIN_MENU, align_end=True))
    user_box = html.Div(
        [
            html.A(html.I(className="bi bi-braces"), href="/api/docs", title="API reference (OpenAPI)",
                   className="btn btn-sm btn-link text-light me-1", id="nav-api-docs"),
            theme_toggle(),
            html.Span(current_user.username, className="me-2 fw-semibold text-light", id="nav-user"),
            dbc.Badge(current_user.role.label, color="secondary", className="me-3", id="nav-role"),
            html.A("Sign out", href="/logout", className="btn btn-sm btn-outline-light",
                   id="logout-link"),
        ],
        className="d-flex align-items-center ms-auto",
    )
    # Demo mode is said by the banner above the bar; the bar keeps its width for the pages.
    brand = dbc.NavbarBrand("Wedscale", href="/")
    return dbc.Navbar(
        dbc.Container([brand, dbc.Nav(links, navbar=True, id=NAV, className="me-auto"), user_box],
                      fluid=True),
        color="dark", dark=True, className="mb-3 border-bottom",
    )


def make_layout(pages: list[PageSpec], demo: bool):
    """Return the layout function Dash calls on every page load."""

    def layout():
        # Dash may build the layout on an anonymous request (e.g. its first one): no data then.
        if not current_user.is_authenticated:
            return html.Div([dcc.Location(id=URL), html.Div(id=PAGE_CONTENT)])
        banner = dbc.Alert(
            "Demo mode: simulated metrics and demo users. Do not use these credentials in production.",
            color="warning", className="rounded-0 py-1 mb-0 small text-center", id="demo-banner",
        ) if demo else None
        return html.Div([
            dcc.Location(id=URL),
            theme_store(),
            banner,
            _nav(pages, demo),
            dbc.Container(html.Div(id=PAGE_CONTENT), fluid=True, className="pb-5"),
        ])

    return layout


def not_found() -> html.Div:
    """The page shown for an unknown path."""
    return html.Div([html.H2("Page not found"), html.P("There is no console page at this address.")],
                    id="not-found")


def register_router(app: Dash, pages: list[PageSpec], engine) -> None:
    """Register the callback that draws the page for the current path, with its check."""
    by_path = {p.path: p for p in pages}

    @app.callback(Output(PAGE_CONTENT, "children"), Input(URL, "pathname"))
    def route(pathname: str | None):
        if not current_user.is_authenticated:
            abort(401)
        if not isinstance(pathname, (str, type(None))):
            return not_found()  # a forged request; the browser always sends a string
        page = by_path.get((pathname or "/").rstrip("/") or "/")
        if page is None:
            return not_found()
        if not current_user.can(page.permission):
            audit_denial(page.permission, pathname or "/")
            abort(403)
        return page.layout(engine)
