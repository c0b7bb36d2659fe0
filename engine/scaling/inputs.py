"""Inputs of the scaling policy as frozen values: settings, metrics, forecast, memory.

``engine.scaling.policy`` takes these and nothing else; the engine job gathers them (metrics
store, forecaster, calendar, executor) and the replay builds them from its cluster model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

MODES = ("hybrid", "predictive")


@dataclass(frozen=True)
class ScalingPolicy:
    """Settings of the automatic policy (defaults from DESIGN.md).

    Parameters
    ----------
    mode : str
        ``"hybrid"``: the largest of the reactive and predictive rules. ``"predictive"``:
        with a forecast, the reactive rules only speak when a critical threshold is crossed
        (emergency); without one they decide as in hybrid. Suits services whose metrics
        fluctuate faster than capacity arrives, where reacting to a lagged metric only
        chases noise.
    target_cpu_pct, target_memory_pct, target_latency_p95_ms : float
        Reactive targets of the ratio metrics.
    target_utilisation : float
        Request rate per instance as a share of its capacity (0.7).
    target_queue_per_instance : float
        Queued requests one instance may hold.
    tolerance : float
        No reactive change while every ratio is within ``1 ± tolerance``.
    metric_lag_s : float
        Age of the newest metrics; a steep rise is projected over lag + provisioning.
    spike_rise_frac : float
        A metric that rose by at least this share of its value over the last minute is a
        steep spike and is projected ahead; slower drifts are left to the forecast.
    predictive_utilisation : float
        Utilisation at which the forecast p50 is provisioned (the usual operating point).
    p90_utilisation : float
        Utilisation at which the forecast p90 is provisioned (1.0: the p90 just fits).
    max_step_up, max_step_down : float
        Step limits of automatic decisions (+50 %, −30 %).
    stabilisation_s : float
        Scale-down stabilisation window, seconds (300).
    prescale_lead_s, prescale_ready_s, prescale_hold_s : float
        Pre-scaling starts ``lead`` before a large wedding's ceremony, reaches the full
        peak ``ready`` before it and keeps it ``hold`` after the start.
    prescale_utilisation : float
        Utilisation at which a wedding's expected peak is provisioned.
    rps_per_guest : float
        Expected peak requests/s per guest when no peak is given for a wedding.
    daily_budget : float or None
        Cost budget per day (None: no budget).
    wedding_day_budget_multiplier : float
        The budget is multiplied by this on a wedding day (2.5).
    """

    mode: str = "hybrid"
    target_cpu_pct: float = 70.0
    target_memory_pct: float = 80.0
    target_latency_p95_ms: float = 400.0
    target_utilisation: float = 0.7
    target_queue_per_instance: float = 20.0
    tolerance: float = 0.1
    metric_lag_s: float = 30.0
    spike_rise_frac: float = 0.3
    predictive_utilisation: float = 0.7
    p90_utilisation: float = 1.0
    max_step_up: float = 0.5
    max_step_down: float = 0.3
    stabilisation_s: float = 300.0
    prescale_lead_s: float = 7200.0
    prescale_ready_s: float = 900.0
    prescale_hold_s: float = 3600.0
    prescale_utilisation: float = 0.85
    rps_per_guest: float = 20.0
    daily_budget: float | None = None
    wedding_day_budget_multiplier: float = 2.5

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown scaling mode {self.mode!r}; expected one of {', '.join(MODES)}")
        for name in ("target_cpu_pct", "target_memory_pct", "target_latency_p95_ms",
                     "target_utilisation", "target_queue_per_instance",
                     "predictive_utilisation", "p90_utilisation", "prescale_utilisation"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")
        if not (0 <= self.max_step_down < 1 and self.max_step_up > 0):
            raise ValueError("step limits must satisfy max_step_up > 0 and 0 <= max_step_down < 1")


@dataclass(frozen=True)
class MetricsSnapshot:
    """The newest aggregated metrics of one service.

    Attributes
    ----------
    instances_ready, instances_pending : int
        Instances now; their sum is the current (ordered) count.
    values : Mapping[str, float]
        Metric id → value (``cpu_pct``, ``request_rate``, …). ``instances_ready`` in here,
        when present, is the count the utilisation metrics were averaged over.
    slopes_per_s : Mapping[str, float]
        Metric id → rate of change per second over the last minute.
    """

    instances_ready: int
    instances_pending: int = 0
    values: Mapping[str, float] = field(default_factory=dict)
    slopes_per_s: Mapping[str, float] = field(default_factory=dict)

    @property
    def current(self) -> int:
        """Return ready plus pending instances."""
        return self.instances_ready + self.instances_pending


@dataclass(frozen=True)
class LoadForecast:
    """Forecast request rate of one service at ``at`` (requests/s)."""

    at: datetime
    p50_rps: float
    p90_rps: float


@dataclass(frozen=True)
class ScalingMemory:
    """What the policy remembers between cycles: recent recommendations and today's spend.

    ``recommendations`` are ``(unix_s, instances)`` pairs (see ``limits.remember_recommendation``).
    ``spent_today`` is the day's spend over every service so far; ``others_per_hour`` the cost
    per hour of the other services at their current size (both for the budget check).
    """

    recommendations: tuple[tuple[float, int], ...] = ()
    spent_today: float = 0.0
    others_per_hour: float = 0.0
