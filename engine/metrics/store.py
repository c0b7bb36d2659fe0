"""The live metric store protocol and the resolutions it serves.

Implementations: ``RingBufferStore`` (in process, default) and a Redis store shared by the web
workers in production. Values are the per-service series of DESIGN.md: raw samples are
aggregated to 5 s points, rolled up to 1-minute and 1-hour buckets.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from engine.sources.base import SampleBatch

RESOLUTION_S: dict[str, float] = {"raw": 5.0, "1m": 60.0, "1h": 3600.0}
RESOLUTIONS: tuple[str, ...] = ("raw", "1m", "1h", "auto")
RAW_MAX_SPAN_S = 6 * 3600.0
MINUTE_MAX_SPAN_S = 7 * 86_400.0


def pick_resolution(span_s: float) -> str:
    """Return the resolution ``"auto"`` means for a span: ≤ 6 h raw, ≤ 7 d 1m, else 1h."""
    if span_s <= RAW_MAX_SPAN_S:
        return "raw"
    if span_s <= MINUTE_MAX_SPAN_S:
        return "1m"
    return "1h"


class MetricSink(Protocol):
    """Accepts batches of samples."""

    def ingest(self, batch: SampleBatch) -> int:
        """Store ``batch`` and return how many samples were kept.

        Samples of unknown services or metrics, with a non-finite value or timestamp, or
        older than everything the store retains are dropped (not counted). Late samples
        are accepted; how they merge is the implementation's documented choice.
        """
        ...


class MetricReader(Protocol):
    """Reads per-service series."""

    def series(self, service: str, metric: str, since: float, until: float | None = None,
               resolution: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """Return ``(ts, value)`` float64 arrays, oldest first, for ``since ≤ ts ≤ until``.

        ``ts`` is the start of each point's bucket (Unix seconds); ``value`` the mean over it.
        ``resolution`` is ``"raw"`` (5 s), ``"1m"``, ``"1h"`` or ``"auto"`` (picked by the
        span, see ``pick_resolution``). ``until=None`` means up to the newest point. Unknown
        service or metric: two empty arrays.

        Raises
        ------
        ValueError
            For an unknown resolution.
        """
        ...

    def latest(self, service: str) -> dict[str, tuple[float, float]]:
        """Return ``{metric: (ts, value)}`` of the newest 5 s point of each metric that has one."""
        ...

    def last_ingest_ts(self) -> float | None:
        """Return the newest sample timestamp ever ingested (Unix seconds), or None (staleness)."""
        ...


class MetricStore(MetricSink, MetricReader, Protocol):
    """A store the engine writes and the pages read: ``MetricSink`` plus ``MetricReader``."""
