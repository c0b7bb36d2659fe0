"""Archived rollup buckets written back into the Redis rings (``RedisMetricStore.restore_rollups``).

A restore runs when the store is new or Redis lost its data, before anything is ingested, so
it simply overwrites the slots of the restored buckets. It still runs as an optimistic
transaction, because a leader may already be writing the same series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from engine.metrics.memory_store import ROLLUP_FIELDS
from engine.metrics.redis_ring import RedisRing


@dataclass(frozen=True)
class RestoredBuckets:
    """Buckets to restore at one level, sorted and unique: index, slot record, count, archived start."""

    bucket: np.ndarray
    records: np.ndarray
    count: np.ndarray
    ts: np.ndarray


def prepare_buckets(ring: RedisRing, bucket_ts: np.ndarray, fields: Mapping[str, np.ndarray]) -> RestoredBuckets:
    """Return archived rows (``ROLLUP_FIELDS`` arrays) as ``ring`` records; of duplicate buckets the last wins."""
    ts = np.asarray(bucket_ts, dtype=np.float64)
    buckets = np.floor(ts / ring.step_s).astype(np.int64)
    _, last_of = np.unique(buckets[::-1], return_index=True)
    take = len(buckets) - 1 - last_of  # sorted by bucket
    records = np.zeros(len(take), dtype=ring.record)
    records["ts"] = buckets[take] * ring.step_s
    for f in ROLLUP_FIELDS:
        if f != "count":
            records[f] = np.asarray(fields[f], dtype=np.float64)[take]
    return RestoredBuckets(buckets[take], records, np.asarray(fields["count"], dtype=np.float64)[take], ts[take])


def write_restored(client: Any, ring: RedisRing, series: str, first_key: str, restored: RestoredBuckets) -> int:
    """Run one optimistic transaction writing ``restored`` into ``series``' ring; return the buckets kept.

    Buckets past the ring's retention (counted from the newer of its head and the newest
    restored bucket) are refused; the head moves forward and the series' oldest-sample key
    back when needed.

    Raises
    ------
    redis.exceptions.WatchError
        When another writer changed the ring or the oldest-sample key meanwhile.
    """
    records_key, counts_key, head_key = ring.keys(series)
    with client.pipeline(transaction=True) as tx:
        tx.watch(records_key, counts_key, head_key, first_key)
        head, first = client.mget(head_key, first_key)
        head = -1 if head is None else int(head)
        newest = max(head, int(restored.bucket[-1]))
        keep = restored.bucket > newest - ring.capacity
        if not keep.any():
            return 0
        buckets, records, counts = restored.bucket[keep], restored.records[keep], restored.count[keep]
        oldest = float(restored.ts[keep].min())
        tx.multi()
        # Runs of consecutive buckets, one SETRANGE pair each: a gap keeps what its slots held.
        ends = np.append(np.flatnonzero(np.diff(buckets) != 1) + 1, len(buckets))
        for a, z in zip(np.concatenate(([0], ends[:-1])).tolist(), ends.tolist()):
            ring.queue_write(tx, series, int(buckets[a]), records[a:z], counts[a:z], None)
        if newest > head:
            tx.set(head_key, newest)
        if first is None or oldest < float(first):
            tx.set(first_key, repr(oldest))
        tx.execute()
    return int(keep.sum())
