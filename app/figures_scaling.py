"""The "why did (or didn't) it scale" chart: metrics, forecast, decisions and orders on one time axis.

Data in, ``go.Figure`` out (tested without a browser). Top row: request rate (and the forecast
p90 the policy saw, where a decision recorded one) against the capacity of the ready
instances; bottom row: ready and ordered instances, each decision as a marker whose hover is
its reason (colour by category), each order's outcome as a marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures import to_datetimes

CATEGORY_COLOURS = {"auto_approved": "#5cb85c", "requires_approval": "#f0ad4e", "emergency": "#d9534f"}
ORDER_SYMBOLS = {"done": "circle", "accepted": "circle-open", "recorded": "circle-open",
                 "failed": "x", "superseded": "diamond-open"}


@dataclass(frozen=True)
class DecisionPoint:
    """One decision as drawn: when, from → to, trigger, category, status, reason, forecast p90."""

    at: datetime
    from_instances: int
    to_instances: int
    trigger: str
    category: str
    status: str
    reason: str
    forecast_p90_rps: float | None = None


@dataclass(frozen=True)
class OrderPoint:
    """One scale order as drawn: when, target, kind and final status."""

    at: datetime
    target: int
    kind: str
    status: str
    order_id: str


def why_figure(service: str, rate: tuple[np.ndarray, np.ndarray], ready: tuple[np.ndarray, np.ndarray],
               capacity_rps: float, decisions: Sequence[DecisionPoint], orders: Sequence[OrderPoint],
               *, dark: bool = True) -> go.Figure:
    """Return the two-row timeline of ``service`` (see the module docstring).

    ``rate`` and ``ready`` are ``(unix_s, values)`` of ``request_rate`` and
    ``instances_ready``; ``capacity_rps`` is one instance's capacity.
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.55, 0.45],
                        subplot_titles=(f"{service}: demand and capacity (req/s)", "instances and decisions"))
    fig.add_trace(go.Scatter(x=to_datetimes(rate[0]), y=rate[1], name="request rate", mode="lines"), 1, 1)
    fig.add_trace(go.Scatter(x=to_datetimes(ready[0]), y=np.asarray(ready[1], float) * capacity_rps,
                             name="capacity of ready instances", mode="lines", line={"dash": "dot"}), 1, 1)
    with_forecast = [d for d in decisions if d.forecast_p90_rps is not None]
    fig.add_trace(go.Scatter(x=[d.at for d in with_forecast], y=[d.forecast_p90_rps for d in with_forecast],
                             name="forecast p90 seen", mode="markers", marker={"symbol": "triangle-up"}), 1, 1)
    fig.add_trace(go.Scatter(x=to_datetimes(ready[0]), y=ready[1], name="ready", mode="lines",
                             line={"shape": "hv"}), 2, 1)
    fig.add_trace(go.Scatter(
        x=[d.at for d in decisions], y=[d.to_instances for d in decisions], name="decisions", mode="markers",
        marker={"size": 11, "color": [CATEGORY_COLOURS.get(d.category, "#999") for d in decisions]},
        text=[f"{d.trigger} {d.from_instances}→{d.to_instances} ({d.status})<br>{d.reason[:160]}"
              for d in decisions], hoverinfo="text+x"), 2, 1)
    fig.add_trace(go.Scatter(
        x=[o.at for o in orders], y=[o.target for o in orders], name="orders", mode="markers",
        marker={"size": 9, "symbol": [ORDER_SYMBOLS.get(o.status, "circle") for o in orders]},
        text=[f"{o.kind} {o.order_id} → {o.target}: {o.status}" for o in orders], hoverinfo="text+x"), 2, 1)
    fig.update_layout(template="plotly_dark" if dark else "plotly_white", height=460,
                      margin={"l": 50, "r": 20, "t": 40, "b": 30}, hovermode="closest",
                      legend={"orientation": "h", "y": -0.08}, paper_bgcolor="rgba(0,0,0,0)")
    return fig
