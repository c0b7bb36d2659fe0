"""Plotly figures as plain functions: data in, ``go.Figure`` out (tested without a browser)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# Rows of the live small multiples: (title, metric ids drawn in that row, unit).
LIVE_ROWS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("CPU", ("cpu_pct",), "%"),
    ("Memory", ("memory_pct",), "%"),
    ("Request rate", ("request_rate",), "req/s"),
    ("p95 latency", ("latency_p95_ms",), "ms"),
    ("Error rate", ("error_rate_pct",), "%"),
    ("Queue depth", ("queue_depth",), ""),
    ("Instances", ("instances_ready", "instances_pending"), ""),
)
LIVE_TRACES: tuple[str, ...] = tuple(m for _, metrics, _ in LIVE_ROWS for m in metrics)
_COLOURS = {"instances_pending": "#f0ad4e"}


def to_datetimes(ts: Sequence[float] | np.ndarray) -> list[datetime]:
    """Return Unix seconds as aware UTC datetimes (what Plotly draws on a date axis)."""
    return [datetime.fromtimestamp(float(t), tz=timezone.utc) for t in ts]


def live_figure(series: Mapping[str, tuple[np.ndarray, np.ndarray]], *, dark: bool = True) -> go.Figure:
    """Return the live small multiples: one row per metric, shared time axis and crosshair.

    ``series`` maps a metric id to ``(ts, values)``; missing metrics draw as empty traces so
    the trace order always equals ``LIVE_TRACES`` (the live page extends traces by index).
    """
    fig = make_subplots(rows=len(LIVE_ROWS), cols=1, shared_xaxes=True, vertical_spacing=0.025,
                        subplot_titles=[f"{t} ({u})" if u else t for t, _, u in LIVE_ROWS])
    for row, (_title, metrics, _unit) in enumerate(LIVE_ROWS, start=1):
        for metric in metrics:
            ts, values = series.get(metric, (np.array([]), np.array([])))
            fig.add_trace(
                # Plain lists, not numpy: plotly would send a typed array, which the browser's
                # extendTraces refuses to extend ("non-array attribute").
                go.Scattergl(x=to_datetimes(ts), y=[float(v) for v in values], mode="lines",
                             name=metric, line={"width": 1.5, "color": _COLOURS.get(metric)},
                             hovertemplate="%{y:.4g}<extra>" + metric + "</extra>"),
                row=row, col=1,
            )
    fig.update_layout(
        template="plotly_dark" if dark else "plotly_white",
        height=150 * len(LIVE_ROWS), margin={"l": 50, "r": 20, "t": 30, "b": 30},
        showlegend=False, hovermode="x unified", uirevision="live",
        paper_bgcolor="rgba(0,0,0,0)",
    )
    fig.update_xaxes(showspikes=True, spikemode="across", spikethickness=1, spikedash="dot")
    fig.update_annotations(font_size=12, x=0, xanchor="left")
    return fig


def extend_payload(series: Mapping[str, tuple[np.ndarray, np.ndarray]], max_points: int):
    """Return the ``extendData`` value adding new points to every live trace, or None if none.

    The value is ``(update, trace_indices, max_points)`` as Plotly's ``extendTraces`` takes it.
    """
    xs, ys, idx = [], [], []
    for i, metric in enumerate(LIVE_TRACES):
        ts, values = series.get(metric, (np.array([]), np.array([])))
        if len(ts) == 0:
            continue
        xs.append(to_datetimes(ts))
        ys.append([float(v) for v in values])
        idx.append(i)
    if not idx:
        return None
    return {"x": xs, "y": ys}, idx, max_points
