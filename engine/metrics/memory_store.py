"""The in-process metric store: numpy ring buffers of 5 s points with 1-minute and 1-hour rollups.

Levels (one ``TimeRing`` each, one row per service × metric):

- raw: 5 s points, ``count`` and ``mean`` of the samples in each 5 s bucket;
- 1m and 1h rollups: ``count``, ``mean``, ``min``, ``max`` and ``p95`` of the 5 s points in
  each bucket (every 5 s point weighs the same).

Retention is counted per series back from its newest point: by default 24 h of raw points,
30 days of minutes, a year of hours. A backfill of 5-minute history therefore lands in both
rollups, and in raw only for its last 24 hours.

Late and out-of-order samples (the choice DESIGN.md leaves open):

- a sample whose 5 s bucket is already stored is merged into it (the mean of both);
- a rollup bucket that lies entirely inside the raw retention is recomputed from the raw
  points after every write that touches it, so late data inside 24 h gives exactly the
  rollups in-order data would have given;
- a late sample older than the raw retention is merged into the stored rollup buckets:
  count, mean, min and max exactly, p95 as the larger of the stored and the new p95 (an
  approximation, see ``aggregate.merge_stats``);
- a sample older than a level's retention is dropped from that level (its slot belongs to
  newer data); if it fits no level at all it is not counted as stored.

Samples of services or metrics the store was not built with are dropped, as are non-finite
values and timestamps outside ``[0, 1e11)`` Unix seconds.
"""

from __future__ import annotations

import itertools
import threading
from typing import Sequence

import numpy as np

from engine.metrics.aggregate import group_stats, matrix_stats, merge_stats
from engine.metrics.ring import TimeRing
from engine.metrics.store import RESOLUTION_S, RESOLUTIONS, pick_resolution
from engine.sources.base import SampleBatch

RAW_STEP_S = 5.0
ROLLUP_FIELDS = ("count", "mean", "min", "max", "p95")
MAX_TS = 1e11
_SERIES_SHIFT = 40  # sort key = series << 40 | 5 s bucket (buckets < 2**40 for ts < 1e11)


def _runs(*columns: np.ndarray) -> np.ndarray:
    """Return the start index of each run of equal rows across ``columns``."""
    n = len(columns[0])
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for col in columns:
        change[1:] |= col[1:] != col[:-1]
    return np.flatnonzero(change)


def _period(*columns: np.ndarray, probe: int = 4096) -> int | None:
    """Return the period ``p`` when every column repeats with it (``col[i] == col[i + p]``), else None.

    Time-major batches (every series at one timestamp, then the next) repeat the same
    service/metric pattern; mapping one period of names and tiling it avoids a Python-level
    lookup per sample.
    """
    n = len(columns[0])
    head = np.ones(min(n, probe) - 1, dtype=bool)
    for col in columns:
        head &= col[1:len(head) + 1] == col[0]
    hits = np.flatnonzero(head)
    if len(hits) == 0:
        return None
    p = int(hits[0]) + 1
    if all((col[p:] == col[:-p]).all() for col in columns):
        return p
    return None


def _codes(names: np.ndarray, index: dict[str, int]) -> np.ndarray:
    """Return the index of each name in ``index``, -1 when unknown."""
    if names.dtype.kind == "U":
        codes = np.full(len(names), -1, dtype=np.int64)
        for name, i in index.items():
            codes[names == name] = i
        return codes
    return np.fromiter(map(index.get, names, itertools.repeat(-1)), dtype=np.int64, count=len(names))


class RingBufferStore:
    """``MetricStore`` in numpy ring buffers; thread-safe (one lock).

    Parameters
    ----------
    services, metrics : sequence of str
        The series kept are every service × metric pair.
    raw_capacity : int, default 17280
        5 s points per series (24 h).
    minute_capacity : int, default 43200
        1-minute buckets per series (30 days).
    hour_capacity : int, default 8760
        1-hour buckets per series (one year).
    """

    def __init__(self, services: Sequence[str], metrics: Sequence[str], raw_capacity: int = 17280,
                 minute_capacity: int = 43200, hour_capacity: int = 8760):
        self.services = list(services)
        self.metrics = list(metrics)
        self._service_index = {s: i for i, s in enumerate(self.services)}
        self._metric_index = {m: i for i, m in enumerate(self.metrics)}
        n = len(self.services) * len(self.metrics)
        self._raw = TimeRing(n, raw_capacity, RAW_STEP_S, ("count", "mean"))
        self._rollups = {"1m": TimeRing(n, minute_capacity, RESOLUTION_S["1m"], ROLLUP_FIELDS),
                         "1h": TimeRing(n, hour_capacity, RESOLUTION_S["1h"], ROLLUP_FIELDS)}
        self._first_ts = np.full(n, np.inf)
        self._last_ts: float | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ MetricSink
    def ingest(self, batch: SampleBatch) -> int:
        """Store ``batch``; return the number of samples kept (see the module notes)."""
        if len(batch) == 0:
            return 0
        sid = self._series_ids(batch.service, batch.metric)
        ts, value = batch.ts, batch.value
        ok = (sid >= 0) & np.isfinite(value) & (ts >= 0) & (ts < MAX_TS)
        if not ok.all():
            sid, ts, value = sid[ok], ts[ok], value[ok]
        if len(ts) == 0:
            return 0
        b5 = np.floor(ts / RAW_STEP_S).astype(np.int64)
        key = (sid << _SERIES_SHIFT) | b5
        if len(key) > 1 and (key[1:] < key[:-1]).any():
            order = np.argsort(key, kind="stable")
            key, sid, b5, ts, value = key[order], sid[order], b5[order], ts[order], value[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        counts = np.diff(np.r_[starts, len(key)]).astype(np.float64)
        sums = np.add.reduceat(value, starts)
        with self._lock:
            kept = self._store_points(sid[starts], b5[starts], counts, sums)
            np.minimum.at(self._first_ts, sid[starts][kept], ts[starts][kept])
            newest = float(ts.max())
            self._last_ts = newest if self._last_ts is None else max(self._last_ts, newest)
        return int(counts[kept].sum())

    # ------------------------------------------------------------------ MetricReader
    def series(self, service: str, metric: str, since: float, until: float | None = None,
               resolution: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """Return ``(ts, mean)`` arrays for ``since ≤ ts ≤ until`` (see ``MetricReader.series``).

        ``"auto"`` measures the span from ``max(since, oldest stored point)`` to
        ``until`` (or the newest point), and falls back to a coarser level when the finer
        one no longer covers the start.
        """
        out = self.rollup(service, metric, resolution, since, until)
        return out["ts"], out["mean"]

    def latest(self, service: str) -> dict[str, tuple[float, float]]:
        """Return ``{metric: (ts, value)}`` of the newest 5 s point of each metric with data."""
        out: dict[str, tuple[float, float]] = {}
        if service not in self._service_index:
            return out
        with self._lock:
            for metric in self.metrics:
                sid = self._series_id(service, metric)
                newest = int(self._raw.newest[sid])
                if newest < 0:
                    continue
                present, values = self._raw.lookup(np.array([sid]), np.array([newest]))
                if present[0]:
                    out[metric] = (newest * RAW_STEP_S, float(values["mean"][0]))
        return out

    def last_ingest_ts(self) -> float | None:
        """Return the newest sample timestamp ever ingested, or None."""
        return self._last_ts

    # ------------------------------------------------------------------ rollups
    def rollup(self, service: str, metric: str, resolution: str, since: float,
               until: float | None = None) -> dict[str, np.ndarray]:
        """Return ``ts``, ``count``, ``min``, ``mean``, ``max`` and ``p95`` arrays of one series.

        ``resolution`` as in ``series``. At ``"raw"``, min, max and p95 equal the 5 s mean.

        Raises
        ------
        ValueError
            For an unknown resolution.
        """
        if resolution not in RESOLUTIONS:
            raise ValueError(f"unknown resolution {resolution!r}; expected one of {', '.join(RESOLUTIONS)}")
        empty = {k: np.empty(0) for k in ("ts",) + ROLLUP_FIELDS}
        if service not in self._service_index or metric not in self._metric_index:
            return empty
        sid = self._series_id(service, metric)
        with self._lock:
            if resolution == "auto":
                resolution = self._auto_resolution(sid, since, until)
            if resolution == "raw":
                ts, values = self._raw.read_range(sid, since, until)
                mean = values["mean"]
                return {"ts": ts, "count": values["count"], "min": mean, "mean": mean, "max": mean,
                        "p95": mean}
            ts, values = self._rollups[resolution].read_range(sid, since, until)
            return {"ts": ts, **values}

    def resolution_for(self, service: str, metric: str, since: float, until: float | None = None) -> str:
        """Return the resolution ``"auto"`` picks for this series and range."""
        if service not in self._service_index or metric not in self._metric_index:
            return "raw"
        with self._lock:
            return self._auto_resolution(self._series_id(service, metric), since, until)

    def restore_rollups(self, service: str, metric: str, resolution: str, bucket_ts: np.ndarray,
                        fields: dict[str, np.ndarray]) -> int:
        """Write archived rollup buckets (``ROLLUP_FIELDS`` arrays) of one series; return how many.

        Used to warm a new store from SQL (``engine.metrics.rollup_archive``) before anything
        is ingested; buckets past the level's retention are refused as in ``ingest``. The raw
        level and ``last_ingest_ts`` are untouched: restored history is not live data.
        """
        if service not in self._service_index or metric not in self._metric_index or not len(bucket_ts):
            return 0
        ring = self._rollups[resolution]
        sid = self._series_id(service, metric)
        buckets = ring.bucket_of(bucket_ts)
        with self._lock:
            kept = ring.write(np.full(len(buckets), sid, dtype=np.int64), buckets, fields)
            if kept.any():
                self._first_ts[sid] = min(self._first_ts[sid], float(np.asarray(bucket_ts)[kept].min()))
        return int(kept.sum())

    # ------------------------------------------------------------------ internals
    def _series_id(self, service: str, metric: str) -> int:
        return self._service_index[service] * len(self.metrics) + self._metric_index[metric]

    def _series_ids(self, services: np.ndarray, metrics: np.ndarray) -> np.ndarray:
        """Return the series index of each sample (-1 when unknown), per run when runs are long."""
        n = len(services)
        # Sources emit series-major batches: look up each run once. A prefix tells cheaply
        # whether the batch is made of long runs at all.
        if len(_runs(services[:256], metrics[:256])) <= 64:
            starts = _runs(services, metrics)
            if len(starts) <= n // 4:
                return np.repeat(self._lookup(services[starts], metrics[starts]), np.diff(np.r_[starts, n]))
        period = _period(services, metrics) if n >= 64 else None
        if period is not None:
            return np.resize(self._lookup(services[:period], metrics[:period]), n)
        return self._lookup(services, metrics)

    def _lookup(self, services: np.ndarray, metrics: np.ndarray) -> np.ndarray:
        s = _codes(services, self._service_index)
        m = _codes(metrics, self._metric_index)
        return np.where((s >= 0) & (m >= 0), s * len(self.metrics) + m, -1)

    def _auto_resolution(self, sid: int, since: float, until: float | None) -> str:
        newest = int(self._raw.newest[sid])
        if newest < 0:
            return "raw"
        end = newest * RAW_STEP_S if until is None else min(until, newest * RAW_STEP_S)
        start = max(since, float(self._first_ts[sid]))
        choice = pick_resolution(end - start)
        order = ("raw", "1m", "1h")
        for level in order[order.index(choice):]:
            ring = self._raw if level == "raw" else self._rollups[level]
            if level == "1h" or start >= ring.oldest_kept()[sid] * ring.step_s:
                return level
        return "1h"

    def _store_points(self, sid: np.ndarray, b5: np.ndarray, counts: np.ndarray, sums: np.ndarray) -> np.ndarray:
        """Write 5 s groups (sorted by series, bucket) to every level; return the mask kept anywhere."""
        raw = self._raw
        newest = raw.newest_after(sid, b5)
        in_raw = b5 > newest[sid] - raw.capacity
        present, old = raw.lookup(sid[in_raw], b5[in_raw])
        c_old = np.where(present, old["count"], 0.0)
        total = c_old + counts[in_raw]
        mean = (np.where(present, old["mean"], 0.0) * c_old + sums[in_raw]) / total
        raw.write(sid[in_raw], b5[in_raw], {"count": total, "mean": mean})
        complete_from = raw.oldest_kept()  # raw holds every point from here on, per series
        kept = in_raw.copy()
        points = sums / counts
        for ring in self._rollups.values():
            kept |= self._roll(ring, sid, b5, points, complete_from)
        return kept

    def _roll(self, ring: TimeRing, sid: np.ndarray, b5: np.ndarray, points: np.ndarray,
              complete_from: np.ndarray) -> np.ndarray:
        """Update ``ring``'s buckets touched by the 5 s points; return the mask of points kept."""
        ratio = int(round(ring.step_s / RAW_STEP_S))
        bucket = b5 // ratio
        change = np.r_[True, (sid[1:] != sid[:-1]) | (bucket[1:] != bucket[:-1])]
        pair_of_point = np.cumsum(change) - 1
        first = np.flatnonzero(change)
        p_sid, p_bucket = sid[first], bucket[first]
        appending = bool((p_bucket > ring.newest[p_sid]).all())  # nothing stored there yet
        newest = ring.newest_after(p_sid, p_bucket)
        fits = p_bucket > newest[p_sid] - ring.capacity
        exact = fits & (p_bucket * ratio >= complete_from[p_sid])
        if exact.any():
            e_sid, e_first = p_sid[exact], p_bucket[exact] * ratio
            # Cells after a series' newest point are empty: an open hour needs fewer columns.
            width = min(ratio, int((self._raw.newest[e_sid] - e_first).max()) + 1)
            valid, values = self._raw.gather(e_sid, e_first, width, "mean")
            ring.write(p_sid[exact], p_bucket[exact], matrix_stats(valid, values).as_fields(), newest)
        merge = fits & ~exact
        if merge.any():
            chosen = merge[pair_of_point] if not merge.all() else slice(None)
            _, stats = group_stats(pair_of_point[chosen], points[chosen])
            m_sid, m_bucket = p_sid[merge], p_bucket[merge]
            if not appending:
                present, old = ring.lookup(m_sid, m_bucket)
                stats = merge_stats(present, old, stats)
            ring.write(m_sid, m_bucket, stats.as_fields(), newest)
        return fits[pair_of_point]
