"""Live page: one service's metrics as small multiples that grow every few seconds.

New points are appended with ``extendData``; the figure is drawn whole only when the
service changes.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
from dash import Dash, Input, Output, State, dcc, html, no_update

from app.access import guarded
from app.figures import LIVE_TRACES, extend_payload, live_figure
from app.pages.base import PageSpec
from engine.clock import to_epoch_s
from engine.scaling.autoscaler import STALE_S
from engine.security.permissions import Permission

SERVICE = "live-service"
GRAPH = "live-graph"
TICK = "live-tick"
CURSOR = "live-cursor"
STATUS = "live-status"
WINDOW_S = 15 * 60
MAX_POINTS = WINDOW_S // 5 + 60


def _series(engine, service: str, since: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {m: engine.store.series(service, m, since, resolution="raw") for m in LIVE_TRACES}


def _newest(series) -> float | None:
    ends = [float(ts[-1]) for ts, _ in series.values() if len(ts)]
    return max(ends) if ends else None


def _status(engine, newest: float | None):
    age = engine.data_age_s()
    if age is not None and age > STALE_S:
        return dbc.Alert(f"Stale: the newest sample is {age:.0f} s old; the metric source is not "
                         "answering and automatic scaling waits for fresh data.",
                         color="warning", className="py-2 mb-0", id="live-stale")
    if newest is None:
        return dbc.Alert("No data yet: waiting for the first samples from the metric source.",
                         color="secondary", className="py-2", id="live-empty")
    return html.Small(f"Last sample {np.datetime64(int(newest), 's')} UTC",
                      className="text-body-secondary")


def layout(engine) -> html.Div:
    """Return the Live page for the first service."""
    names = engine.service_names()
    return html.Div([
        dbc.Row([
            dbc.Col(html.H2("Live metrics", className="h4 mb-0"), width="auto"),
            dbc.Col(dbc.Select(id=SERVICE, options=names, value=names[0],
                               style={"minWidth": "14rem"}), width="auto"),
            dbc.Col(html.Div(id=STATUS), className="text-end"),
        ], align="center", className="g-3 mb-2"),
        dcc.Graph(id=GRAPH, config={"displaylogo": False, "toImageButtonOptions": {"format": "png"}}),
        dcc.Interval(id=TICK, interval=engine.settings.live_interval_ms),
        dcc.Store(id=CURSOR),
    ])


def register(app: Dash, engine) -> None:
    """Register the Live page's callbacks (each checks ``metrics:read`` on the server)."""

    @app.callback(Output(GRAPH, "figure"), Output(CURSOR, "data"), Output(STATUS, "children"),
                  Input(SERVICE, "value"))
    @guarded(Permission.METRICS_READ)
    def draw(service):
        if service not in engine.service_names():
            return no_update, no_update, no_update
        since = to_epoch_s(engine.clock.now()) - WINDOW_S
        series = _series(engine, service, since)
        newest = _newest(series)
        return live_figure(series), {"service": service, "ts": newest or since}, _status(engine, newest)

    @app.callback(Output(GRAPH, "extendData"), Output(CURSOR, "data", allow_duplicate=True),
                  Output(STATUS, "children", allow_duplicate=True),
                  Input(TICK, "n_intervals"), State(CURSOR, "data"), prevent_initial_call=True)
    @guarded(Permission.METRICS_READ)
    def extend(_n, cursor):
        if not isinstance(cursor, dict) or cursor.get("service") not in engine.service_names():
            return no_update, no_update, no_update
        try:
            after = float(cursor.get("ts"))
        except (TypeError, ValueError):
            return no_update, no_update, no_update
        # series() is inclusive of `since`; nudge past the last point we already drew.
        series = _series(engine, cursor["service"], after + 1e-6)
        newest = _newest(series)
        payload = extend_payload(series, MAX_POINTS)
        if payload is None:  # nothing new: still say so when the source has gone quiet
            return no_update, no_update, _status(engine, after)
        return payload, {"service": cursor["service"], "ts": newest}, _status(engine, newest)


PAGE = PageSpec("/live", "Live", Permission.METRICS_READ, layout, icon="bi-activity")
