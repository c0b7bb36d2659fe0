"""Forecast and season figures, checked without a browser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from app.figures_forecast import (budget_per_hour, capacity_figure, instances_figure, season_heatmap,
                                  wedding_day_figure)

DAY = datetime(2026, 6, 13, tzinfo=timezone.utc)
HOURS = [DAY + timedelta(hours=i) for i in range(24)]
PHASES = [("preparation", DAY + timedelta(hours=12), DAY + timedelta(hours=14)),
          ("ceremony", DAY + timedelta(hours=14), DAY + timedelta(hours=15))]


def _bands(scale: float) -> dict:
    p50 = np.arange(24, dtype=float) * scale
    return {"p10": p50 * 0.8, "p50": p50, "p90": p50 * 1.2}


def test_wedding_day_figure_draws_band_p50_actual_and_past_per_service():
    actual = {"api": np.full(24, np.nan)}
    actual["api"][:3] = [1.0, 2.0, 3.0]
    fig = wedding_day_figure(HOURS, {"api": _bands(1.0), "database": _bands(2.0)}, PHASES,
                             actual=actual, past={"api": np.ones(24)})
    names = [t.name for t in fig.data]
    assert names == ["p90", "p10–p90", "forecast p50", "actual", "forecast made before",
                     "p90", "p10–p90", "forecast p50"]
    assert fig.data[1].fill == "tonexty"                      # the band is filled up to p90
    assert list(fig.data[6].y)[:3] == [0.0, 1.6, 3.2]         # database p10, from its own bands
    assert list(fig.data[3].y)[:4] == [1.0, 2.0, 3.0, None]   # missing actuals are gaps, not zeros
    shaded = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(shaded) == 2 * len(PHASES)                     # every phase on every service row
    labels = [a for a in fig.layout.annotations if a.text in ("preparation", "ceremony")]
    assert [a.text for a in labels] == ["preparation", "ceremony"]          # labelled once, top row
    assert all(a.x != 0 for a in labels)          # placed at the phase, not at the epoch (x = 0)
    assert all(a.text for a in fig.layout.annotations)                       # no "new text" stubs


def test_instances_figure_is_a_step_line_per_service():
    fig = instances_figure(HOURS, {"api": [2] * 24, "database": [3] * 24}, PHASES)
    assert [t.name for t in fig.data] == ["api", "database"]
    assert fig.data[0].line.shape == "hv" and list(fig.data[1].y) == [3] * 24


def test_season_heatmap_has_weeks_down_and_weekdays_across():
    days = [{"date": (DAY + timedelta(days=i)).date().isoformat(), "peakRps": float(i), "weddings": int(i % 7 == 5)}
            for i in range(10)]
    fig = season_heatmap(days)
    heat = fig.data[0]
    assert list(heat.x) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert len(heat.z) == 2 and list(heat.z[1]) == [7.0, 8.0, 9.0, None, None, None, None]
    assert heat.text[0][5] == "1♥" and heat.text[0][0] == ""


def test_capacity_figure_stacks_instances_and_compares_cost_with_budget():
    budget = budget_per_hour(HOURS, [{"date": "2026-06-13", "budget": 48.0}])
    assert budget == [2.0] * 24
    fig = capacity_figure(HOURS, {"api": [2] * 24, "database": [3] * 24}, [1.5] * 24, budget)
    assert [t.name for t in fig.data] == ["api", "database", "cost", "budget"]
    assert fig.data[0].stackgroup == fig.data[1].stackgroup == "instances"
