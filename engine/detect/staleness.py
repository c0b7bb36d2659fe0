"""Source staleness as an alert condition: no fresh samples is itself worth an alert.

When every source goes quiet the thresholds see nothing new (the newest values stay as they
were), so the outage would pass in silence. The age of the newest sample becomes a
condition on the ``sources`` pseudo-service: a warning from ``WARNING_S`` (the autoscaler
already stops acting then), critical — firing at once — from ``CRITICAL_S``. It resolves
by itself through the normal lifecycle when samples arrive again.
"""

from __future__ import annotations

from engine.detect.lifecycle import Condition
from engine.detect.thresholds import CRITICAL, WARNING

SOURCES_SERVICE = "sources"
DATA_AGE_METRIC = "data_age_s"
WARNING_S = 30.0
CRITICAL_S = 60.0


def staleness_conditions(data_age_s: float | None) -> list[Condition]:
    """Return the staleness condition for the newest sample's age (none before any data)."""
    if data_age_s is None or data_age_s < WARNING_S:
        return []
    if data_age_s >= CRITICAL_S:
        return [Condition(SOURCES_SERVICE, DATA_AGE_METRIC, CRITICAL, data_age_s, CRITICAL_S)]
    return [Condition(SOURCES_SERVICE, DATA_AGE_METRIC, WARNING, data_age_s, WARNING_S)]
