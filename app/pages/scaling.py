"""Scaling page: current, pending and target instances per service (read for everyone).

Manual scaling controls arrive with the scaling work (issue 6); until then this page shows
the actuator's state only.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from app.access import guarded
from app.pages.base import PageSpec
from engine.security.permissions import Permission

TABLE = "scaling-table"
TICK = "scaling-tick"


def _table(engine) -> dbc.Table:
    now = engine.clock.now()
    rows = []
    for spec in engine.services:
        ready, pending = engine.actuator.sizes(spec.name, now)
        rows.append(html.Tr([
            html.Td(spec.name), html.Td(ready), html.Td(pending), html.Td(ready + pending),
            html.Td(f"{spec.min_instances}–{spec.max_instances}"),
            html.Td(f"{(ready + pending) * spec.cost_per_hour:.2f}/h"),
            html.Td("yes" if spec.critical else "no"),
        ]))
    head = html.Thead(html.Tr([html.Th(h) for h in ("Service", "Ready", "Pending", "Target",
                                                     "Limits", "Cost", "Wedding-critical")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, id=TABLE)


def layout(engine) -> html.Div:
    """Return the Scaling page."""
    return html.Div([
        html.H2("Scaling", className="h4"),
        html.Div(_table(engine), id=f"{TABLE}-box"),
        dcc.Interval(id=TICK, interval=max(engine.settings.live_interval_ms, 5000)),
    ])


def register(app: Dash, engine) -> None:
    """Refresh the instance table on a timer (``decisions:read``)."""

    @app.callback(Output(f"{TABLE}-box", "children"), Input(TICK, "n_intervals"),
                  prevent_initial_call=True)
    @guarded(Permission.DECISIONS_READ)
    def refresh(_n):
        return _table(engine)


PAGE = PageSpec("/scaling", "Scaling", Permission.DECISIONS_READ, layout, icon="bi-arrows-expand")
