"""The live metric store in Redis, shared by every web worker: the leader writes, all read.

Same contract and read semantics as ``RingBufferStore`` (``series`` returns bucket starts and
means, ``rollup`` the count, mean, min, max and p95 of each bucket, ``restore_rollups`` warms it
from the SQL archive, ``"auto"`` picks the resolution the same way, unknown names give empty
arrays), kept in binary rings (``engine.metrics.redis_ring``): raw 5 s points (count and mean
of their samples), and 1-minute and 1-hour rings holding the count, mean, min, max and p95 of
the 5 s points of each bucket (every 5 s point weighs the same). Default retention matches the
in-memory store: 24 h raw, 30 days of minutes, a year of hours.

Writes are optimistic transactions: ``WATCH`` every key the batch touches, read the heads, then
the touched slots, compute, then ``MULTI``/``EXEC`` all writes at once, so readers never see a
half-written batch; a concurrent writer (a second leader during a handover) makes ``EXEC`` fail
and the batch is recomputed from the new state, up to ``MAX_ATTEMPTS`` times. Nothing of a
writer's state lives in the process, so a new writer instance continues from the heads in Redis.

Late and out-of-order samples:

- a sample whose 5 s bucket is stored is merged into it (mean weighted by sample counts);
- a rollup bucket that the raw ring covers whole after the write (its first 5 s point is within
  the raw retention) is recomputed from the raw points on every write that touches it: count,
  mean, min, max and p95 exactly as in-order data would give them, and as ``RingBufferStore``
  gives them (same rule). So a late sample that lowers the mean of the point that was a
  bucket's max lowers the max too. The price: a write reads the raw slots from the start of
  each touched hour (up to 720 × 24 bytes per series);
- a rollup bucket the raw ring no longer covers whole is merged instead. A new 5 s point (one
  older than the raw retention, or new in raw) adds to count, mean, min and max exactly; a
  stored point whose mean changed (a bucket straddling the raw ring's oldest edge) moves the
  mean by the change (exact) and widens min/max to its new mean but never narrows them — the
  old mean may have been the extreme and the other points are gone from raw, so the band is
  conservative: perhaps wider than the data, never narrower. p95 becomes the larger of the
  stored p95 and the p95 of the touched points, ``RingBufferStore``'s rule: an approximation
  (linear interpolation can put a union's p95 a little above both parts'), always within
  ``[min, max]``. ``RingBufferStore`` counts such a changed point as an extra point instead;
  that is the one place the two stores differ;
- a sample older than a level's retention is dropped from that level; if it fits no level it
  is not counted. Unknown services or metrics, non-finite values and timestamps outside
  ``[0, 1e11)`` are dropped too.

The layout (capacities and record fields) is stored under ``{prefix}layout``; keys written with
another one — including the earlier layout whose rollups had no min/max/p95 — are refused with
a ``ValueError`` rather than migrated (see ``_check_layout``). Redis errors
(``redis.exceptions.RedisError``) propagate to the caller.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import redis

from engine.metrics.aggregate import group_stats
from engine.metrics.memory_store import RAW_STEP_S, ROLLUP_FIELDS
from engine.metrics.redis_merge import (LevelMerge, Points, RollupChange, Spans, group_buckets, group_points,
                                        merge_level, merge_rollup, rollup_deltas, stats_from_raw)
from engine.metrics.redis_restore import prepare_buckets, write_restored
from engine.metrics.redis_ring import RedisRing
from engine.metrics.store import RESOLUTION_S, RESOLUTIONS, pick_resolution
from engine.sources.base import SampleBatch

MAX_ATTEMPTS = 20
_LEVELS = ("raw", "1m", "1h")


class RedisMetricStore:
    """``MetricStore`` in Redis binary rings, for several workers (see the module notes).

    Parameters
    ----------
    redis_client : redis.Redis
        A client created with ``decode_responses=False`` (the rings are binary).
    services, metrics : sequence of str
        The series kept are every service × metric pair.
    prefix : str
        Prefix of every key, e.g. ``"wedscale:live:"``; one prefix per deployment (or test run).
    raw_capacity : int, default 17280
        5 s points per series (24 h).
    minute_capacity : int, default 43200
        1-minute buckets per series (30 days).
    hour_capacity : int, default 8760
        1-hour buckets per series (one year).

    Raises
    ------
    ValueError
        When the client decodes responses to text. The first read or write raises
        ``ValueError`` too when the keys under ``prefix`` were written with other capacities.
    """

    def __init__(self, redis_client: Any, services: Sequence[str], metrics: Sequence[str], *, prefix: str,
                 raw_capacity: int = 17280, minute_capacity: int = 43200, hour_capacity: int = 8760):
        pool = getattr(redis_client, "connection_pool", None)
        if pool is not None and pool.connection_kwargs.get("decode_responses"):
            raise ValueError("RedisMetricStore needs a Redis client with decode_responses=False")
        self.services, self.metrics, self.prefix = list(services), list(metrics), prefix
        self._redis = redis_client
        capacities = {"raw": raw_capacity, "1m": minute_capacity, "1h": hour_capacity}
        self._rings = {level: RedisRing(prefix, level, RESOLUTION_S[level], int(capacities[level]))
                       for level in _LEVELS}
        self._ratio = {level: int(round(RESOLUTION_S[level] / RAW_STEP_S)) for level in _LEVELS}
        self._names = [f"{s}:{m}" for s in self.services for m in self.metrics]
        self._index = {(s, m): i for i, (s, m) in enumerate((s, m) for s in self.services for m in self.metrics)}
        self._last_key, self._layout_key = f"{prefix}last_ts", f"{prefix}layout"
        self._layout_checked = False

    # ------------------------------------------------------------------ MetricSink
    def ingest(self, batch: SampleBatch) -> int:
        """Store ``batch``; return the number of samples kept (see the module notes).

        Raises
        ------
        redis.exceptions.WatchError
            When other writers changed the touched keys ``MAX_ATTEMPTS`` times in a row.
        """
        points = group_points(batch, self._index)
        if points is None:
            return 0
        self._check_layout()
        return _retry(self._write, points)

    # ------------------------------------------------------------------ MetricReader
    def series(self, service: str, metric: str, since: float, until: float | None = None,
               resolution: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """Return ``(ts, mean)`` arrays for ``since ≤ ts ≤ until`` (see ``MetricReader.series``).

        ``"auto"`` measures the span from ``max(since, oldest stored sample)`` to ``until`` (or
        the newest point) and falls back to a coarser level when the finer one no longer covers
        the start, exactly as ``RingBufferStore.series``. Two round trips.
        """
        _, records, _ = self._read(service, metric, resolution, since, until, counts=False)
        return records["ts"].copy(), records["mean"].copy()

    def rollup(self, service: str, metric: str, resolution: str, since: float,
               until: float | None = None) -> dict[str, np.ndarray]:
        """Return ``ts``, ``count``, ``min``, ``mean``, ``max`` and ``p95`` arrays of one series.

        Same contract as ``RingBufferStore.rollup``: ``resolution`` as in ``series``; at
        ``"raw"`` the count is the samples of each 5 s point and min, max and p95 equal its
        mean. How exact each field is: see the module notes. Two round trips.

        Raises
        ------
        ValueError
            For an unknown resolution.
        """
        level, records, counts = self._read(service, metric, resolution, since, until, counts=True)
        out = {"ts": records["ts"].copy(), "count": counts}
        if level == "raw":
            mean = records["mean"].copy()
            return {**out, "min": mean, "mean": mean, "max": mean, "p95": mean}
        return {**out, **{f: records[f].copy() for f in ROLLUP_FIELDS if f != "count"}}

    def resolution_for(self, service: str, metric: str, since: float, until: float | None = None) -> str:
        """Return the resolution ``"auto"`` picks for this series and range."""
        sid = self._index.get((service, metric))
        if sid is None:
            return "raw"
        self._check_layout()
        heads, first = self._heads(self._names[sid])
        return self._auto_resolution(heads, first, since, until)

    def restore_rollups(self, service: str, metric: str, resolution: str, bucket_ts: np.ndarray,
                        fields: dict[str, np.ndarray]) -> int:
        """Write archived rollup buckets (``ROLLUP_FIELDS`` arrays) of one series; return how many.

        Same contract as ``RingBufferStore.restore_rollups``: used to warm the store from SQL
        (``engine.metrics.rollup_archive``), e.g. after Redis lost its data; a restored bucket
        replaces what its slot held; buckets past the level's retention are refused; the raw
        level and ``last_ingest_ts`` are untouched. Of several rows of one bucket the last wins.
        One optimistic transaction, retried like ``ingest``.

        Raises
        ------
        ValueError
            For a resolution other than ``"1m"`` or ``"1h"``.
        redis.exceptions.WatchError
            When other writers changed the level's keys ``MAX_ATTEMPTS`` times in a row.
        """
        if resolution not in ("1m", "1h"):
            raise ValueError(f"rollups are restored at '1m' or '1h', not {resolution!r}")
        sid = self._index.get((service, metric))
        if sid is None or not len(bucket_ts):
            return 0
        self._check_layout()
        ring = self._rings[resolution]
        restored = prepare_buckets(ring, bucket_ts, fields)
        return _retry(write_restored, self._redis, ring, self._names[sid], self._first_key(self._names[sid]), restored)

    def latest(self, service: str) -> dict[str, tuple[float, float]]:
        """Return ``{metric: (ts, value)}`` of the newest 5 s point of each metric with data."""
        if service not in self.services:
            return {}
        self._check_layout()
        ring = self._rings["raw"]
        names = [self._names[self._index[(service, m)]] for m in self.metrics]
        heads = [_int(h) for h in self._redis.mget([ring.keys(n)[2] for n in names])]
        pipe = self._redis.pipeline(transaction=False)
        with_data = [(m, n, h) for m, n, h in zip(self.metrics, names, heads) if h >= 0]
        for _, name, head in with_data:
            ring.queue_read(pipe, name, head, head, counts=False)
        replies = iter(pipe.execute()) if with_data else iter(())
        out: dict[str, tuple[float, float]] = {}
        for metric, _, head in with_data:
            records, _ = ring.decode(replies, head, head, counts=False)
            if ring.holds(records, np.array([head]))[0]:
                out[metric] = (head * RAW_STEP_S, float(records["mean"][0]))
        return out

    def last_ingest_ts(self) -> float | None:
        """Return the newest sample timestamp ever ingested (Unix seconds), or None."""
        value = self._redis.get(self._last_key)
        return None if value is None else float(value)

    # ------------------------------------------------------------------ internals
    def _write(self, points: Points) -> int:
        """Run one optimistic transaction writing ``points``; return the samples kept."""
        touched, series = np.unique(points.series, return_inverse=True)
        names = [self._names[s] for s in touched]
        rings = list(self._rings.values())
        keys = [k for ring in rings for name in names for k in ring.keys(name)]
        meta_keys = [self._first_key(name) for name in names] + [self._last_key]
        bounds = np.append(np.flatnonzero(np.diff(series)) + 1, len(series))
        first_at, last_at = np.concatenate(([0], bounds[:-1])), bounds - 1
        buckets = [points.b5 // self._ratio[ring.level] for ring in rings]
        with self._redis.pipeline(transaction=True) as tx:
            tx.watch(*keys, *meta_keys)
            # Read after WATCH, on another connection: a change anyone makes to these keys from
            # now on makes EXEC fail, and the batch is merged again. The heads come first: they
            # bound the raw span, which reaches back to the start of the touched hours.
            stored = self._redis.mget([ring.keys(name)[2] for ring in rings for name in names] + meta_keys)
            heads = np.array([_int(v) for v in stored[:len(rings) * len(names)]]).reshape(len(rings), -1)
            firsts, last = stored[len(rings) * len(names):-1], stored[-1]
            spans = [Spans.for_raw(points.b5[first_at], points.b5[last_at], heads[0], rings[0].capacity,
                                   self._ratio["1h"])]
            spans += [Spans.covering(b[first_at], b[last_at], ring.capacity) for ring, b in zip(rings[1:], buckets[1:])]
            read = self._redis.pipeline(transaction=False)
            for ring, span in zip(rings, spans):
                for name, lo, hi in zip(names, span.lo.tolist(), span.hi.tolist()):
                    ring.queue_read(read, name, lo, hi, counts=True)
            data = iter(read.execute())
            slots = [ring.decode_spans(data, span) for ring, span in zip(rings, spans)]
            tx.multi()
            raw = merge_level(series, points.b5, points.count, points.sum, heads[0], rings[0].capacity,
                              rings[0].step_s, spans[0], *slots[0])
            self._queue_level(tx, rings[0], names, spans[0], slots[0], raw, heads[0])
            kept = raw.fits.copy()
            d_count, d_sum, value = rollup_deltas(raw, points)
            complete_from = raw.newest - rings[0].capacity + 1  # raw holds every 5 s point from here on
            for k in (1, 2):
                ratio = self._ratio[rings[k].level]
                starts, group = group_buckets(series, buckets[k])
                g_series, g_bucket = series[starts], buckets[k][starts]
                exact = g_bucket * ratio >= complete_from[g_series]
                change = RollupChange(np.add.reduceat(d_count, starts), np.add.reduceat(d_sum, starts),
                                      group_stats(group, value)[1], exact,
                                      stats_from_raw(g_series[exact], g_bucket[exact] * ratio, ratio, spans[0],
                                                     *slots[0]))
                merged = merge_rollup(g_series, g_bucket, change, heads[k], rings[k].capacity, rings[k].step_s,
                                      spans[k], *slots[k])
                self._queue_level(tx, rings[k], names, spans[k], slots[k], merged, heads[k])
                kept |= merged.fits[group]
            self._queue_bounds(tx, names, series, kept, points, firsts, last)
            tx.execute()
        return int(points.count[kept].sum())

    def _read(self, service: str, metric: str, resolution: str, since: float, until: float | None,
              counts: bool) -> tuple[str, np.ndarray, np.ndarray | None]:
        """Return ``(level, records, counts)`` of one series' buckets with ``since ≤ start ≤ until``.

        ``"auto"`` resolved as in ``series``; counts None unless asked; an unknown series reads
        as an empty raw level.
        """
        if resolution not in RESOLUTIONS:
            raise ValueError(f"unknown resolution {resolution!r}; expected one of {', '.join(RESOLUTIONS)}")
        sid = self._index.get((service, metric))
        if sid is None:
            return "raw", np.empty(0, dtype=self._rings["raw"].record), (np.empty(0) if counts else None)
        self._check_layout()
        name = self._names[sid]
        heads, first = self._heads(name)
        if resolution == "auto":
            resolution = self._auto_resolution(heads, first, since, until)
        ring, head = self._rings[resolution], heads[resolution]
        lo = int(np.ceil(since / ring.step_s)) if np.isfinite(since) else head - ring.capacity
        hi = head if until is None else int(np.floor(until / ring.step_s))
        lo, hi = max(lo, head - ring.capacity + 1), min(hi, head)
        if head < 0 or hi < lo:
            return resolution, np.empty(0, dtype=ring.record), (np.empty(0) if counts else None)
        pipe = self._redis.pipeline(transaction=False)
        ring.queue_read(pipe, name, lo, hi, counts=counts)
        records, n = ring.decode(iter(pipe.execute()), lo, hi, counts=counts)
        held = ring.holds(records, np.arange(lo, hi + 1, dtype=np.int64))
        return resolution, records[held], (None if n is None else n[held])

    def _queue_level(self, tx: Any, ring: RedisRing, names: list[str], spans: Spans,
                     slots: tuple[np.ndarray, np.ndarray], merged: LevelMerge, heads: np.ndarray) -> None:
        """Queue, per series, the write of its changed slots and (when it moved) its head."""
        records, counts = slots
        for j in np.flatnonzero(merged.last_pos >= 0).tolist():
            a, b = int(merged.first_pos[j]), int(merged.last_pos[j]) + 1
            head = int(merged.newest[j]) if merged.newest[j] > heads[j] else None
            ring.queue_write(tx, names[j], int(spans.lo[j]) + a - int(spans.offset[j]), records[a:b], counts[a:b],
                             head)

    def _queue_bounds(self, tx: Any, names: list[str], series: np.ndarray, kept: np.ndarray, points: Points,
                      firsts: list, last: bytes | None) -> None:
        """Queue the oldest kept sample time per series and the newest sample time ever."""
        oldest = np.full(len(names), np.inf)
        np.minimum.at(oldest, series[kept], points.ts_min[kept])
        for j in np.flatnonzero(np.isfinite(oldest)).tolist():
            if firsts[j] is None or oldest[j] < float(firsts[j]):
                tx.set(self._first_key(names[j]), repr(float(oldest[j])))
        if last is None or points.newest_ts > float(last):
            tx.set(self._last_key, repr(points.newest_ts))

    def _heads(self, name: str) -> tuple[dict[str, int], float | None]:
        values = self._redis.mget([self._rings[level].keys(name)[2] for level in _LEVELS] + [self._first_key(name)])
        return {level: _int(v) for level, v in zip(_LEVELS, values)}, (None if values[-1] is None else float(values[-1]))

    def _auto_resolution(self, heads: dict[str, int], first: float | None, since: float, until: float | None) -> str:
        newest = heads["raw"]
        if newest < 0:
            return "raw"
        end = newest * RAW_STEP_S if until is None else min(until, newest * RAW_STEP_S)
        start = since if first is None else max(since, first)
        choice = pick_resolution(end - start)
        for level in _LEVELS[_LEVELS.index(choice):]:
            ring = self._rings[level]
            if level == "1h" or start >= (heads[level] - ring.capacity + 1) * ring.step_s:
                return level
        return "1h"

    def _first_key(self, name: str) -> str:
        return f"{self.prefix}first:{name}"

    def _check_layout(self) -> None:
        """Refuse keys written with another layout (capacities or record fields): their slots would be misread.

        Keys of the earlier layout, whose rollup records held no min/max/p95, are refused too
        rather than migrated: their rollups cannot give a band, and inventing one (min = max =
        mean) would draw a false one. The message says how to start afresh.
        """
        if self._layout_checked:
            return
        layout = " ".join(ring.layout() for ring in self._rings.values())
        self._redis.set(self._layout_key, layout, nx=True)
        stored = self._redis.get(self._layout_key)
        stored = stored.decode() if isinstance(stored, bytes) else stored
        if stored != layout:
            if stored is not None and ":" not in stored:  # "raw=5s*17280 1m=60s*43200 1h=3600s*8760"
                raise ValueError(
                    f"the keys under {self.prefix!r} were written by an earlier Wedscale whose rollups keep no "
                    f"min/max/p95 (layout {stored!r}); this version needs {layout!r}. Delete the keys under "
                    f"{self.prefix!r} (the live store starts empty; archived rollups can warm it, see "
                    f"restore_rollups) or set another WEDSCALE_REDIS_PREFIX")
            raise ValueError(f"the keys under {self.prefix!r} were written with layout {stored!r}, not "
                             f"{layout!r}: use the same capacities or another prefix")
        self._layout_checked = True


def _retry(transaction: Callable[..., int], *args: Any) -> int:
    """Run an optimistic transaction until it commits, at most ``MAX_ATTEMPTS`` times; return its result."""
    for _ in range(MAX_ATTEMPTS - 1):
        try:
            return transaction(*args)
        except redis.WatchError:
            continue
    return transaction(*args)


def _int(value: bytes | None) -> int:
    return -1 if value is None else int(value)
