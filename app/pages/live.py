"""Live page: one service's metrics as small multiples that grow on every tick.

- A change of service, time range or theme, or of the marks (a new alert, decision or wedding
  phase; the thresholds at midnight) draws the figure whole; every tick only appends the new
  points with ``extendData`` (bucketed ranges gain a point when a bucket closes).
- Ranges are drawn at most ``MAX_CHART_POINTS`` points a trace (``engine.metrics.window``):
  6 h in 15 s buckets, 7 d in 10 min buckets, with the min–max band. Bucketed traces sit on a
  grid (``x0``/``dx``) that ticks cannot trim, so once a trace has grown past
  ``grid_limit`` the tick asks for a redraw (through the marks store) instead of extending.
- The CSV download exports the range at its stored resolution (raw 5 s, 1 min or 1 h), all of it.
- The interval's ticks pass a clientside gate: while paused they only count a heartbeat and
  never reach the server. Hidden counters (heartbeat, ticks applied) let tests wait on the page
  instead of sleeping.
- The status line says when the data is stale (no sample for ``SOURCE_STALE_S``) or missing.
"""

from __future__ import annotations

from datetime import timedelta

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update

from app.access import guarded
from app.figures_live import graph_config, live_figure
from app.live_series import LIVE_TRACES, extend_grid_payload, extend_payload, grid_of
from app.pages.base import PageSpec
from app.theme import THEME_STORE, theme_of
from engine.chart_marks import gather_chart_marks, marks_version
from engine.clock import from_epoch_s, to_epoch_s
from engine.health import SOURCE_STALE_S
from engine.metrics.window import (RANGES_S, RESOLUTION_LABEL, grid_limit, max_points, read_window, resolution_of,
                                   storage_resolution_of, window_csv)
from engine.security.permissions import Permission
from engine.weddings import is_wedding_day

SERVICE, RANGE, REFRESH, PAUSE, PAUSED = "live-service", "live-range", "live-refresh", "live-pause", "live-paused"
GRAPH, TICK, PULSE, CURSOR, MARKS = "live-graph", "live-tick", "live-pulse", "live-cursor", "live-marks"
STATUS, RESOLUTION, HEARTBEAT, APPLIED = "live-status", "live-resolution", "live-heartbeat", "live-applied"
CSV, DOWNLOAD = "live-csv", "live-download"
RANGE_LABELS = {"15m": "15 min", "1h": "1 h", "6h": "6 h", "24h": "24 h", "7d": "7 d", "30d": "30 d"}
REFRESH_MS = (1000, 2000, 5000, 10_000, 30_000, 60_000)


def _refresh_options(default_ms: int) -> list[dict]:
    choices = sorted(set(REFRESH_MS) | {default_ms})
    return [{"label": f"every {ms / 1000:g} s", "value": str(ms)} for ms in choices]


def _status(engine, service: str, now_s: float):
    """Return the status line: empty, stale (with the time of the last sample) or fresh."""
    latest = engine.store.latest(service)
    if not latest:
        return dbc.Alert("No data yet: waiting for the first samples from the metric source.",
                         color="secondary", className="py-2 mb-0", id="live-empty")
    newest = max(ts for ts, _ in latest.values())
    age = now_s - newest
    since = from_epoch_s(newest)
    if age > SOURCE_STALE_S:
        minutes = age / 60
        return dbc.Alert([html.I(className="bi bi-exclamation-triangle-fill me-2"),
                          html.Strong(f"Data is stale since {since:%H:%M} UTC"),
                          f" — no sample from the metric source for {minutes:.0f} min. "
                          "The charts show the last data received; automatic scaling waits for fresh data."],
                         color="warning", className="py-2 mb-0", id="live-stale")
    wedding_day = is_wedding_day(engine.calendar.all(), from_epoch_s(now_s).date())
    day = dbc.Badge("wedding-day thresholds", color="info", className="ms-2") if wedding_day else None
    return html.Small([f"Last sample {since:%H:%M:%S} UTC", day], className="text-body-secondary",
                      id="live-fresh")


def _controls(engine) -> dbc.Row:
    names = engine.service_names()
    default_ms = engine.settings.live_interval_ms
    ranges = dbc.RadioItems(
        id=RANGE, value="15m", className="btn-group", inputClassName="btn-check",
        labelClassName="btn btn-outline-secondary btn-sm", labelCheckedClassName="active",
        options=[{"label": label, "value": key, "label_id": f"live-range-{key}"}
                 for key, label in RANGE_LABELS.items()])
    return dbc.Row([
        dbc.Col(html.H2("Live metrics", className="h4 mb-0"), width="auto"),
        dbc.Col(dbc.Select(id=SERVICE, options=names, value=names[0], size="sm",
                           style={"minWidth": "11rem"}), width="auto"),
        dbc.Col(ranges, width="auto"),
        dbc.Col(dbc.InputGroup([dbc.InputGroupText(html.I(className="bi bi-arrow-repeat", title="auto-refresh")),
                                dbc.Select(id=REFRESH, options=_refresh_options(default_ms),
                                           value=str(default_ms))], size="sm"), width="auto"),
        dbc.Col(dbc.Button("Pause", id=PAUSE, color="secondary", size="sm", outline=True), width="auto"),
        dbc.Col(dbc.Button([html.I(className="bi bi-download me-1"), "CSV"], id=CSV, color="secondary",
                           size="sm", outline=True, title="series of the chosen range as CSV"),
                width="auto"),
        dbc.Col(html.Small(id=RESOLUTION, className="text-body-secondary"), width="auto"),
    ], align="center", className="g-2 mb-2")


def layout(engine) -> html.Div:
    """Return the Live page for the first service at 15 min."""
    return html.Div([
        _controls(engine),
        html.Div(id=STATUS, className="mb-2"),
        dcc.Graph(id=GRAPH, config=graph_config("wedscale-live")),
        dcc.Interval(id=TICK, interval=engine.settings.live_interval_ms),
        dcc.Store(id=PAUSED, data=False), dcc.Store(id=PULSE), dcc.Store(id=CURSOR), dcc.Store(id=MARKS),
        dcc.Download(id=DOWNLOAD),
        html.Div([html.Span(id=HEARTBEAT), html.Span(id=APPLIED)], hidden=True),
    ])


def _span(engine, range_key: str):
    now = engine.clock.now()
    return now, to_epoch_s(now), now - timedelta(seconds=RANGES_S[range_key])


def _valid(engine, service, range_key) -> bool:
    return service in engine.service_names() and range_key in RANGES_S


def _needs_redraw(cursor: dict, window, range_key: str) -> bool:
    """Whether a bucketed figure must be drawn anew rather than extended by ``window``.

    Yes when it had no grid yet (drawn empty: nothing tells where its first point goes) or
    when extending would grow its traces past ``grid_limit`` (they cannot be trimmed).
    """
    newest = window.newest_ts
    if newest is None:
        return False
    first = cursor.get("first")
    if not isinstance(first, (int, float)):
        return True
    return (newest - first) / window.step_s + 1 > grid_limit(range_key)


def register(app: Dash, engine) -> None:
    """Register the Live page's callbacks (server ones check ``metrics:read``)."""

    @app.callback(Output(GRAPH, "figure"), Output(CURSOR, "data"), Output(STATUS, "children"),
                  Output(RESOLUTION, "children"),
                  Input(SERVICE, "value"), Input(RANGE, "value"), Input(THEME_STORE, "data"),
                  Input(MARKS, "data"))
    @guarded(Permission.METRICS_READ)
    def draw(service, range_key, theme, _marks):
        if not _valid(engine, service, range_key):
            return no_update, no_update, no_update, no_update
        now, now_s, since = _span(engine, range_key)
        start_s = to_epoch_s(since)
        window = read_window(engine.store, service, LIVE_TRACES, resolution_of(range_key), start_s, now_s)
        # The version first: a change while the marks are read shows up on the next tick.
        version = marks_version(engine, service, since, now)
        marks = gather_chart_marks(engine, service, since, now)
        figure = live_figure(window, marks, span=(start_s, now_s), theme=theme_of(theme))
        grid = grid_of(window)
        cursor = {"service": service, "range": range_key, "resolution": window.resolution,
                  "ts": window.newest_ts or start_s, "marks": version, "ticks": 0,
                  "first": grid[0] if grid else None}
        label = RESOLUTION_LABEL[window.resolution] + ("" if window.resolution == "raw" else " · min–max band")
        return figure, cursor, _status(engine, service, now_s), label

    @app.callback(Output(GRAPH, "extendData"), Output(CURSOR, "data", allow_duplicate=True),
                  Output(STATUS, "children", allow_duplicate=True), Output(MARKS, "data"),
                  Output(APPLIED, "children"),
                  Input(PULSE, "data"), State(CURSOR, "data"), State(SERVICE, "value"), State(RANGE, "value"),
                  prevent_initial_call=True)
    @guarded(Permission.METRICS_READ)
    def tick(_pulse, cursor, service, range_key):
        # A tick racing a redraw for another service or range must not append to the new figure.
        if (not isinstance(cursor, dict) or not _valid(engine, service, range_key)
                or (cursor.get("service"), cursor.get("range")) != (service, range_key)):
            return no_update, no_update, no_update, no_update, no_update
        try:
            after = float(cursor["ts"])
            ticks = int(cursor.get("ticks", 0)) + 1
        except (KeyError, TypeError, ValueError):
            return no_update, no_update, no_update, no_update, no_update
        # Stored ts are bucket starts and reads include `since`: nudge past the last point drawn.
        now, now_s, since = _span(engine, range_key)
        window = read_window(engine.store, service, LIVE_TRACES, resolution_of(range_key), after + 1e-6, now_s)
        version = marks_version(engine, service, since, now)
        marks = version if version != cursor.get("marks") else no_update
        status = _status(engine, service, now_s)
        if window.resolution == "raw":
            payload = extend_payload(window, max_points(range_key))
        elif _needs_redraw(cursor, window, range_key):
            if cursor.get("redraw"):  # asked already: wait for the redraw to land
                return no_update, no_update, status, no_update, no_update
            return (no_update, {**cursor, "ticks": ticks, "redraw": True}, status,
                    f"redraw-{version}-{window.newest_ts}", str(ticks))
        else:
            payload = extend_grid_payload(window, after)
        cursor = {**cursor, "ts": window.newest_ts or after, "ticks": ticks, "marks": version}
        return (payload if payload is not None else no_update, cursor, status, marks, str(ticks))

    @app.callback(Output(DOWNLOAD, "data"), Input(CSV, "n_clicks"), State(SERVICE, "value"),
                  State(RANGE, "value"), prevent_initial_call=True)
    @guarded(Permission.METRICS_READ)
    def download(_clicks, service, range_key):
        if not _valid(engine, service, range_key):
            return no_update
        _now, now_s, since = _span(engine, range_key)
        # The stored resolution, not the chart's: the file has every point the store keeps.
        window = read_window(engine.store, service, LIVE_TRACES, storage_resolution_of(range_key),
                             to_epoch_s(since), now_s)
        stamp = f"{from_epoch_s(now_s):%Y%m%d-%H%M}"
        return {"content": window_csv(window), "filename": f"wedscale-{service}-{range_key}-{stamp}.csv",
                "type": "text/csv"}

    app.clientside_callback(ClientsideFunction("wedscale", "liveGate"),
                            Output(PULSE, "data"), Output(HEARTBEAT, "children"),
                            Input(TICK, "n_intervals"), State(PAUSED, "data"), prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("wedscale", "livePause"),
                            Output(PAUSED, "data"), Output(PAUSE, "children"), Output(PAUSE, "color"),
                            Input(PAUSE, "n_clicks"), State(PAUSED, "data"), prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("wedscale", "liveInterval"),
                            Output(TICK, "interval"), Input(REFRESH, "value"), prevent_initial_call=True)


PAGE = PageSpec("/live", "Live", Permission.METRICS_READ, layout, icon="bi-activity")
