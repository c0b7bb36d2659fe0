"""Pure merge arithmetic of ``RedisMetricStore`` writes: no Redis here, only arrays.

A write reads, for every touched series and level, the span of ring slots its points fall in
(``Spans``), merges the points into those slots (``merge_level`` for raw, ``merge_rollup`` for
the 1-minute and 1-hour levels) and writes the changed part back. All series of a level are
merged at once over the concatenated spans, so a tick of 45 series costs a handful of numpy
calls rather than a few per series.

A rollup bucket that the raw ring covers whole is recomputed from the raw 5 s points
(``stats_from_raw``), the rule ``RingBufferStore`` follows; the raw span a write reads
therefore reaches back to the start of the oldest touched hour (``Spans.for_raw``).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import Mapping

import numpy as np

from engine.metrics.aggregate import BucketStats, matrix_stats, merge_stats
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
        return cls.between(np.maximum(first, last - capacity + 1), last)

    @classmethod
    def for_raw(cls, first: np.ndarray, last: np.ndarray, heads: np.ndarray, capacity: int, widest: int) -> Spans:
        """Return the raw spans a write reads: its points and every raw point of the rollup buckets they touch.

        From the start of the ``widest``-point bucket (the hour) holding ``first`` to the end
        of the one holding ``last``, clipped to the raw retention after the write (nothing
        exists past the newest point, nothing is kept before ``newest − capacity + 1``).
        """
        newest = np.maximum(heads, last)
        lo = np.maximum(first // widest * widest, newest - capacity + 1)
        hi = np.minimum((last // widest + 1) * widest - 1, newest)
        # No point of the series fits raw any more: read one retained slot, which nothing uses.
        return cls.between(lo, np.maximum(hi, lo))

    @classmethod
    def between(cls, lo: np.ndarray, hi: np.ndarray) -> Spans:
        """Return the spans ``lo..hi`` (each shorter than the ring), laid end to end in the buffer."""
        return cls(lo, hi, np.concatenate(([0], np.cumsum(hi - lo + 1)[:-1])).astype(np.int64))


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
    newest, fits, pos, present = _locate(series, bucket, heads, capacity, step_s, spans, records, counts)
    old_count = np.where(present, counts[pos], 0.0)
    old_mean = np.where(present, records["mean"][pos], 0.0)
    new_count = old_count + d_count
    with np.errstate(invalid="ignore", divide="ignore"):
        new_mean = (old_mean * old_count + d_sum) / new_count
    write = fits & (new_count > 0)  # a changed point of a bucket no longer kept: nothing to do
    at = pos[write]
    records["ts"][at], records["mean"][at], counts[at] = bucket[write] * step_s, new_mean[write], new_count[write]
    first_pos, last_pos = _written_range(series[write], at, len(heads))
    return LevelMerge(fits, present, old_mean, new_mean, newest, first_pos, last_pos)


@dataclass(frozen=True)
class RollupChange:
    """What a write brings to each touched rollup bucket (one entry per group).

    ``d_count``/``d_sum`` as in ``merge_level``; ``points`` the count, min, max and p95 of the
    new means of the group's 5 s points (``group_stats``); ``exact`` marks the buckets the raw
    ring covers whole, and ``from_raw`` holds their statistics recomputed from raw (one entry
    per ``exact`` group, in order).
    """

    d_count: np.ndarray
    d_sum: np.ndarray
    points: BucketStats
    exact: np.ndarray
    from_raw: BucketStats


def merge_rollup(series: np.ndarray, bucket: np.ndarray, change: RollupChange, heads: np.ndarray,
                 capacity: int, step_s: float, spans: Spans, records: np.ndarray, counts: np.ndarray
                 ) -> LevelMerge:
    """Merge groups into the read slots of a rollup level (``records`` with min/max/p95, updated in place).

    Buckets marked ``exact`` take the statistics recomputed from raw: every field exact. The
    others merge with what is stored: count and mean by the deltas (exact); min and max widen
    to the new means of the touched 5 s points, so they are exact for new points and
    conservative for a changed point (its old mean may have been the extreme: the band may
    stay wider than the data, never narrower); p95 becomes the larger of the stored p95 and the
    p95 of the touched points (``RingBufferStore``'s rule; an approximation, always within
    ``[min, max]``). Parameters as in ``merge_level``.
    """
    newest, fits, pos, present = _locate(series, bucket, heads, capacity, step_s, spans, records, counts)
    old = records[pos]
    old_count = np.where(present, counts[pos], 0.0)
    old_mean = np.where(present, old["mean"], 0.0)
    count = old_count + change.d_count
    # Count and mean by the deltas (a changed point is no extra point); the band and p95 merge
    # by RingBufferStore's rule.
    stored = {"count": counts[pos], **{f: old[f] for f in ("mean", "min", "max", "p95")}}
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (old_mean * old_count + change.d_sum) / count
        band = merge_stats(present, stored, change.points)
    low, high, p95 = band.min, band.max, band.p95
    exact = change.exact
    for column, value in ((count, change.from_raw.count), (mean, change.from_raw.mean), (low, change.from_raw.min),
                          (high, change.from_raw.max), (p95, change.from_raw.p95)):
        column[exact] = value
    write = fits & (count > 0)
    at = pos[write]
    slots = records[at]
    slots["ts"], slots["mean"], slots["min"], slots["max"], slots["p95"] = (
        bucket[write] * step_s, mean[write], low[write], high[write], p95[write])
    records[at], counts[at] = slots, count[write]
    first_pos, last_pos = _written_range(series[write], at, len(heads))
    return LevelMerge(fits, present, old_mean, mean, newest, first_pos, last_pos)


def stats_from_raw(series: np.ndarray, first_b5: np.ndarray, ratio: int, spans: Spans, records: np.ndarray,
                   counts: np.ndarray) -> BucketStats:
    """Return the statistics of the stored 5 s points of ``first_b5 .. first_b5 + ratio − 1``, per group.

    Read from the raw buffer (``records``, ``counts`` of ``spans``, after the raw merge); points
    outside a series' span are absent, as are slots holding another bucket.
    """
    if not len(series):
        return BucketStats(*(np.empty(0) for _ in range(5)))
    lo, hi, offset = spans.lo[series][:, None], spans.hi[series][:, None], spans.offset[series][:, None]
    # Cells past a series' newest point are empty: an open hour needs fewer columns.
    width = int(min(ratio, max(1, int((spans.hi[series] - first_b5).max()) + 1)))
    b5 = first_b5[:, None] + np.arange(width, dtype=np.int64)
    inside = (b5 >= lo) & (b5 <= hi)
    pos = np.where(inside, offset + b5 - lo, 0)
    valid = inside & (records["ts"][pos] == b5 * RAW_STEP_S) & (counts[pos] > 0)
    return matrix_stats(valid, records["mean"][pos])


def _locate(series: np.ndarray, bucket: np.ndarray, heads: np.ndarray, capacity: int, step_s: float, spans: Spans,
            records: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(newest per series, fits, buffer position, present)`` of each group at one level."""
    newest = heads.copy()
    np.maximum.at(newest, series, bucket)
    fits = bucket > newest[series] - capacity
    pos = np.where(fits, spans.offset[series] + bucket - spans.lo[series], 0)
    present = fits & (records["ts"][pos] == bucket * step_s) & (counts[pos] > 0)
    return newest, fits, pos, present


def _written_range(series: np.ndarray, at: np.ndarray, n_series: int) -> tuple[np.ndarray, np.ndarray]:
    """Return per series the first and last buffer position written (-1 for both: none)."""
    first_pos, last_pos = np.full(n_series, np.iinfo(np.int64).max), np.full(n_series, -1)
    np.minimum.at(first_pos, series, at)
    np.maximum.at(last_pos, series, at)
    return np.where(last_pos < 0, -1, first_pos), last_pos


def rollup_deltas(raw: LevelMerge, points: Points) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(d_count, d_sum, value)`` each 5 s point brings to its rollup buckets.

    A new point counts once with its mean; a stored point that changed only moves the bucket's
    sum by the change of its mean; a point too old for raw counts as a new point. ``value`` is
    the point's mean after the write (what min, max and p95 see).
    """
    d_count = np.where(raw.fits & raw.present, 0.0, 1.0)
    value = np.where(raw.fits, raw.new_mean, points.sum / points.count)
    d_sum = np.where(raw.fits, raw.new_mean - raw.old_mean * raw.present, value)
    return d_count, d_sum, value


def group_buckets(series: np.ndarray, bucket: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(starts, group_of_each)`` of the runs of equal ``(series, bucket)`` (both sorted)."""
    change = (series[1:] != series[:-1]) | (bucket[1:] != bucket[:-1])
    return _starts(change), np.concatenate(([0], np.cumsum(change)))


def _starts(change: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.flatnonzero(change) + 1))
