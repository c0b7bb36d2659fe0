"""The live page's figures as plain functions: data in, ``go.Figure`` out (tested without a browser).

The traces' order and how their values are encoded (x arrays at raw 5 s, one ``x0``/``dx``
grid at bucketed resolutions, 4 significant digits) are ``app.live_series``'s.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from app.live_series import BAND_METRICS, LIVE_ROWS, LIVE_TRACES, ROW_OF, to_ms, to_values, trace_xy
from engine.chart_marks import ChartMarks
from engine.detect.thresholds import CRITICAL, WARNING
from engine.metrics.window import RESOLUTION_LABEL, MetricWindow

TEMPLATES = {"dark": "plotly_dark", "light": "plotly_white"}
_COLOURS = {"cpu_pct": "#4c9be8", "memory_pct": "#a66bd6", "request_rate": "#3fb950",
            "latency_p95_ms": "#e8a33d", "error_rate_pct": "#f25c54", "queue_depth": "#2bb3c0",
            "instances_ready": "#4c9be8", "instances_pending": "#f0ad4e"}
_LEVEL_COLOURS = {WARNING: "#f0ad4e", CRITICAL: "#dc3545"}
_PHASE_COLOURS = {"preparation": "rgba(214,51,132,0.06)", "ceremony": "rgba(214,51,132,0.18)",
                  "reception": "rgba(214,51,132,0.11)", "wind-down": "rgba(214,51,132,0.05)"}
MAX_ALERT_LABELS = 20


def _template(theme: str) -> go.layout.Template:
    """Return the theme's plotly template with trace defaults for the scatter types only.

    The full template carries defaults for two dozen trace types (4 of its 7 KB); the live
    figures draw scatter and scattergl, and every redraw would send the rest for nothing.
    """
    full = pio.templates[TEMPLATES.get(theme, TEMPLATES["dark"])]
    return go.layout.Template(layout=full.layout, data={"scatter": full.data.scatter, "scattergl": full.data.scattergl})


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _data_traces(fig: go.Figure, window: MetricWindow) -> None:
    xy = iter(trace_xy(window))
    traces, rows = [], []
    for metric in LIVE_TRACES:
        traces.append(go.Scattergl(
            **next(xy), mode="lines", name=metric, line={"width": 1.5, "color": _COLOURS[metric]},
            hovertemplate="%{y:.4g}<extra>" + metric + "</extra>"))
        rows.append(ROW_OF[metric])
    for metric in BAND_METRICS:
        colour = _COLOURS[metric]
        for part in ("min", "max"):
            # SVG, not WebGL: scattergl does not draw a "tonexty" fill when other scattergl
            # traces come before the pair (plotly.js #6795), and the band was never seen.
            traces.append(go.Scatter(
                **next(xy), mode="lines", name=f"{metric} {part}",
                line={"width": 0, "color": colour}, showlegend=False,
                fill="tonexty" if part == "max" else None, fillcolor=_rgba(colour, 0.22),
                hovertemplate="%{y:.4g}<extra>" + part + "</extra>"))
            rows.append(ROW_OF[metric])
    fig.add_traces(traces, rows=rows, cols=[1] * len(rows))


def _decision_trace(fig: go.Figure, marks: ChartMarks, lo: float, hi: float) -> None:
    shown = [d for d in marks.decisions if lo <= d.ts <= hi]
    fig.add_trace(go.Scatter(
        x=to_ms(np.array([d.ts for d in shown])), y=[d.to_instances for d in shown], mode="markers",
        name="scaling", marker={"size": 10, "color": "#20c997", "line": {"width": 1, "color": "#fff"},
                                "symbol": ["triangle-up" if d.to_instances > d.from_instances
                                           else "triangle-down" for d in shown]},
        text=[f"{d.actor}: {d.from_instances} → {d.to_instances} ({d.status}) {d.reason[:80]}" for d in shown],
        hovertemplate="%{text}<extra>scaling</extra>"), row=ROW_OF["instances_ready"], col=1)


def _axis(row: int, kind: str) -> str:
    return kind if row == 1 else f"{kind}{row}"


def _threshold_lines(marks: ChartMarks) -> tuple[list[dict], list[dict]]:
    """Return (shapes, annotations): a dashed line and a label per threshold, in its metric's row."""
    shapes, labels = [], []
    for metric, limit in marks.thresholds.items():
        row = ROW_OF.get(metric)
        if row is None:
            continue
        for level, value in ((WARNING, limit.warning), (CRITICAL, limit.critical)):
            colour = _LEVEL_COLOURS[level]
            shapes.append({"type": "line", "xref": f"{_axis(row, 'x')} domain", "x0": 0, "x1": 1,
                           "yref": _axis(row, "y"), "y0": value, "y1": value, "name": f"{level} {metric}",
                           "line": {"width": 1, "dash": "dash", "color": colour}})
            # Warning below its line, critical above: close limits (memory 90/95) stay readable.
            labels.append({"xref": f"{_axis(row, 'x')} domain", "x": 1, "xanchor": "right",
                           "yref": _axis(row, "y"), "y": value, "showarrow": False,
                           "yanchor": "top" if level == WARNING else "bottom",
                           "text": f"{level} {value:g}", "font": {"size": 10, "color": colour}})
    return shapes, labels


def _event_marks(marks: ChartMarks, lo: float, hi: float) -> tuple[list[dict], list[dict]]:
    """Return (shapes, annotations) of the wedding phases and alerts inside ``[lo, hi]``."""
    shapes, labels = [], []
    phases = [p for p in marks.phases if p.end > lo and p.start < hi]
    for p in phases:
        # Clipped to the range: a shape reaching outside it would stretch the time axis.
        x0, x1 = max(p.start, lo), min(p.end, hi)
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": x0 * 1000, "x1": x1 * 1000,
                       "y0": 0, "y1": 1, "fillcolor": _PHASE_COLOURS.get(p.phase, "rgba(214,51,132,0.08)"),
                       "line": {"width": 0}, "layer": "below", "name": f"wedding {p.phase}"})
        if len(phases) <= 16 and p.phase in ("ceremony", "reception"):
            labels.append({"x": (x0 + x1) * 500, "xref": "x", "y": 1.0, "yref": "paper", "yanchor": "bottom",
                           "text": f"{p.phase}: {p.wedding}", "showarrow": False,
                           "font": {"size": 10, "color": "#d63384"}})
    alerts = [a for a in marks.alerts if lo <= a.ts <= hi]
    for a in alerts:
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": a.ts * 1000, "x1": a.ts * 1000,
                       "y0": 0, "y1": 1, "name": f"alert {a.severity}",
                       "line": {"width": 1, "dash": "dot", "color": _LEVEL_COLOURS.get(a.severity, "#dc3545")}})
    for a in alerts[-MAX_ALERT_LABELS:]:
        row = ROW_OF.get(a.metric, 1)
        labels.append({"x": a.ts * 1000, "xref": "x", "y": 1, "yref": f"{_axis(row, 'y')} domain",
                       "text": f"⚠ {a.severity} ({a.state})", "showarrow": False, "xanchor": "left",
                       "yanchor": "top", "hovertext": a.summary,
                       "font": {"size": 10, "color": _LEVEL_COLOURS.get(a.severity, "#dc3545")}})
    return shapes, labels


def _status_labels(window: MetricWindow) -> list[dict]:
    label = RESOLUTION_LABEL[window.resolution]
    if window.resolution != "raw":
        label += " · band = min–max"
    out = [{"text": label, "xref": "paper", "yref": "paper", "x": 0, "y": 1.0, "yanchor": "bottom",
            "xanchor": "left", "showarrow": False, "font": {"size": 11}, "name": "resolution"}]
    if window.n_points == 0:
        out.append({"text": "No data in this range yet", "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                    "showarrow": False, "font": {"size": 16}})
    return out


def live_figure(window: MetricWindow, marks: ChartMarks, *, span: tuple[float, float],
                theme: str = "dark") -> go.Figure:
    """Return the live small multiples: one row per metric, shared time axis and crosshair.

    ``span`` is the range ``(since, now)`` in Unix seconds: marks outside it are left out, so
    they never stretch the time axis. Missing metrics draw as empty traces (all null on a
    bucketed grid), keeping the trace indices of ``app.live_series``. Shapes and annotations are
    set in one layout update (plotly's per-shape ``add_hline`` revalidates the whole layout each
    time: seconds for a few dozen).
    """
    fig = make_subplots(rows=len(LIVE_ROWS), cols=1, shared_xaxes=True, vertical_spacing=0.028,
                        subplot_titles=[f"{t} ({u})" if u else t for t, _, u in LIVE_ROWS])
    lo, hi = span
    _data_traces(fig, window)
    _decision_trace(fig, marks, lo, hi)
    line_shapes, line_labels = _threshold_lines(marks)
    event_shapes, event_labels = _event_marks(marks, lo, hi)
    titles = [{**a.to_plotly_json(), "font": {"size": 12}} for a in fig.layout.annotations]
    fig.update_layout(
        template=_template(theme),
        height=128 * len(LIVE_ROWS) + 40, margin={"l": 55, "r": 15, "t": 36, "b": 30},
        showlegend=False, hovermode="x unified", uirevision=f"{window.service}-{window.resolution}",
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        meta={"resolution": window.resolution, "service": window.service},
        shapes=line_shapes + event_shapes,
        annotations=titles + line_labels + event_labels + _status_labels(window),
    )
    fig.update_xaxes(type="date", showspikes=True, spikemode="across", spikethickness=1, spikedash="dot",
                     spikesnap="cursor", hoverformat="%H:%M:%S" if window.resolution == "raw" else "%d %b %H:%M")
    fig.update_yaxes(rangemode="tozero", nticks=4)
    return fig


def sparkline(ts: np.ndarray, values: np.ndarray, *, colour: str, theme: str = "dark") -> go.Figure:
    """Return a tiny line chart without axes (the overview cards)."""
    fig = go.Figure(go.Scatter(x=to_ms(ts), y=to_values(values), mode="lines", line={"width": 1.5, "color": colour},
                               fill="tozeroy", fillcolor=_rgba(colour, 0.15), hoverinfo="skip"))
    fig.update_layout(template=TEMPLATES.get(theme, TEMPLATES["dark"]), height=42,
                      margin={"l": 0, "r": 0, "t": 2, "b": 2}, showlegend=False,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    fig.update_xaxes(visible=False, type="date")
    fig.update_yaxes(visible=False, rangemode="tozero")
    return fig


def graph_config(filename: str) -> dict:
    """Return the ``dcc.Graph`` config: the modebar always shown, PNG export named after the view."""
    return {"displaylogo": False, "displayModeBar": True, "responsive": True,
            "modeBarButtonsToRemove": ["lasso2d", "select2d"],
            "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2}}

