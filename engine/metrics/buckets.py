"""Coarser buckets computed from finer stored ones, for charts that cannot show every point.

A chart of 7 days at 1-minute rollups has 10,080 points a trace, five times what a screen
can draw. ``coarsen`` merges them into wider buckets without hiding anything a chart should
show: the mean is the count-weighted mean of the finer means (the mean of every 5 s point,
as the store's own rollups compute it), and the band keeps the *min of the mins and the max
of the maxes*, so a spike inside a bucket still reaches the band's edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Buckets:
    """Bucket starts (Unix s, multiples of the step) with the mean, min and max of each."""

    ts: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def coarsen(ts: np.ndarray, mean: np.ndarray, step_s: float, *, low: np.ndarray | None = None,
            high: np.ndarray | None = None, count: np.ndarray | None = None) -> Buckets:
    """Return the points merged into buckets ``[k·step_s, (k+1)·step_s)`` aligned on the epoch.

    Parameters
    ----------
    ts : bucket starts of the finer points, Unix seconds, ascending.
    mean : their means.
    step_s : width of the new buckets, seconds; a multiple of the finer step.
    low, high : the finer points' min and max; default ``mean`` (points without a band, such
        as raw 5 s points or a store keeping means only: the band is then the min–max of the
        finer means).
    count : the weight of each finer point (how many 5 s points it holds); default 1 each.

    Returns
    -------
    Buckets
        One entry per new bucket holding at least one finer point (empty buckets are absent,
        not zero): ``mean`` weighted by ``count``, ``low`` the min of ``low``, ``high`` the max
        of ``high``.
    """
    ts = np.asarray(ts, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    if len(ts) == 0:
        empty = np.empty(0)
        return Buckets(empty, empty, empty, empty)
    low = mean if low is None else np.asarray(low, dtype=np.float64)
    high = mean if high is None else np.asarray(high, dtype=np.float64)
    weight = np.ones_like(mean) if count is None else np.asarray(count, dtype=np.float64)
    edges = np.floor(ts / step_s) * step_s
    starts = np.flatnonzero(np.r_[True, edges[1:] != edges[:-1]])
    total = np.add.reduceat(weight, starts)
    return Buckets(ts=edges[starts],
                   mean=np.add.reduceat(mean * weight, starts) / total,
                   low=np.minimum.reduceat(low, starts),
                   high=np.maximum.reduceat(high, starts))
