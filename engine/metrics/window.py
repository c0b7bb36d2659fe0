"""What a chart shows of one service over a time range: the resolution, and per metric the
mean with, at rollup resolutions, its min–max band.

Ranges map to resolutions as ``pick_resolution`` says (raw 5 s up to 6 h, 1-minute rollups up
to 7 days, 1-hour rollups beyond). At a rollup resolution only *complete* buckets are shown:
the bucket holding the newest 5 s point is still filling, and drawing it would show a mean
that changes under the operator's eyes and a band that only ever widens. A chart therefore
gains a rollup point once its bucket has closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from engine.metrics.store import RESOLUTION_S, pick_resolution

RANGES_S: Mapping[str, float] = {"15m": 900.0, "1h": 3600.0, "6h": 6 * 3600.0, "24h": 86_400.0,
                                 "7d": 7 * 86_400.0, "30d": 30 * 86_400.0}
RESOLUTION_LABEL: Mapping[str, str] = {"raw": "raw 5 s", "1m": "1 min rollup", "1h": "1 h rollup"}


@dataclass(frozen=True)
class SeriesWindow:
    """One metric's points: bucket starts (Unix s) and means; ``low``/``high`` the band or None."""

    ts: np.ndarray
    mean: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None


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
    def n_points(self) -> int:
        """Points over all metrics."""
        return sum(len(s.ts) for s in self.series.values())


def resolution_of(range_key: str) -> str:
    """Return the resolution a range is drawn at.

    Raises
    ------
    KeyError
        For a range not in ``RANGES_S``.
    """
    return pick_resolution(RANGES_S[range_key])


def read_window(store, service: str, metrics: Sequence[str], resolution: str, since: float,
                now: float) -> MetricWindow:
    """Return the points of ``metrics`` with ``since ≤ ts`` at ``resolution``, complete buckets only.

    Stores offering ``rollup`` (min/max per bucket: the in-memory and the Redis store) give a
    band at rollup resolutions; others give none.
    """
    step = RESOLUTION_S[resolution]
    # Raw points are complete when written; a rollup bucket is complete once "now" has left it.
    until = now if resolution == "raw" else np.floor(now / step) * step - step
    out: dict[str, SeriesWindow] = {}
    rollup = getattr(store, "rollup", None)
    for metric in metrics:
        if resolution != "raw" and rollup is not None:
            cols = rollup(service, metric, resolution, since, until)
            out[metric] = SeriesWindow(cols["ts"], cols["mean"], cols["min"], cols["max"])
        else:
            ts, mean = store.series(service, metric, since, until, resolution=resolution)
            out[metric] = SeriesWindow(ts, mean)
    return MetricWindow(service, resolution, out)


def max_points(range_key: str) -> int:
    """Return how many points one trace keeps for a range (the range plus a little slack)."""
    step = RESOLUTION_S[resolution_of(range_key)]
    return int(RANGES_S[range_key] // step) + 12


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
