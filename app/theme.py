"""Dark (default) or light theme, chosen per browser and kept in its localStorage.

The choice lives in a ``dcc.Store`` of the shell; a clientside callback (``assets/wedscale.js``)
switches Bootstrap's ``data-bs-theme`` on ``<html>``, and the pages with charts read the store
to pick the Plotly template. Nothing about the theme reaches the server's state.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html

THEME_STORE = "theme-store"
THEME_TOGGLE = "theme-toggle"
THEME_ICON = "theme-icon"
THEMES = ("dark", "light")


def theme_of(data) -> str:
    """Return ``"dark"`` or ``"light"`` from the store's value (anything else: dark)."""
    return data if data in THEMES else "dark"


def theme_store() -> dcc.Store:
    """The per-browser store of the choice."""
    return dcc.Store(id=THEME_STORE, storage_type="local")


def theme_toggle() -> dbc.Button:
    """The navbar button switching between dark and light."""
    return dbc.Button(html.I(className="bi bi-sun", id=THEME_ICON), id=THEME_TOGGLE, size="sm",
                      color="link", className="text-light me-2", title="Switch dark / light theme")


def register_theme(app: Dash) -> None:
    """Register the two clientside callbacks: toggle the stored choice, apply it to the page."""
    app.clientside_callback(ClientsideFunction("wedscale", "toggleTheme"),
                            Output(THEME_STORE, "data"), Input(THEME_TOGGLE, "n_clicks"),
                            State(THEME_STORE, "data"), prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("wedscale", "applyTheme"),
                            Output(THEME_ICON, "className"), Input(THEME_STORE, "data"))
