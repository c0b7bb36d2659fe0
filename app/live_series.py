"""What the live traces carry: their fixed order, and their values encoded for the wire.

Trace order is fixed, because ticks extend traces by index (``extendData``):

- ``0 … 7``: the mean line of each metric in ``LIVE_TRACES`` order;
- then one (low, high) pair per metric in ``BAND_METRICS``: the min–max band at bucketed
  resolutions (empty at raw 5 s, where min = max = mean);
- then the scaling decisions (markers on the instances row, drawn by ``figures_live``).

What a redraw sends is kept small (a 7 d redraw was 0.9–4 MB before), because the page is
used over VPNs from laptops:

- at raw 5 s, each trace carries its times as Unix milliseconds (a date axis reads numbers
  as ms): half the bytes of ISO strings; ticks extend and trim these arrays;
- at bucketed resolutions every metric has a point per bucket, so the traces sit on one
  regular grid: ``x0`` (first bucket, ms) and ``dx`` (the step) instead of an x array that
  would otherwise be sent once per trace (20 times). A bucket without data is ``null``, and
  the traces connect across nulls (``connectgaps``), as lines through an x array did: history
  backfilled or scraped coarser than the chart step (a point every 5 min on a 1 min grid)
  would otherwise draw as isolated dots, that is, nothing;
- values are rounded to 4 significant digits, what the hover shows (``%{y:.4g}``) and more
  than a 128 px high row can resolve; the CSV download keeps full precision.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from engine.metrics.window import MetricWindow

# Rows of the small multiples: (title, metric ids drawn in that row, unit).
LIVE_ROWS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("CPU", ("cpu_pct",), "%"),
    ("Memory", ("memory_pct",), "%"),
    ("Request rate", ("request_rate",), "req/s"),
    ("p95 latency", ("latency_p95_ms",), "ms"),
    ("Error rate", ("error_rate_pct",), "%"),
    ("Queue depth", ("queue_depth",), ""),
    ("Instances (ready / pending)", ("instances_ready", "instances_pending"), ""),
)
LIVE_TRACES: tuple[str, ...] = tuple(m for _, metrics, _ in LIVE_ROWS for m in metrics)
BAND_METRICS: tuple[str, ...] = LIVE_TRACES[:6]
BAND_INDEX: Mapping[str, tuple[int, int]] = {
    m: (len(LIVE_TRACES) + 2 * i, len(LIVE_TRACES) + 2 * i + 1) for i, m in enumerate(BAND_METRICS)}
ROW_OF: Mapping[str, int] = {m: row for row, (_, metrics, _) in enumerate(LIVE_ROWS, start=1) for m in metrics}
SIGNIFICANT_DIGITS = 4


def to_ms(ts: np.ndarray) -> list[int]:
    return (np.asarray(ts, dtype=np.float64) * 1000).astype(np.int64).tolist()


def round_significant(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """Return ``values`` rounded to ``digits`` significant digits (NaN stays NaN, 0 stays 0).

    Dividing by an exact power of ten gives the double nearest the rounded decimal, so JSON
    writes it in as few characters as it has digits (45.12, not 45.120000000000005).
    """
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(v)))
    decimals = np.where(np.isfinite(magnitude), digits - 1 - magnitude, 0).astype(np.int64)
    up = 10.0 ** np.clip(decimals, 0, 300)
    down = 10.0 ** np.clip(-decimals, 0, 300)
    return np.where(decimals >= 0, np.round(v * up) / up, np.round(v / down) * down)


def to_values(values: np.ndarray | None) -> list:
    """Return values for the wire: a plain list, 4 significant digits, NaN as null."""
    # Plain lists, not numpy: plotly would send a typed array, which the browser's
    # extendTraces refuses to extend ("non-array attribute"). NaN (an empty bucket) → null.
    if values is None:
        return []
    rounded = round_significant(values)
    out = rounded.tolist()
    if np.isnan(rounded).any():
        out = [None if v != v else v for v in out]
    return out


def _on_grid(ts: np.ndarray, values: np.ndarray, first_s: float, step_s: float, n: int) -> list:
    """Return ``values`` placed on the grid ``first_s + k·step_s`` (k < n), null where a bucket has none."""
    column = np.full(n, np.nan)
    k = np.rint((np.asarray(ts, dtype=np.float64) - first_s) / step_s).astype(np.int64)
    inside = (k >= 0) & (k < n)
    column[k[inside]] = np.asarray(values, dtype=np.float64)[inside]
    return to_values(column)


def grid_of(window: MetricWindow) -> tuple[float, int] | None:
    """Return ``(first bucket start s, buckets)`` of a bucketed window's common grid.

    None at raw 5 s (drawn with x arrays) and for an empty window.
    """
    if window.resolution == "raw":
        return None
    filled = [s for s in window.series.values() if len(s.ts)]
    if not filled:
        return None
    first, last = min(float(s.ts[0]) for s in filled), max(float(s.ts[-1]) for s in filled)
    return first, int(round((last - first) / window.step_s)) + 1


def _grid_columns(window: MetricWindow, first_s: float, n: int) -> dict[int, list]:
    """Return ``{trace index: y values on the grid}``: every mean trace, and the bands when the window has them."""
    columns = {}
    for i, metric in enumerate(LIVE_TRACES):
        s = window.series.get(metric)
        columns[i] = _on_grid(s.ts, s.mean, first_s, window.step_s, n) if s else [None] * n
        if metric in BAND_INDEX and s is not None and s.low is not None:
            for j, values in zip(BAND_INDEX[metric], (s.low, s.high)):
                columns[j] = _on_grid(s.ts, values, first_s, window.step_s, n)
    return columns


def trace_xy(window: MetricWindow) -> list[dict]:
    """Return the x and y properties of each data trace, in trace order (see the module notes)."""
    grid = grid_of(window)
    if grid is not None:
        first_s, n = grid
        columns = _grid_columns(window, first_s, n)
        at = {"x0": first_s * 1000, "dx": window.step_s * 1000, "connectgaps": True}
        return [{**at, "y": columns[i]} if i in columns else {"y": []}
                for i in range(len(LIVE_TRACES) + 2 * len(BAND_METRICS))]
    xy = []
    for metric in LIVE_TRACES:
        s = window.series.get(metric)
        xy.append({"x": to_ms(s.ts) if s else [], "y": to_values(s.mean) if s else []})
    for metric in BAND_METRICS:
        s = window.series.get(metric)
        banded = s is not None and s.low is not None
        for values in (s.low if banded else None, s.high if banded else None):
            xy.append({"x": to_ms(s.ts) if banded else [], "y": to_values(values)})
    return xy


def extend_payload(window: MetricWindow, max_points: int):
    """Return the ``extendData`` value adding ``window``'s raw points to the live traces, or None.

    The value is ``(update, trace_indices, max_points)`` as Plotly's ``extendTraces`` takes it.
    For a bucketed window use ``extend_grid_payload``.
    """
    xs, ys, idx = [], [], []
    for i, metric in enumerate(LIVE_TRACES):
        s = window.series.get(metric)
        if s is None or len(s.ts) == 0:
            continue
        x = to_ms(s.ts)
        xs.append(x)
        ys.append(to_values(s.mean))
        idx.append(i)
        if metric in BAND_INDEX and s.low is not None:
            for j, values in zip(BAND_INDEX[metric], (s.low, s.high)):
                xs.append(x)
                ys.append(to_values(values))
                idx.append(j)
    if not idx:
        return None
    return {"x": xs, "y": ys}, idx, max_points


def extend_grid_payload(window: MetricWindow, last_drawn_s: float):
    """Return the ``extendData`` value continuing a bucketed figure's grid, or None.

    ``last_drawn_s`` is the start of the figure's last bucket; the value holds the y values of
    the buckets after it up to the window's newest (null for buckets without data, so every
    trace stays on the grid) as ``(update, trace_indices)``. No trimming: a trace on a grid
    cannot lose its first points without moving ``x0``, so the page redraws instead.
    """
    newest = window.newest_ts
    if newest is None or newest <= last_drawn_s:
        return None
    first = last_drawn_s + window.step_s
    columns = _grid_columns(window, first, int(round((newest - first) / window.step_s)) + 1)
    idx = sorted(columns)
    return {"y": [columns[i] for i in idx]}, idx
