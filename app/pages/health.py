"""Health page (admins): the component report behind ``/healthz``, each job's last run and
lag, the history of overall states, this worker's slow queries and the table sizes."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html
from flask_login import current_user

from app.access import actor_of, guarded
from app.pages.base import PageSpec
from engine.drills import start_drill
from engine.errors import WedscaleError
from engine.health import check_health
from engine.health_history import history
from engine.security.permissions import Permission
from engine.storage.table_sizes import table_sizes

BOX = "health-box"
TICK = "health-tick"
DRILL_SERVICE, DRILL_KIND, DRILL_MINUTES, DRILL_START, DRILL_FEEDBACK = (
    "drill-service", "drill-kind", "drill-minutes", "drill-start", "drill-feedback")
DRILL_KINDS = [("latency_spike", "Latency spike"), ("error_burst", "Error burst"),
               ("memory_leak", "Memory leak")]
_COLOUR = {"healthy": "success", "degraded": "warning", "unhealthy": "danger"}


def _table(headers: list[str], rows: list[list], empty: str, table_id: str) -> html.Div:
    if not rows:
        return html.P(empty, className="small text-body-secondary", id=table_id)
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in headers])),
                      html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])],
                     size="sm", hover=True, className="small", id=table_id)


def _seconds(value) -> str:
    return "–" if value is None else f"{value:.0f} s"


def _jobs(component) -> html.Div:
    jobs = component.data.get("jobs", {})
    rows = [[name, (j["last_run"] or "never")[:19].replace("T", " "), _seconds(j["age_s"]), _seconds(j["lag_s"]),
             dbc.Badge("overdue", color="warning") if j["overdue"] else ""] for name, j in sorted(jobs.items())]
    return _table(["Job", "Last run (UTC)", "Age", "Lag", ""], rows, "No job has run.", "health-jobs")


def _history(engine) -> html.Div:
    try:
        with engine.db.session() as session:
            events = [[e.ts.strftime("%Y-%m-%d %H:%M:%S"), f"{e.previous or '–'} → ",
                       dbc.Badge(e.status, color=_COLOUR.get(e.status, "secondary")), e.summary]
                      for e in history(session)]
    except Exception:
        events = []
    return _table(["Since (UTC)", "From", "To", "Components"], events, "No state recorded yet.", "health-history")


def _slow_queries(engine) -> html.Div:
    log = engine.slow_queries
    rows = [[html.Code(q.statement), q.count, f"{q.max_ms:.0f} ms", f"{q.mean_ms:.0f} ms"]
            for q in (log.slowest() if log else [])]
    limit = f"{log.threshold_ms:.0f} ms" if log else "the threshold"
    return _table(["Statement (no parameters)", "Runs", "Worst", "Mean"], rows,
                  f"No statement over {limit} in this worker.", "health-slow")


def _sizes(engine) -> html.Div:
    try:
        sizes = table_sizes(engine.db)
    except Exception:
        sizes = []
    rows = [[t.name, f"{t.rows:,}", "–" if t.bytes is None else f"{t.bytes / 1024:,.0f} KiB"] for t in sizes]
    return _table(["Table", "Rows", "Size"], rows, "Database unreachable.", "health-tables")


def _section(title: str, body) -> html.Div:
    return html.Div([html.H3(title, className="h6 mt-3"), body])


def _report(engine):
    report = check_health(engine, engine.state.get("runner"))
    rows = [html.Tr([html.Td(c.name), html.Td(dbc.Badge(c.status, color=_COLOUR[c.status])),
                     html.Td(c.detail), html.Td(f"{c.latency_ms:.1f} ms")]) for c in report.components]
    scheduler = next(c for c in report.components if c.name == "scheduler")
    return [html.P(["Overall: ", dbc.Badge(report.status, color=_COLOUR[report.status], id="health-overall")]),
            dbc.Table([html.Thead(html.Tr([html.Th("Component"), html.Th("State"), html.Th("Detail"),
                                           html.Th("Check time")])), html.Tbody(rows)],
                      size="sm", hover=True),
            _section("Engine jobs", _jobs(scheduler)),
            _section("History of states", _history(engine)),
            _section("Slow queries", _slow_queries(engine)),
            _section("Table sizes", _sizes(engine))]


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
