"""How many samples were ingested, by path (``collect``, ``push``): the ingest-rate counter.

In one process an in-memory tally; with Redis a hash under the deployment's prefix, so the
figure is the cluster's whichever worker Prometheus scrapes (the leader collects, any worker
takes pushes). Backfilled history is not counted: it is not ingest.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol


class IngestTally(Protocol):
    """A monotonic count of ingested samples per path."""

    def add(self, path: str, n: int) -> None:
        """Count ``n`` more samples ingested through ``path``."""
        ...

    def totals(self) -> dict[str, int]:
        """Return the count per path since the tally began."""
        ...


class MemoryTally:
    """``IngestTally`` in this process."""

    def __init__(self):
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, path: str, n: int) -> None:
        with self._lock:
            self._counts[path] = self._counts.get(path, 0) + int(n)

    def totals(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


class RedisTally:
    """``IngestTally`` in a Redis hash ``<prefix>ingested`` shared by every worker."""

    def __init__(self, client: Any, prefix: str):
        self._redis = client
        self._key = f"{prefix}ingested"

    def add(self, path: str, n: int) -> None:
        if n:
            self._redis.hincrby(self._key, path, int(n))

    def totals(self) -> dict[str, int]:
        raw = self._redis.hgetall(self._key)
        return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}
