"""Forecast and season figures: plain functions, data in, ``go.Figure`` out (tested without a browser)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

PHASE_COLOURS = {"preparation": "rgba(91,192,222,0.10)", "ceremony": "rgba(240,173,78,0.22)",
                 "reception": "rgba(217,83,79,0.14)", "wind-down": "rgba(150,150,150,0.10)"}
BAND_COLOUR = "rgba(99,110,250,0.25)"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _layout(fig: go.Figure, height: int, *, dark: bool, legend: bool = False) -> go.Figure:
    fig.update_layout(template="plotly_dark" if dark else "plotly_white", height=height,
                      margin={"l": 55, "r": 20, "t": 56, "b": 30}, showlegend=legend,
                      hovermode="x unified", paper_bgcolor="rgba(0,0,0,0)",
                      legend={"orientation": "h", "y": 1.025, "yanchor": "bottom", "x": 0.5, "xanchor": "center"})
    return fig


def _left_titles(fig: go.Figure) -> None:
    """Left-align the subplot titles (call before adding any other annotation)."""
    fig.update_annotations(font_size=12, x=0, xanchor="left")


def _shade_phases(fig: go.Figure, phases: Sequence[tuple[str, datetime, datetime]], rows: int) -> None:
    """Shade each wedding phase on every row; label the phases once, on the top row."""
    for phase, start, end in phases:
        for row in range(1, rows + 1):
            label = {"annotation_text": phase, "annotation_position": "top left", "annotation_font_size": 10,
                     "annotation_font_color": "#bbb"} if row == 1 else {}
            fig.add_vrect(x0=start, x1=end, fillcolor=PHASE_COLOURS.get(phase, "rgba(0,0,0,0)"),
                          line_width=0, layer="below", row=row, col=1, **label)


def wedding_day_figure(hours: Sequence[datetime], bands: Mapping[str, Mapping[str, Sequence[float]]],
                       phases: Sequence[tuple[str, datetime, datetime]] = (),
                       actual: Mapping[str, Sequence[float]] | None = None,
                       past: Mapping[str, Sequence[float]] | None = None, *, dark: bool = True) -> go.Figure:
    """Return one row per service: the p10–p90 band, the p50 line, phases shaded.

    ``bands`` maps service → ``{"p10", "p50", "p90"}`` (req/s per hour); ``actual`` (what
    happened) and ``past`` (the p50 of a forecast stored before the day) are drawn when given.
    Traces per service, in order: p90 (band top), p10 (band, filled up to p90), p50, then
    actual and past forecast when given.
    """
    names = list(bands)
    fig = make_subplots(rows=max(1, len(names)), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[f"{n} — request rate (req/s)" for n in names] or [""])
    _left_titles(fig)
    x = list(hours)
    for row, name in enumerate(names, start=1):
        b = bands[name]
        first = row == 1
        fig.add_trace(go.Scatter(x=x, y=list(b["p90"]), mode="lines", line={"width": 0}, name="p90",
                                 legendgroup="band", showlegend=False, hovertemplate="p90 %{y:.0f}<extra></extra>"),
                      row=row, col=1)
        fig.add_trace(go.Scatter(x=x, y=list(b["p10"]), mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=BAND_COLOUR, name="p10–p90", legendgroup="band", showlegend=first,
                                 hovertemplate="p10 %{y:.0f}<extra></extra>"), row=row, col=1)
        fig.add_trace(go.Scatter(x=x, y=list(b["p50"]), mode="lines", line={"width": 2, "color": "#636efa"},
                                 name="forecast p50", legendgroup="p50", showlegend=first,
                                 hovertemplate="p50 %{y:.0f}<extra>" + name + "</extra>"), row=row, col=1)
        if actual is not None and name in actual:
            fig.add_trace(go.Scatter(x=x, y=[None if not np.isfinite(v) else float(v) for v in actual[name]],
                                     mode="lines+markers", line={"width": 1.5, "color": "#00cc96"},
                                     marker={"size": 4}, name="actual", legendgroup="actual", showlegend=first,
                                     hovertemplate="actual %{y:.0f}<extra></extra>"), row=row, col=1)
        if past is not None and name in past:
            fig.add_trace(go.Scatter(x=x, y=[None if not np.isfinite(v) else float(v) for v in past[name]],
                                     mode="lines", line={"width": 1.5, "dash": "dot", "color": "#ffa15a"},
                                     name="forecast made before", legendgroup="past", showlegend=first,
                                     hovertemplate="earlier p50 %{y:.0f}<extra></extra>"), row=row, col=1)
    _shade_phases(fig, phases, len(names))
    return _layout(fig, 170 * max(1, len(names)) + 60, dark=dark, legend=True)


def instances_figure(hours: Sequence[datetime], recommended: Mapping[str, Sequence[int]],
                     phases: Sequence[tuple[str, datetime, datetime]] = (), *, dark: bool = True) -> go.Figure:
    """Return the recommended instances per hour, one step line per service."""
    fig = make_subplots(rows=1, cols=1, subplot_titles=["Recommended instances per hour"])
    _left_titles(fig)
    for name, counts in recommended.items():
        fig.add_trace(go.Scatter(x=list(hours), y=[int(c) for c in counts], mode="lines", name=name,
                                 line={"shape": "hv", "width": 2},
                                 hovertemplate="%{y}<extra>" + name + "</extra>"))
    _shade_phases(fig, phases, 1)
    return _layout(fig, 300, dark=dark, legend=True)


def season_heatmap(days: Sequence[Mapping], *, dark: bool = True) -> go.Figure:
    """Return the calendar heat map: weeks down, weekdays across, colour = expected peak load.

    ``days`` are consecutive days from a Monday, each ``{"date", "peakRps", "weddings"}``;
    the cell text is the number of weddings that day.
    """
    weeks = [list(days[i:i + 7]) for i in range(0, len(days), 7)]
    z = [[d["peakRps"] for d in week] + [None] * (7 - len(week)) for week in weeks]
    text = [[(f"{d['weddings']}♥" if d["weddings"] else "") for d in week] + [""] * (7 - len(week))
            for week in weeks]
    hover = [[f"{d['date']}: peak {d['peakRps']:.0f} req/s, {d['weddings']} wedding(s)" for d in week]
             + [""] * (7 - len(week)) for week in weeks]
    labels = [f"wk of {week[0]['date']}" for week in weeks]
    fig = go.Figure(go.Heatmap(z=z, x=list(WEEKDAYS), y=labels, text=text, texttemplate="%{text}",
                               customdata=hover, hovertemplate="%{customdata}<extra></extra>",
                               colorscale="YlOrRd", colorbar={"title": "peak req/s"}, xgap=3, ygap=3))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title={"text": "Expected peak load per day (all services, p50)", "x": 0, "font_size": 13})
    return _layout(fig, 60 + 34 * max(1, len(weeks)), dark=dark)


def capacity_figure(hours: Sequence[datetime], recommended: Mapping[str, Sequence[int]],
                    cost_per_hour: Sequence[float], budget_per_hour: Sequence[float], *,
                    dark: bool = True) -> go.Figure:
    """Return recommended instances stacked per service (top) and their cost vs budget (bottom)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.65, 0.35],
                        subplot_titles=["Recommended instances (stacked)", "Cost per hour vs budget"])
    _left_titles(fig)
    x = list(hours)
    for name, counts in recommended.items():
        fig.add_trace(go.Scatter(x=x, y=[int(c) for c in counts], mode="lines", stackgroup="instances",
                                 name=name, line={"shape": "hv", "width": 0.5},
                                 hovertemplate="%{y}<extra>" + name + "</extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=x, y=[float(c) for c in cost_per_hour], name="cost", marker_color="#636efa",
                         hovertemplate="%{y:.2f}/h<extra>cost</extra>"), row=2, col=1)
    fig.add_trace(go.Scatter(x=x, y=[float(b) for b in budget_per_hour], mode="lines", name="budget",
                             line={"shape": "hv", "dash": "dash", "color": "#ef553b"},
                             hovertemplate="%{y:.2f}/h<extra>budget</extra>"), row=2, col=1)
    return _layout(fig, 460, dark=dark, legend=True)


def budget_per_hour(hours: Sequence[datetime], days: Sequence[Mapping]) -> list[float]:
    """Return each hour's share of its day's budget (``days``: ``{"date", "budget"}`` per day)."""
    per_day = {d["date"]: d["budget"] for d in days}
    counts: dict[str, int] = {}
    for h in hours:
        counts[h.date().isoformat()] = counts.get(h.date().isoformat(), 0) + 1
    return [per_day.get(h.date().isoformat(), 0.0) / counts[h.date().isoformat()] for h in hours]


def hours_after(start: datetime, n: int) -> list[datetime]:
    """Return ``n`` hourly datetimes from ``start``."""
    return [start + timedelta(hours=i) for i in range(n)]
