"""Binary time rings in Redis: the key layout behind ``RedisMetricStore``.

One ring per series and level (raw 5 s, 1 minute, 1 hour). As in the in-memory ``TimeRing``,
bucket ``b`` (the interval ``[b × step_s, (b + 1) × step_s)``) lives in slot ``b mod capacity``.
Three keys per ring:

- ``{prefix}{level}:{service}:{metric}``: one record per slot, all a chart needs. Raw: 16 bytes,
  ``struct.pack("<dd", bucket_start_ts, mean)``; 1-minute and 1-hour rollups: 40 bytes,
  ``struct.pack("<ddddd", bucket_start_ts, mean, min, max, p95)`` (the min–max band and the
  p95 of the bucket's 5 s points); slot ``i`` starts at byte ``i × record size``;
- ``…:n``: ``capacity × 8`` bytes, ``struct.pack("<d", count)`` per slot: samples (raw) or 5 s
  points (rollups) in the bucket; writers read it to merge late data into a mean, ``rollup``
  to report it;
- ``…:h``: the head, the newest bucket index as a decimal integer (absent: empty ring).

A slot holds bucket ``b`` when its stored start equals ``b × step_s`` and ``b`` lies within
``capacity`` of the head; any other content is a stale slot of an older bucket, or zero bytes
Redis padded in. Slots addressed by time let writes come in any order and leave gaps without
writes; the head kept in Redis lets a new writer (after a leader handover) continue where the
previous one stopped instead of overwriting from slot 0.

This is the binary ring of ``notes/production-multiworker-recipe.md`` §3 (one string of 16-byte
``<dd`` records and a head per series, written in MULTI/EXEC), addressed by bucket rather than
by write count so that a late sample merges into its own bucket, plus the count string a merge
needs. Rollup records are wider rather than kept in a third key: the live page reads the band
with every mean at those levels, so one read serves both. ``layout()`` names the record fields,
so keys written with another record layout are refused (``RedisMetricStore._check_layout``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

RECORD = np.dtype([("ts", "<f8"), ("mean", "<f8")])  # raw: struct "<dd"
ROLLUP_RECORD = np.dtype([("ts", "<f8"), ("mean", "<f8"), ("min", "<f8"), ("max", "<f8"),
                          ("p95", "<f8")])  # 1m and 1h: struct "<ddddd"
COUNT = np.dtype("<f8")


@dataclass(frozen=True)
class RedisRing:
    """Key names, slot arithmetic and encoding of one level's rings.

    Parameters
    ----------
    prefix : str
        Prefix of every key of the store.
    level : str
        ``"raw"``, ``"1m"`` or ``"1h"``.
    step_s : float
        Bucket width, seconds.
    capacity : int
        Buckets kept per series.
    """

    prefix: str
    level: str
    step_s: float
    capacity: int

    @property
    def record(self) -> np.dtype:
        """The slot record of this level: ``RECORD`` for raw, ``ROLLUP_RECORD`` for rollups."""
        return RECORD if self.level == "raw" else ROLLUP_RECORD

    def layout(self) -> str:
        """Return this level's layout as stored under the store's layout key, e.g. ``1m=60s*43200:ts,mean,…``."""
        return f"{self.level}={self.step_s:g}s*{self.capacity}:{','.join(self.record.names)}"

    def keys(self, series: str) -> tuple[str, str, str]:
        """Return the ``(records, counts, head)`` keys of ``series`` (``"service:metric"``)."""
        base = f"{self.prefix}{self.level}:{series}"
        return base, base + ":n", base + ":h"

    def spans(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """Return ``(first_slot, n_slots)`` runs covering buckets ``lo..hi`` in order (at most two).

        ``hi − lo`` must be less than ``capacity``.
        """
        start, n = lo % self.capacity, hi - lo + 1
        if start + n <= self.capacity:
            return [(start, n)]
        return [(start, self.capacity - start), (0, start + n - self.capacity)]

    def queue_read(self, pipe: Any, series: str, lo: int, hi: int, counts: bool) -> None:
        """Queue on ``pipe`` the reads of buckets ``lo..hi``: records, then counts when asked."""
        records_key, counts_key, _ = self.keys(series)
        for key, size in ((records_key, self.record.itemsize), (counts_key, COUNT.itemsize))[:1 + counts]:
            for first, n in self.spans(lo, hi):
                pipe.getrange(key, first * size, (first + n) * size - 1)

    def decode(self, replies: Iterator[bytes], lo: int, hi: int, counts: bool
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """Return writable ``(records, counts)`` of buckets ``lo..hi`` from ``queue_read``'s replies.

        Bytes Redis never stored read as zeros; ``counts`` is None unless asked.
        """
        out = []
        for dtype in (self.record, COUNT)[:1 + counts]:
            chunks = [next(replies).ljust(n * dtype.itemsize, b"\0") for _, n in self.spans(lo, hi)]
            out.append(np.frombuffer(b"".join(chunks), dtype=dtype).copy())
        return out[0], (out[1] if counts else None)

    def decode_spans(self, replies: Iterator[bytes], spans: Any) -> tuple[np.ndarray, np.ndarray]:
        """Return writable ``(records, counts)`` of several series' spans (``queue_read`` order), concatenated."""
        parts = [self.decode(replies, lo, hi, counts=True) for lo, hi in zip(spans.lo.tolist(), spans.hi.tolist())]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def holds(self, records: np.ndarray, buckets: np.ndarray) -> np.ndarray:
        """Return which ``records`` (read at ``buckets``) hold those buckets rather than stale data."""
        return records["ts"] == buckets * self.step_s

    def queue_write(self, pipe: Any, series: str, lo: int, records: np.ndarray, counts: np.ndarray,
                    head: int | None) -> None:
        """Queue on ``pipe`` the writes of buckets ``lo, lo + 1, …`` and, unless None, the new head."""
        records_key, counts_key, head_key = self.keys(series)
        done = 0
        for first, n in self.spans(lo, lo + len(records) - 1):
            pipe.setrange(records_key, first * self.record.itemsize, records[done:done + n].tobytes())
            pipe.setrange(counts_key, first * COUNT.itemsize, counts[done:done + n].tobytes())
            done += n
        if head is not None:
            pipe.set(head_key, int(head))
