"""Health page (admins): the component report behind ``/healthz``."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from app.access import guarded
from app.pages.base import PageSpec
from engine.health import check_health
from engine.security.permissions import Permission

BOX = "health-box"
TICK = "health-tick"
_COLOUR = {"healthy": "success", "degraded": "warning", "unhealthy": "danger"}


def _report(engine):
    report = check_health(engine, engine.state.get("runner"))
    rows = [html.Tr([html.Td(c.name), html.Td(dbc.Badge(c.status, color=_COLOUR[c.status])),
                     html.Td(c.detail), html.Td(f"{c.latency_ms:.1f} ms")]) for c in report.components]
    return [html.P(["Overall: ", dbc.Badge(report.status, color=_COLOUR[report.status], id="health-overall")]),
            dbc.Table([html.Thead(html.Tr([html.Th("Component"), html.Th("State"), html.Th("Detail"),
                                           html.Th("Check time")])), html.Tbody(rows)],
                      size="sm", hover=True)]


def layout(engine) -> html.Div:
    """Return the Health page."""
    return html.Div([html.H2("System health", className="h4"), html.Div(_report(engine), id=BOX),
                     dcc.Interval(id=TICK, interval=10_000)])


def register(app: Dash, engine) -> None:
    """Refresh the report every 10 s (``health:read``)."""

    @app.callback(Output(BOX, "children"), Input(TICK, "n_intervals"), prevent_initial_call=True)
    @guarded(Permission.HEALTH_READ)
    def refresh(_n):
        return _report(engine)


PAGE = PageSpec("/health", "Health", Permission.HEALTH_READ, layout, icon="bi-heart-pulse")
