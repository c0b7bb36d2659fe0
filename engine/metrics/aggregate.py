"""Vectorised bucket statistics: count, mean, min, max and p95 per group, without Python loops.

p95 is numpy's default ("linear") percentile: the value at position ``0.95 × (n − 1)`` of the
sorted group, interpolated between its neighbours, so results match ``np.percentile(x, 95)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

P95 = 0.95


@dataclass(frozen=True)
class BucketStats:
    """Statistics of k groups; every array has length k."""

    count: np.ndarray
    mean: np.ndarray
    min: np.ndarray
    max: np.ndarray
    p95: np.ndarray

    def as_fields(self) -> dict[str, np.ndarray]:
        """Return the statistics as a field dict for ``TimeRing.write``."""
        return {"count": self.count, "mean": self.mean, "min": self.min, "max": self.max, "p95": self.p95}


def _quantile_sorted(values: np.ndarray, starts: np.ndarray, counts: np.ndarray, q: float) -> np.ndarray:
    pos = q * (counts - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts - 1)
    frac = pos - lo
    a, b = values[starts + lo], values[starts + hi]
    return a + (b - a) * frac


def group_stats(group: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, BucketStats]:
    """Return ``(first_index_of_each_group, stats)`` for values labelled by a sorted ``group``.

    Groups of similar sizes (the usual case: 12 five-second points a minute) are padded into
    a matrix and sorted row-wise, which is several times faster than one ``lexsort``.

    Parameters
    ----------
    group : numpy.ndarray
        Non-decreasing group labels (int).
    values : numpy.ndarray
        One value per label.
    """
    n = len(group)
    if n == 0:
        empty = np.empty(0)
        return np.empty(0, dtype=np.int64), BucketStats(empty, empty, empty, empty, empty)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    counts = np.diff(np.r_[starts, n])
    if len(starts) == n:  # every group is a single value
        return starts, BucketStats(np.ones(n), values, values, values, values)
    width = int(counts.max())
    if len(starts) * width <= 4 * n:
        cols = np.arange(width, dtype=np.int64)
        valid = cols < counts[:, None]
        cells = np.minimum(starts[:, None] + cols, n - 1)
        return starts, matrix_stats(valid, values[cells])
    ordered = values[np.lexsort((values, group))]
    stats = BucketStats(count=counts.astype(np.float64), mean=np.add.reduceat(ordered, starts) / counts,
                        min=ordered[starts], max=ordered[starts + counts - 1],
                        p95=_quantile_sorted(ordered, starts, counts, P95))
    return starts, stats


def matrix_stats(valid: np.ndarray, values: np.ndarray) -> BucketStats:
    """Return the statistics of each row of ``values`` over the cells marked ``valid``.

    Rows without a valid cell get count 0 and NaN statistics.
    """
    counts = valid.sum(axis=1)
    filled = np.where(valid, values, np.inf)
    ordered = np.sort(filled, axis=1)
    k, width = values.shape
    safe = np.maximum(counts, 1)
    flat = ordered.ravel()
    starts = np.arange(k, dtype=np.int64) * width
    with np.errstate(invalid="ignore"):
        sums = np.where(valid, values, 0.0).sum(axis=1)
        stats = BucketStats(count=counts.astype(np.float64), mean=sums / safe,
                            min=ordered[:, 0], max=flat[starts + safe - 1],
                            p95=_quantile_sorted(flat, starts, safe, P95))
    if (counts == 0).any():
        empty = counts == 0
        stats = BucketStats(stats.count, *(np.where(empty, np.nan, a)
                                           for a in (stats.mean, stats.min, stats.max, stats.p95)))
    return stats


def merge_stats(old_present: np.ndarray, old: dict[str, np.ndarray], new: BucketStats) -> BucketStats:
    """Return the statistics of the union of stored buckets and new ones, pairwise.

    Count, mean, min and max merge exactly. The p95 of a union cannot be rebuilt from two
    summaries; the larger of the two p95s is kept. That is an approximation, not a bound: it
    can fall short of the union's p95 (``{0, 10}`` twice: each p95 is 9.5, the union's 10)
    and, with unequal counts, exceed it; it always lies within ``[min, max]``. Where
    ``old_present`` is False the new statistics are returned.
    """
    c_old = np.where(old_present, old["count"], 0.0)
    count = c_old + new.count
    mean = (np.where(old_present, old["mean"], 0.0) * c_old + new.mean * new.count) / count
    lo = np.where(old_present, np.minimum(old["min"], new.min), new.min)
    hi = np.where(old_present, np.maximum(old["max"], new.max), new.max)
    p95 = np.where(old_present, np.maximum(old["p95"], new.p95), new.p95)
    return BucketStats(count, mean, lo, hi, p95)
