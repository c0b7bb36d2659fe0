"""What a chart shows of one service over a time range: the resolution, and per metric the
mean with, at rollup resolutions, its min–max band.

Each range has two resolutions:

- the *stored* one the data is read at (``storage_resolution_of``: raw 5 s up to 6 h, 1-minute
  rollups up to 7 days, 1-hour rollups beyond), which the CSV download exports in full;
- the *chart* one it is drawn at (``resolution_of``): the finest step that is a multiple of
  the stored one and gives a trace at most ``MAX_CHART_POINTS`` points, about what a wide
  screen can show (6 h → 15 s, 7 d → 10 min, the other ranges at their stored step). Chart
  buckets coarser than the stored ones are computed from them by ``buckets.coarsen``: mean
  weighted by count, band from the min of the mins to the max of the maxes, so a spike
  inside a bucket stays visible.

At a bucketed resolution only *complete* buckets are shown: the bucket holding the newest 5 s
point is still filling, and drawing it would show a mean that changes under the operator's
eyes and a band that only ever widens. A chart therefore gains a point once its bucket has
closed. Chart buckets are aligned on multiples of their step (Unix epoch), and a window's
first bucket is the first one starting at or after ``since``, so every bucket is whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from engine.metrics.buckets import coarsen
from engine.metrics.store import RESOLUTION_S, pick_resolution

RANGES_S: Mapping[str, float] = {"15m": 900.0, "1h": 3600.0, "6h": 6 * 3600.0, "24h": 86_400.0,
                                 "7d": 7 * 86_400.0, "30d": 30 * 86_400.0}
# About one point per pixel of a wide chart: more cannot be seen, only sent and drawn.
MAX_CHART_POINTS = 2000
# Chart resolutions, finest first: the stored ones ("raw", "1m", "1h") and round steps between.
CHART_STEP_S: Mapping[str, float] = {
    "raw": 5.0, "15s": 15.0, "30s": 30.0, "1m": 60.0, "2m": 120.0, "5m": 300.0, "10m": 600.0,
    "15m": 900.0, "30m": 1800.0, "1h": 3600.0, "2h": 7200.0, "6h": 21_600.0, "1d": 86_400.0}
_STORED_LABEL = {"raw": "raw 5 s", "1m": "1 min rollup", "1h": "1 h rollup"}
_SOURCE_NOUN = {"raw": "raw 5 s points", "1m": "1 min rollups", "1h": "1 h rollups"}


def source_of(resolution: str) -> str:
    """Return the stored resolution a chart resolution is computed from: the coarsest one dividing its step."""
    step = CHART_STEP_S[resolution]
    return max((r for r in RESOLUTION_S if step % RESOLUTION_S[r] == 0), key=RESOLUTION_S.get)


def _human(step_s: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if step_s >= size:
            return f"{step_s / size:g} {unit}"
    return f"{step_s:g} s"


RESOLUTION_LABEL: Mapping[str, str] = {
    r: _STORED_LABEL.get(r) or f"{_human(CHART_STEP_S[r])} buckets of {_SOURCE_NOUN[source_of(r)]}"
    for r in CHART_STEP_S}


@dataclass(frozen=True)
class SeriesWindow:
    """One metric's points: bucket starts (Unix s) and means; ``low``/``high`` the band or None;
    ``count`` the 5 s points in each bucket when the store says (rollups), else None."""

    ts: np.ndarray
    mean: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    count: np.ndarray | None = None


@dataclass(frozen=True)
class MetricWindow:
    """Every requested metric of one service at one resolution."""

    service: str
    resolution: str
    series: Mapping[str, SeriesWindow]

    @property
    def newest_ts(self) -> float | None:
        """The newest bucket start over all metrics, or None when the window is empty."""
        ends = [float(s.ts[-1]) for s in self.series.values() if len(s.ts)]
        return max(ends) if ends else None

    @property
    def step_s(self) -> float:
        """The width of one point, seconds."""
        return CHART_STEP_S[self.resolution]

    @property
    def n_points(self) -> int:
        """Points over all metrics."""
        return sum(len(s.ts) for s in self.series.values())


def storage_resolution_of(range_key: str) -> str:
    """Return the stored resolution a range is read at (and exported at, in full, as CSV).

    Raises
    ------
    KeyError
        For a range not in ``RANGES_S``.
    """
    return pick_resolution(RANGES_S[range_key])


def resolution_of(range_key: str) -> str:
    """Return the resolution a range is drawn at: the finest giving at most ``MAX_CHART_POINTS`` a trace.

    Raises
    ------
    KeyError
        For a range not in ``RANGES_S``.
    """
    span_s, stored_s = RANGES_S[range_key], RESOLUTION_S[storage_resolution_of(range_key)]
    for resolution, step_s in CHART_STEP_S.items():
        if step_s >= stored_s and step_s % stored_s == 0 and math.ceil(span_s / step_s) <= MAX_CHART_POINTS:
            return resolution
    return "1d"


def read_window(store, service: str, metrics: Sequence[str], resolution: str, since: float,
                now: float) -> MetricWindow:
    """Return the points of ``metrics`` with ``since ≤ ts`` at ``resolution``, complete buckets only.

    ``resolution`` is a key of ``CHART_STEP_S``. Stores offering ``rollup`` (min/max per
    bucket: the in-memory and the Redis store) give a band at rollup resolutions, and at
    coarser chart steps the min of the mins and max of the maxes; a store keeping means only
    gives no band at its stored rollups and the min–max of the means at coarser steps.
    """
    if resolution in RESOLUTION_S:
        step = RESOLUTION_S[resolution]
        # Raw points are complete when written; a rollup bucket is complete once "now" has left it.
        until = now if resolution == "raw" else math.floor(now / step) * step - step
        return _read_stored(store, service, metrics, resolution, since, until)
    step = CHART_STEP_S[resolution]
    source = source_of(resolution)
    first = math.ceil(since / step) * step  # a bucket starting before `since` would be partial
    newest_complete = math.floor(now / step) * step - step
    until = newest_complete + step - RESOLUTION_S[source]  # the last stored bucket inside it
    stored = _read_stored(store, service, metrics, source, first, until)
    out: dict[str, SeriesWindow] = {}
    for metric, s in stored.series.items():
        b = coarsen(s.ts, s.mean, step, low=s.low, high=s.high, count=s.count)
        out[metric] = SeriesWindow(b.ts, b.mean, b.low, b.high)
    return MetricWindow(service, resolution, out)


def _read_stored(store, service: str, metrics: Sequence[str], resolution: str, since: float,
                 until: float) -> MetricWindow:
    """Return the stored points with ``since ≤ ts ≤ until`` (bucket starts), with their counts at rollups."""
    out: dict[str, SeriesWindow] = {}
    rollup = getattr(store, "rollup", None)
    for metric in metrics:
        if resolution != "raw" and rollup is not None:
            cols = rollup(service, metric, resolution, since, until)
            out[metric] = SeriesWindow(cols["ts"], cols["mean"], cols["min"], cols["max"], cols["count"])
        else:
            ts, mean = store.series(service, metric, since, until, resolution=resolution)
            out[metric] = SeriesWindow(ts, mean)
    return MetricWindow(service, resolution, out)


def _range_points(range_key: str) -> int:
    return math.ceil(RANGES_S[range_key] / CHART_STEP_S[resolution_of(range_key)])


def max_points(range_key: str) -> int:
    """Return how many points one trace keeps for a range (the range plus a little slack)."""
    return _range_points(range_key) + 12


def grid_limit(range_key: str) -> int:
    """Return how long a bucketed range's trace may grow by ticks before it is drawn anew.

    Such traces are drawn on a regular grid (``x0``/``dx``, no x array), which Plotly's
    ``extendTraces`` cannot trim from the front; the page redraws instead, once the range
    has grown by 5 % (at least 12 points): for 7 d every 8.4 h, for 24 h every 72 min.
    """
    n = _range_points(range_key)
    return n + max(12, n // 20)


def window_csv(window: MetricWindow) -> str:
    """Return the window as CSV: ``timestamp_utc,service,metric,resolution,mean,min,max``, one row a point.

    At raw resolution ``min`` and ``max`` are empty (a 5 s point is one mean).
    """
    lines = ["timestamp_utc,service,metric,resolution,mean,min,max"]
    for metric, s in window.series.items():
        stamps = np.datetime_as_string(np.asarray(s.ts, dtype=np.float64).astype("datetime64[s]"), unit="s")
        low = s.low if s.low is not None else [None] * len(s.ts)
        high = s.high if s.high is not None else [None] * len(s.ts)
        for stamp, mean, lo, hi in zip(stamps, s.mean.tolist(), list(low), list(high)):
            lines.append(f"{stamp}Z,{window.service},{metric},{window.resolution},{mean:.6g},"
                         f"{'' if lo is None else format(float(lo), '.6g')},"
                         f"{'' if hi is None else format(float(hi), '.6g')}")
    return "\n".join(lines) + "\n"
