"""Overview page: every service at a glance, coloured by its status, with last-hour sparklines.

A service's status is the worst of its newest values against today's thresholds and of its
firing alerts (acknowledged or silenced ones are being handled and do not colour the card);
"stale" when its newest sample is older than ``SOURCE_STALE_S``, "no data" before the first.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html

from app.access import guarded
from app.figures_live import sparkline
from app.pages.base import PageSpec
from app.theme import THEME_STORE, theme_of
from engine.clock import to_epoch_s
from engine.detect.lifecycle import FIRING
from engine.detect.thresholds import CRITICAL, WARNING, level_of, thresholds_for, worst
from engine.health import SOURCE_STALE_S
from engine.security.permissions import Permission
from engine.weddings import active_weddings, is_wedding_day, next_weddings

GRID = "overview-grid"
TICK = "overview-tick"
STALE, NO_DATA = "stale", "no data"
_COLOUR = {"ok": "success", WARNING: "warning", CRITICAL: "danger"}
_SHOWN = (("cpu_pct", "CPU", "{:.0f} %"), ("memory_pct", "Memory", "{:.0f} %"),
          ("latency_p95_ms", "p95", "{:.0f} ms"), ("error_rate_pct", "Errors", "{:.2f} %"),
          ("queue_depth", "Queue", "{:.0f}"))
_SPARKS = (("request_rate", "Requests/s, 1 h", "#3fb950"), ("latency_p95_ms", "p95 ms, 1 h", "#e8a33d"))
SPARK_WINDOW_S = 3600.0


def service_status(latest: dict, firing_severities: list[str], table, now_s: float) -> str:
    """Return ``ok``/``warning``/``critical``, ``stale`` or ``no data`` for one service."""
    if not latest:
        return NO_DATA
    if now_s - max(ts for ts, _ in latest.values()) > SOURCE_STALE_S and not firing_severities:
        return STALE
    return worst([level_of(m, v, table) for m, (_ts, v) in latest.items()] + firing_severities)


def _spark(engine, service: str, metric: str, label: str, colour: str, now_s: float, theme: str):
    ts, values = engine.store.series(service, metric, now_s - SPARK_WINDOW_S, resolution="1m")
    return html.Div([
        html.Div(label, className="small text-body-secondary"),
        dcc.Graph(figure=sparkline(ts, values, colour=colour, theme=theme),
                  config={"displayModeBar": False, "staticPlot": True}, style={"height": "42px"}),
    ], className="mt-1")


def _card(engine, service: str, status: str, latest: dict, now_s: float, theme: str) -> dbc.Col:
    ready = latest.get("instances_ready", (0, float("nan")))[1]
    pending = latest.get("instances_pending", (0, 0.0))[1]
    rows = [html.Div([html.Span(label, className="text-body-secondary"),
                      html.Span(fmt.format(latest[m][1]) if m in latest else "–")],
                     className="d-flex justify-content-between small") for m, label, fmt in _SHOWN]
    colour = _COLOUR.get(status, "secondary")
    header = html.Div([html.A(html.Strong(service), href="/live", className="link-body-emphasis"),
                       dbc.Badge(status, color=colour, className="ms-auto", id=f"overview-status-{service}")],
                      className="d-flex align-items-center mb-1")
    instances = html.Div(f"{ready:.0f} ready" + (f" · {pending:.0f} pending" if pending else ""),
                         className="small mb-1") if latest else None
    sparks = [_spark(engine, service, m, label, c, now_s, theme) for m, label, c in _SPARKS] if latest else []
    return dbc.Col(dbc.Card(dbc.CardBody([header, instances, *rows, *sparks]),
                            color=colour, outline=True, className="h-100",
                            id=f"overview-card-{service}"), md=6, lg=4, xxl=True, className="mb-3")


def _grid(engine, theme: str = "dark") -> list:
    now = engine.clock.now()
    now_s = to_epoch_s(now)
    weddings = engine.calendar.all()
    table = thresholds_for(is_wedding_day(weddings, now.date()))
    with engine.db.session() as session:
        firing = [(a.service, a.severity) for a in engine.alerts.list_alerts(session, open_only=True)
                  if a.state == FIRING]
    cards = []
    for service in engine.service_names():
        latest = engine.store.latest(service)
        status = service_status(latest, [sev for s, sev in firing if s == service], table, now_s)
        cards.append(_card(engine, service, status, latest, now_s, theme))
    active = active_weddings(weddings, now)
    upcoming = next_weddings(weddings, now, limit=3)
    context = html.P(
        [html.Strong(f"{len(active)} wedding(s) in progress. ") if active else "No wedding in progress. ",
         "Next: " + ", ".join(f"{w.name} ({w.ceremony_start:%a %d %b %H:%M} UTC)" for w in upcoming)
         if upcoming else ""], className="text-body-secondary")
    return [context, dbc.Row(cards)]


def layout(engine) -> html.Div:
    """Return the Overview page (the grid is drawn by the first refresh, in the browser's theme)."""
    return html.Div([
        html.H2("Overview", className="h4"),
        html.Div(id=GRID),
        dcc.Interval(id=TICK, interval=max(engine.settings.live_interval_ms, 5000)),
    ])


def register(app: Dash, engine) -> None:
    """Refresh the grid on a timer and on a theme change (``metrics:read``)."""

    @app.callback(Output(GRID, "children"), Input(TICK, "n_intervals"), Input(THEME_STORE, "data"))
    @guarded(Permission.METRICS_READ)
    def refresh(_n, theme):
        return _grid(engine, theme_of(theme))


PAGE = PageSpec("/", "Overview", Permission.METRICS_READ, layout, icon="bi-grid")
