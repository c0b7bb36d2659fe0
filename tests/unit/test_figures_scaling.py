"""The scaling timeline figure carries the values and reasons it was given."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from app.figures_scaling import DecisionPoint, OrderPoint, why_figure

T = datetime(2026, 6, 13, 14, 0, tzinfo=timezone.utc)


def test_why_figure_joins_metrics_decisions_and_orders():
    ts = np.array([T.timestamp(), T.timestamp() + 60])
    decision = DecisionPoint(T, 4, 6, "reactive", "auto_approved", "executed", "cpu_pct 90 needs 6", 500.0)
    order = OrderPoint(T, 6, "scale", "failed", "decision-1")
    fig = why_figure("api", (ts, np.array([100.0, 300.0])), (ts, np.array([4.0, 6.0])), 120.0,
                     [decision], [order])
    traces = {t.name: t for t in fig.data}
    assert list(traces["request rate"].y) == [100.0, 300.0]
    assert list(traces["capacity of ready instances"].y) == [480.0, 720.0]
    assert list(traces["forecast p90 seen"].y) == [500.0]
    assert "cpu_pct 90 needs 6" in traces["decisions"].text[0]
    assert traces["orders"].marker.symbol[0] == "x" and "failed" in traces["orders"].text[0]
