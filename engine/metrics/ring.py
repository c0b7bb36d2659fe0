"""A numpy ring of fixed-width time buckets for many series at once.

Bucket ``b`` of series ``s`` (the interval ``[b × step_s, (b + 1) × step_s)``) lives in slot
``b mod capacity`` of row ``s``, next to the bucket id it holds. Direct mapping makes writes
of many buckets one vectorised assignment, in any order: a late bucket lands in its own slot,
a gap simply leaves stale slots whose ids no longer match, and nothing is ever shifted.

A series keeps the ``capacity`` most recent buckets counted from its newest one; a write older
than that is refused, because its slot now belongs to a newer bucket.

Memory is ``n_series × capacity × (8 + 8 per field)`` bytes, allocated with ``np.zeros`` so
untouched pages cost nothing until written.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


class TimeRing:
    """Fixed-capacity, time-indexed ring buffers, one row per series.

    Parameters
    ----------
    n_series : int
        Number of series (rows).
    capacity : int
        Buckets kept per series.
    step_s : float
        Width of a bucket, seconds.
    fields : sequence of str
        Float64 values stored per bucket, e.g. ``("count", "mean")``.
    """

    def __init__(self, n_series: int, capacity: int, step_s: float, fields: Sequence[str]):
        self.n_series = int(n_series)
        self.capacity = int(capacity)
        self.step_s = float(step_s)
        self.fields = tuple(fields)
        self._ids = np.zeros((self.n_series, self.capacity), dtype=np.int64)  # bucket + 1; 0 = empty
        self._data = {f: np.zeros((self.n_series, self.capacity)) for f in self.fields}
        self.newest = np.full(self.n_series, -1, dtype=np.int64)  # newest bucket per series; -1 = none

    def bucket_of(self, ts: np.ndarray | float) -> np.ndarray:
        """Return the bucket index of Unix seconds ``ts`` (int64)."""
        return np.floor(np.asarray(ts, dtype=np.float64) / self.step_s).astype(np.int64)

    def oldest_kept(self) -> np.ndarray:
        """Return, per series, the oldest bucket index still retained (``newest − capacity + 1``)."""
        return self.newest - self.capacity + 1

    def newest_after(self, series: np.ndarray, bucket: np.ndarray) -> np.ndarray:
        """Return per series the newest bucket once ``(series, bucket)`` pairs were written."""
        newest = self.newest.copy()
        np.maximum.at(newest, series, bucket)
        return newest

    def lookup(self, series: np.ndarray, bucket: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return ``(present, values)`` for pairs: whether each bucket is stored, and its fields."""
        flat = self._flat(series, bucket)
        present = self._ids.reshape(-1)[flat] == bucket + 1
        return present, {f: self._data[f].reshape(-1)[flat] for f in self.fields}

    def write(self, series: np.ndarray, bucket: np.ndarray, values: dict[str, np.ndarray],
              newest: np.ndarray | None = None) -> np.ndarray:
        """Overwrite the buckets ``(series, bucket)`` with ``values``; return the mask written.

        Pairs must be unique. Pairs older than their series' retention (after this write's
        newest buckets are counted) are refused. ``newest`` may pass a precomputed
        ``newest_after(series, bucket)`` (or a later one) to save recomputing it.
        """
        if newest is None:
            newest = self.newest_after(series, bucket)
        keep = bucket > newest[series] - self.capacity
        s, b = series[keep], bucket[keep]
        flat = self._flat(s, b)
        self._ids.reshape(-1)[flat] = b + 1
        for f in self.fields:
            self._data[f].reshape(-1)[flat] = np.asarray(values[f])[keep]
        np.maximum.at(self.newest, s, b)
        return keep

    def read(self, series: int, lo_bucket: int, hi_bucket: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return ``(buckets, values)`` of one series for buckets in ``[lo_bucket, hi_bucket]``, in order."""
        newest = int(self.newest[series])
        lo = max(int(lo_bucket), newest - self.capacity + 1)
        hi = min(int(hi_bucket), newest)
        if newest < 0 or hi < lo:
            return np.empty(0, dtype=np.int64), {f: np.empty(0) for f in self.fields}
        ids = self._span(self._ids[series], lo, hi)
        buckets = np.arange(lo, hi + 1, dtype=np.int64)
        mask = ids == buckets + 1
        return buckets[mask], {f: self._span(self._data[f][series], lo, hi)[mask] for f in self.fields}

    def read_range(self, series: int, since: float, until: float | None = None
                   ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return ``(bucket_start_ts, values)`` of one series with ``since ≤ start ≤ until``."""
        lo = int(np.ceil(since / self.step_s)) if np.isfinite(since) else int(self.newest[series]) - self.capacity
        hi = int(self.newest[series]) if until is None else int(np.floor(until / self.step_s))
        buckets, values = self.read(series, lo, hi)
        return buckets * self.step_s, values

    def gather(self, series: np.ndarray, first: np.ndarray, width: int, field: str
               ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(valid, values)``, shape ``(k, width)``: buckets ``first[i] .. first[i] + width − 1``.

        ``valid`` marks the buckets that are stored; other cells of ``values`` are meaningless.
        """
        offsets = np.arange(width, dtype=np.int64)
        slots = (first % self.capacity)[:, None] + offsets
        if width <= self.capacity:  # one subtraction wraps it: cheaper than a modulo per cell
            slots = np.where(slots >= self.capacity, slots - self.capacity, slots)
        else:
            slots %= self.capacity
        flat = series[:, None] * self.capacity + slots
        valid = self._ids.reshape(-1)[flat] == first[:, None] + offsets + 1
        return valid, self._data[field].reshape(-1)[flat]

    def _flat(self, series: np.ndarray, bucket: np.ndarray) -> np.ndarray:
        # One flat index instead of a (row, column) pair: numpy's 1-D fancy indexing is faster.
        return series * self.capacity + bucket % self.capacity

    def _span(self, row: np.ndarray, lo: int, hi: int) -> np.ndarray:
        start, n = lo % self.capacity, hi - lo + 1
        if start + n <= self.capacity:
            return row[start:start + n]
        return np.concatenate([row[start:], row[:start + n - self.capacity]])
