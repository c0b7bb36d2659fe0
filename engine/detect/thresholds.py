"""Static warning/critical thresholds (DESIGN.md), stricter on wedding days.

Per-service overrides take the same shape; ``level_of`` is a pure lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

OK, WARNING, CRITICAL = "ok", "warning", "critical"
LEVEL_RANK = {OK: 0, WARNING: 1, CRITICAL: 2}


@dataclass(frozen=True)
class Threshold:
    """Warning and critical limits of one metric (a value at or above a limit reaches it)."""

    warning: float
    critical: float


NORMAL_DAY: Mapping[str, Threshold] = {
    "cpu_pct": Threshold(85, 95),
    "memory_pct": Threshold(90, 95),
    "latency_p95_ms": Threshold(1000, 2000),
    "error_rate_pct": Threshold(1, 5),
}
WEDDING_DAY: Mapping[str, Threshold] = {
    "cpu_pct": Threshold(70, 85),
    "memory_pct": Threshold(70, 90),
    "latency_p95_ms": Threshold(500, 1000),
    "error_rate_pct": Threshold(1, 5),
}


def thresholds_for(wedding_day: bool,
                   overrides: Mapping[str, Threshold] | None = None) -> dict[str, Threshold]:
    """Return the thresholds in force: the day's defaults with ``overrides`` on top."""
    table = dict(WEDDING_DAY if wedding_day else NORMAL_DAY)
    table.update(overrides or {})
    return table


def level_of(metric: str, value: float, table: Mapping[str, Threshold]) -> str:
    """Return ``ok``, ``warning`` or ``critical`` for ``value`` of ``metric``."""
    limit = table.get(metric)
    if limit is None or value != value:  # no threshold, or NaN
        return OK
    if value >= limit.critical:
        return CRITICAL
    if value >= limit.warning:
        return WARNING
    return OK


def worst(levels) -> str:
    """Return the most severe of ``levels`` (``ok`` when empty)."""
    return max(levels, key=LEVEL_RANK.__getitem__, default=OK)
