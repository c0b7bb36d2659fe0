"""Pure merge arithmetic of ``RedisMetricStore`` writes: no Redis here, only arrays.

A write reads, for every touched series and level, the span of ring slots its points fall in
(``Spans``), merges the points into those slots (``merge_level``) and writes the changed part
back. All series of a level are merged at once over the concatenated spans, so a tick of 45
series costs a handful of numpy calls rather than a few per series.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import Mapping

import numpy as np

from engine.metrics.memory_store import MAX_TS, RAW_STEP_S
from engine.sources.base import SampleBatch

_SERIES_SHIFT = 40  # sort key = series << 40 | 5 s bucket (buckets < 2**40 for ts < 1e11)


@dataclass(frozen=True)
class Points:
    """A batch grouped into 5 s points, sorted by (series, bucket); ``series`` is the store's index."""

    series: np.ndarray
    b5: np.ndarray
    count: np.ndarray
    sum: np.ndarray
    ts_min: np.ndarray
    newest_ts: float


def group_points(batch: SampleBatch, index: Mapping[tuple[str, str], int]) -> Points | None:
    """Return the valid samples of ``batch`` grouped into 5 s points, or None when none is valid.

    Valid: a ``(service, metric)`` in ``index``, a finite value and ``0 ≤ ts < 1e11``.
    """
    n = len(batch)
    if n == 0:
        return None
    service, metric = batch.service, batch.metric
    # Sources emit series-major batches: look each run of one series up once.
    starts = _starts((service[1:] != service[:-1]) | (metric[1:] != metric[:-1]))
    codes = np.fromiter(map(index.get, zip(service[starts], metric[starts]), repeat(-1)),
                        dtype=np.int64, count=len(starts))
    series = np.repeat(codes, np.diff(np.append(starts, n)))
    ts, value = batch.ts, batch.value
    ok = (series >= 0) & np.isfinite(value) & (ts >= 0) & (ts < MAX_TS)
    if not ok.any():
        return None
    series, ts, value = series[ok], ts[ok], value[ok]
    b5 = np.floor(ts / RAW_STEP_S).astype(np.int64)
    order = np.argsort((series << _SERIES_SHIFT) | b5, kind="stable")
    series, b5, ts, value = series[order], b5[order], ts[order], value[order]
    starts = _starts((series[1:] != series[:-1]) | (b5[1:] != b5[:-1]))
    return Points(series[starts], b5[starts], np.diff(np.append(starts, len(series))).astype(np.float64),
                  np.add.reduceat(value, starts), np.minimum.reduceat(ts, starts), float(ts.max()))


@dataclass(frozen=True)
class Spans:
    """Per touched series, the buckets ``lo..hi`` read at one level and where they start in the buffer."""

    lo: np.ndarray
    hi: np.ndarray
    offset: np.ndarray

    @classmethod
    def covering(cls, first: np.ndarray, last: np.ndarray, capacity: int) -> Spans:
        """Return the spans reaching from each series' ``first`` to ``last`` bucket, at most ``capacity`` long.

        Older buckets cannot be written: the newest bucket after the write is at least ``last``.
        """
        lo = np.maximum(first, last - capacity + 1)
        return cls(lo, last, np.concatenate(([0], np.cumsum(last - lo + 1)[:-1])).astype(np.int64))


@dataclass(frozen=True)
class LevelMerge:
    """The outcome of ``merge_level``, one entry per group unless said."""

    fits: np.ndarray       # within the level's retention after the write
    present: np.ndarray    # the bucket was stored before
    old_mean: np.ndarray   # its mean before (0 where absent)
    new_mean: np.ndarray
    newest: np.ndarray     # per series: the newest bucket after the write
    first_pos: np.ndarray  # per series: first and last buffer position written (-1: none)
    last_pos: np.ndarray


def merge_level(series: np.ndarray, bucket: np.ndarray, d_count: np.ndarray, d_sum: np.ndarray,
                heads: np.ndarray, capacity: int, step_s: float, spans: Spans, records: np.ndarray,
                counts: np.ndarray) -> LevelMerge:
    """Merge groups into the read slots (``records``, ``counts``, updated in place) of one level.

    Parameters
    ----------
    series, bucket : numpy.ndarray
        Touched-series index and bucket of each group; pairs unique and sorted.
    d_count, d_sum : numpy.ndarray
        What each group adds to its bucket: a count and a sum (a sum change may come with a
        count of 0 when a stored 5 s point changed).
    heads : numpy.ndarray
        Per touched series, the newest stored bucket (-1: none).
    capacity, step_s : int, float
        The level's ring.
    spans, records, counts : Spans, numpy.ndarray, numpy.ndarray
        The slots read, concatenated in series order.
    """
    newest = heads.copy()
    np.maximum.at(newest, series, bucket)
    fits = bucket > newest[series] - capacity
    pos = np.where(fits, spans.offset[series] + bucket - spans.lo[series], 0)
    present = fits & (records["ts"][pos] == bucket * step_s) & (counts[pos] > 0)
    old_count = np.where(present, counts[pos], 0.0)
    old_mean = np.where(present, records["mean"][pos], 0.0)
    new_count = old_count + d_count
    with np.errstate(invalid="ignore", divide="ignore"):
        new_mean = (old_mean * old_count + d_sum) / new_count
    write = fits & (new_count > 0)  # a changed point of a bucket no longer kept: nothing to do
    at = pos[write]
    records["ts"][at], records["mean"][at], counts[at] = bucket[write] * step_s, new_mean[write], new_count[write]
    first_pos, last_pos = np.full(len(heads), np.iinfo(np.int64).max), np.full(len(heads), -1)
    np.minimum.at(first_pos, series[write], at)
    np.maximum.at(last_pos, series[write], at)
    return LevelMerge(fits, present, old_mean, new_mean, newest, np.where(last_pos < 0, -1, first_pos), last_pos)


def rollup_deltas(raw: LevelMerge, points: Points) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(d_count, d_sum)`` each 5 s point adds to its rollup buckets.

    A new point counts once with its mean; a stored point that changed only moves the bucket's
    sum by the change of its mean; a point too old for raw counts as a new point.
    """
    d_count = np.where(raw.fits & raw.present, 0.0, 1.0)
    d_sum = np.where(raw.fits, raw.new_mean - raw.old_mean * raw.present, points.sum / points.count)
    return d_count, d_sum


def group_buckets(series: np.ndarray, bucket: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(starts, group_of_each)`` of the runs of equal ``(series, bucket)`` (both sorted)."""
    change = (series[1:] != series[:-1]) | (bucket[1:] != bucket[:-1])
    return _starts(change), np.concatenate(([0], np.cumsum(change)))


def _starts(change: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.flatnonzero(change) + 1))
