"""The source of a push-only deployment: samples arrive through the API, never collected."""

from __future__ import annotations

from datetime import datetime

from engine.sources.base import SampleBatch


class PushOnlySource:
    """``MetricSource`` for ``[source] kind = "push"``: ``collect`` has nothing to fetch.

    Pushed batches (``POST /api/scalability/metrics``) go straight into the live store, so
    staleness, alerts and anomaly detection see them as they see collected samples.
    """

    name = "push"

    def collect(self, now: datetime) -> SampleBatch:
        """Return an empty batch: pushed samples are stored by the API route."""
        return SampleBatch.empty()
