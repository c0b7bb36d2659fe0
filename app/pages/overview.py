"""Overview page: every service at a glance, coloured by its worst threshold level."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html

from app.access import guarded
from app.pages.base import PageSpec
from engine.detect.thresholds import CRITICAL, WARNING, level_of, thresholds_for, worst
from engine.security.permissions import Permission
from engine.weddings import active_weddings, is_wedding_day, next_weddings

GRID = "overview-grid"
TICK = "overview-tick"
_COLOUR = {"ok": "success", WARNING: "warning", CRITICAL: "danger"}
_SHOWN = (("cpu_pct", "CPU", "{:.0f} %"), ("latency_p95_ms", "p95", "{:.0f} ms"),
          ("error_rate_pct", "Errors", "{:.2f} %"), ("request_rate", "Requests", "{:.0f}/s"))


def _card(service: str, latest: dict, table) -> dbc.Col:
    levels = [level_of(m, v, table) for m, (_ts, v) in latest.items()]
    level = worst(levels) if latest else "secondary"
    ready = latest.get("instances_ready", (0, float("nan")))[1]
    pending = latest.get("instances_pending", (0, 0.0))[1]
    rows = [html.Div([html.Span(label, className="text-body-secondary"),
                      html.Span(fmt.format(latest[m][1]) if m in latest else "–")],
                     className="d-flex justify-content-between") for m, label, fmt in _SHOWN]
    header = html.Div([html.Strong(service),
                       dbc.Badge(level if latest else "no data", color=_COLOUR.get(level, "secondary"),
                                 className="ms-auto")], className="d-flex align-items-center")
    instances = html.Div(f"{ready:.0f} ready" + (f" · {pending:.0f} pending" if pending else ""),
                         className="small mb-2") if latest else None
    return dbc.Col(dbc.Card(dbc.CardBody([header, instances, *rows]),
                            color=_COLOUR.get(level, "secondary"), outline=True,
                            id=f"overview-card-{service}"), md=4, lg=3, className="mb-3")


def _grid(engine) -> list:
    now = engine.clock.now()
    weddings = engine.calendar.all()
    table = thresholds_for(is_wedding_day(weddings, now.date()))
    cards = [_card(s, engine.store.latest(s), table) for s in engine.service_names()]
    active = active_weddings(weddings, now)
    upcoming = next_weddings(weddings, now, limit=3)
    context = html.P(
        [html.Strong(f"{len(active)} wedding(s) in progress. ") if active else "No wedding in progress. ",
         "Next: " + ", ".join(f"{w.name} ({w.ceremony_start:%a %d %b %H:%M} UTC)" for w in upcoming)
         if upcoming else ""], className="text-body-secondary")
    return [context, dbc.Row(cards)]


def layout(engine) -> html.Div:
    """Return the Overview page."""
    return html.Div([
        html.H2("Overview", className="h4"),
        html.Div(_grid(engine), id=GRID),
        dcc.Interval(id=TICK, interval=max(engine.settings.live_interval_ms, 5000)),
    ])


def register(app: Dash, engine) -> None:
    """Refresh the grid on a timer (``metrics:read``)."""

    @app.callback(Output(GRID, "children"), Input(TICK, "n_intervals"), prevent_initial_call=True)
    @guarded(Permission.METRICS_READ)
    def refresh(_n):
        return _grid(engine)


PAGE = PageSpec("/", "Overview", Permission.METRICS_READ, layout, icon="bi-grid")
