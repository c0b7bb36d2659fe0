"""Health page (admins): the component report behind ``/healthz``."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html
from flask_login import current_user

from app.access import actor_of, guarded
from app.pages.base import PageSpec
from engine.drills import start_drill
from engine.errors import WedscaleError
from engine.health import check_health
from engine.security.permissions import Permission

BOX = "health-box"
TICK = "health-tick"
DRILL_SERVICE, DRILL_KIND, DRILL_MINUTES, DRILL_START, DRILL_FEEDBACK = (
    "drill-service", "drill-kind", "drill-minutes", "drill-start", "drill-feedback")
DRILL_KINDS = [("latency_spike", "Latency spike"), ("error_burst", "Error burst"),
               ("memory_leak", "Memory leak")]
_COLOUR = {"healthy": "success", "degraded": "warning", "unhealthy": "danger"}


def _report(engine):
    report = check_health(engine, engine.state.get("runner"))
    rows = [html.Tr([html.Td(c.name), html.Td(dbc.Badge(c.status, color=_COLOUR[c.status])),
                     html.Td(c.detail), html.Td(f"{c.latency_ms:.1f} ms")]) for c in report.components]
    return [html.P(["Overall: ", dbc.Badge(report.status, color=_COLOUR[report.status], id="health-overall")]),
            dbc.Table([html.Thead(html.Tr([html.Th("Component"), html.Th("State"), html.Th("Detail"),
                                           html.Th("Check time")])), html.Tbody(rows)],
                      size="sm", hover=True)]


def _drill_card(engine) -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H3("Incident drill", className="h6"),
        html.P("Inject a simulated incident to rehearse the alert response. Audited.",
               className="small text-body-secondary"),
        dbc.Select(id=DRILL_SERVICE, options=engine.service_names(), value=engine.service_names()[0],
                   className="mb-2"),
        dbc.Select(id=DRILL_KIND, options=[{"label": l, "value": v} for v, l in DRILL_KINDS],
                   value=DRILL_KINDS[0][0], className="mb-2"),
        dbc.InputGroup([dbc.Input(id=DRILL_MINUTES, type="number", min=1, max=120, value=10),
                        dbc.InputGroupText("minutes")], className="mb-2"),
        dbc.Button("Start drill", id=DRILL_START, color="danger", outline=True),
        html.Div(id=DRILL_FEEDBACK, className="mt-2"),
    ]))


def layout(engine) -> html.Div:
    """Return the Health page with the drill panel."""
    return html.Div([html.H2("System health", className="h4"),
                     dbc.Row([dbc.Col(html.Div(_report(engine), id=BOX), lg=8),
                              dbc.Col(_drill_card(engine), lg=4)]),
                     dcc.Interval(id=TICK, interval=10_000)])


def register(app: Dash, engine) -> None:
    """Refresh the report every 10 s (``health:read``)."""

    @app.callback(Output(BOX, "children"), Input(TICK, "n_intervals"), prevent_initial_call=True)
    @guarded(Permission.HEALTH_READ)
    def refresh(_n):
        return _report(engine)

    @app.callback(Output(DRILL_FEEDBACK, "children"), Input(DRILL_START, "n_clicks"),
                  State(DRILL_SERVICE, "value"), State(DRILL_KIND, "value"),
                  State(DRILL_MINUTES, "value"), prevent_initial_call=True)
    @guarded(Permission.SETTINGS_ADMIN)
    def drill(_n, service, kind, minutes):
        try:
            summary = start_drill(engine, kind, service, minutes, actor_of(current_user))
        except WedscaleError as exc:
            return dbc.Alert(exc.message, color="danger", className="py-1 small", id="drill-error")
        return dbc.Alert(f"Drill started: {summary}. Watch the Alerts page.", color="warning",
                         className="py-1 small", id="drill-ok")


PAGE = PageSpec("/health", "Health", Permission.HEALTH_READ, layout, icon="bi-heart-pulse")
