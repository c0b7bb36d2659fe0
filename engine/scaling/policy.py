"""The scaling policy: a pure function from what is known now to a proposed decision.

``plan_scale`` (and its shorthand ``decide_scale``) takes one service's limits, a metrics
snapshot, the policy settings, ``now`` and optionally a load forecast, the wedding calendar and
the policy's short memory, and returns the recommended count and, when the count should
change, a ``ScaleDecision``. It reads no clock, no database and no network.

A cycle, in order:

1. **Recommend** the largest of: reactive (HPA rule ``ceil(instances × observed / target)`` per
   metric, 10 % tolerance, a steep rise projected over the provisioning delay and metric lag
   so a spike is answered on the first cycle), predictive (the forecast at the time new
   capacity would be ready: p50 at the target utilisation, p90 within capacity) and pre-scale
   (large weddings, see ``_prescale``); in ``predictive`` mode, with a forecast, the reactive
   rules speak only in an emergency (a critical threshold crossed). Clamp to min/max.
2. **Protect**: no scale-down of a wedding-critical service inside an active wedding window.
3. **Stabilise** scale-downs over the window (HPA: the highest recommendation of the last
   5 min); **limit** the step to +50 % / −30 % unless it is an emergency (min/max only).
4. **Categorise**: emergency; requires approval when the day's projected cost exceeds the
   budget (× 2.5 on a wedding day) — over budget is never silently capped; else auto-approved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

from engine.detect.thresholds import CRITICAL, level_of, thresholds_for
from engine.scaling.budget import budget_of, is_over_budget
from engine.scaling.decision import Category, ScaleDecision, Trigger
from engine.scaling.inputs import LoadForecast, MetricsSnapshot, ScalingMemory, ScalingPolicy
from engine.scaling.limits import (clamp_instances, limit_step, recent_peak,
                                   stabilise_scale_down)
from engine.services import ServiceSpec
from engine.weddings import Wedding, is_wedding_day

# metric id → (settings attribute holding its target, kind); "ratio" metrics scale the
# measured instances by observed/target, "total" metrics divide a service total by a
# per-instance target.
REACTIVE_METRICS: dict[str, tuple[str, str]] = {
    "cpu_pct": ("target_cpu_pct", "ratio"),
    "memory_pct": ("target_memory_pct", "ratio"),
    "latency_p95_ms": ("target_latency_p95_ms", "ratio"),
    "request_rate": ("target_utilisation", "total"),
    "queue_depth": ("target_queue_per_instance", "total"),
}
__all__ = ["LoadForecast", "MetricsSnapshot", "ScalePlan", "ScalingMemory", "ScalingPolicy",
           "decide_scale", "plan_scale"]

EMERGENCY_METRICS = ("cpu_pct", "memory_pct", "latency_p95_ms", "error_rate_pct")
_THRESHOLDS = {day: thresholds_for(day) for day in (False, True)}


@dataclass(frozen=True)
class ScalePlan:
    """The outcome of one cycle: the recommendation to remember and the decision, if any."""

    recommended_instances: int
    decision: ScaleDecision | None


def decide_scale(spec: ServiceSpec, snapshot: MetricsSnapshot, policy: ScalingPolicy,
                 now: datetime, *, forecast: LoadForecast | None = None,
                 weddings: Sequence[Wedding] = (), memory: ScalingMemory | None = None,
                 wedding_peaks_rps: Mapping[int, float] | None = None) -> ScaleDecision | None:
    """Return the scaling decision for one service now, or None to keep its count.

    Shorthand for ``plan_scale(...).decision``; see ``plan_scale`` for the parameters.
    """
    return plan_scale(spec, snapshot, policy, now, forecast=forecast, weddings=weddings,
                      memory=memory, wedding_peaks_rps=wedding_peaks_rps).decision


def plan_scale(spec: ServiceSpec, snapshot: MetricsSnapshot, policy: ScalingPolicy,
               now: datetime, *, forecast: LoadForecast | None = None,
               weddings: Sequence[Wedding] = (), memory: ScalingMemory | None = None,
               wedding_peaks_rps: Mapping[int, float] | None = None) -> ScalePlan:
    """Return the recommendation and the decision of one policy cycle.

    Parameters
    ----------
    spec : ServiceSpec
        The service: min/max, capacity per instance, cost, provisioning delay, criticality.
    snapshot : MetricsSnapshot
        Its newest metrics.
    policy : ScalingPolicy
        Settings.
    now : datetime
        Aware UTC time of the cycle; stamped on the decision.
    forecast : LoadForecast, optional
        Demand expected when capacity ordered now is ready.
    weddings : sequence of Wedding
        The calendar (only weddings near ``now`` matter).
    memory : ScalingMemory, optional
        Recommendations of the stabilisation window and today's spend.
    wedding_peaks_rps : Mapping[int, float], optional
        Expected peak requests/s by wedding id; else ``guest_count × rps_per_guest``.

    Returns
    -------
    ScalePlan
        ``recommended_instances`` (to remember for stabilisation) and the decision or None.
    """
    memory = memory or ScalingMemory()
    wedding_day = bool(weddings) and is_wedding_day(weddings, now.date())
    cycle = _Cycle(spec, snapshot, policy, now, memory, forecast, wedding_day,
                   _critical_metric(snapshot, wedding_day))
    current = snapshot.current
    reactive_on = forecast is None or policy.mode == "hybrid" or cycle.critical_metric is not None
    candidates = _reactive(spec, snapshot, policy) if reactive_on else []
    if forecast is not None:
        candidates.append(_predictive(spec, policy, forecast))
    prescale = _prescale(spec, policy, now, weddings, wedding_peaks_rps or {}) if weddings else None
    if prescale is not None:
        candidates.append(prescale)
    best = max(candidates, key=lambda c: c[0], default=None)
    proposed = clamp_instances(best[0] if best else current, spec.min_instances, spec.max_instances)
    held = (proposed < current and spec.critical and bool(weddings)
            and _in_window(spec, weddings, now))
    peak = recent_peak(memory.recommendations, now.timestamp(), policy.stabilisation_s)
    peak = proposed if peak is None else max(peak, proposed)
    stabilised = stabilise_scale_down(current, current if held else proposed, peak)
    emergency = cycle.critical_metric is not None and proposed > current
    limited = stabilised if emergency else limit_step(current, stabilised, policy.max_step_up,
                                                      policy.max_step_down)
    target = clamp_instances(limited, spec.min_instances, spec.max_instances)
    if target == current:
        return ScalePlan(proposed, None)
    stages = {"proposed_instances": proposed, "held_by_wedding_window": held,
              "stabilised_instances": stabilised, "limited_instances": limited}
    return ScalePlan(proposed, _decision(cycle, best, target, stages))


@dataclass(frozen=True)
class _Cycle:
    """What one policy cycle knows, bundled for the helpers that build its decision."""

    spec: ServiceSpec
    snapshot: MetricsSnapshot
    policy: ScalingPolicy
    now: datetime
    memory: ScalingMemory
    forecast: LoadForecast | None
    wedding_day: bool
    critical_metric: str | None


def _reactive(spec: ServiceSpec, snapshot: MetricsSnapshot, policy: ScalingPolicy) -> list:
    """Return one reactive candidate per metric (HPA semantics).

    Candidate = ``(instances, trigger, metric, projected value, confidence)``. As in the HPA,
    a metric within tolerance recommends the current count and a metric over its target never
    recommends fewer instances than now (pending instances count at 0 %); under its target,
    pending instances count as running at the target. A steep rise (``spike_rise_frac`` a
    minute) is projected over the metric lag plus the provisioning delay — by then capacity
    ordered now is ready — so a spike is answered on the cycle that first sees it.
    """
    horizon_s = policy.metric_lag_s + spec.provisioning_delay_s
    values, slopes = snapshot.values, snapshot.slopes_per_s
    current, pending = snapshot.current, snapshot.instances_pending
    measured = values.get("instances_ready") or snapshot.instances_ready
    out = []
    for metric, (attr, kind) in REACTIVE_METRICS.items():
        value = values.get(metric)
        if value is None or value != value:  # missing or NaN: this metric gives no advice
            continue
        slope = slopes.get(metric, 0.0)
        if slope * 60.0 >= policy.spike_rise_frac * value > 0:
            value = value + slope * horizon_s
        target = getattr(policy, attr)
        if kind == "ratio":
            ratio = value / target
            need = math.ceil(measured * ratio - 1e-9)
            unmeasured = pending
        else:
            per_instance = target * (spec.capacity_rps if metric == "request_rate" else 1.0)
            ratio = value / (max(current, 1) * per_instance)
            need = math.ceil(value / per_instance - 1e-9)
            unmeasured = 0  # a service total already covers every instance
        if abs(ratio - 1.0) <= policy.tolerance:
            need = current
        elif ratio > 1.0:
            need = max(need, current)
        else:
            need = need + unmeasured
        out.append((need, Trigger.REACTIVE, metric, value, 0.9))
    return out


def _predictive(spec: ServiceSpec, policy: ScalingPolicy, forecast: LoadForecast) -> tuple:
    """Return the predictive candidate: the p50 at the target utilisation, the p90 within capacity.

    The p50 rule keeps the usual operating point below ``predictive_utilisation``: headroom
    for what the forecast's spread does not capture (flash spikes). A forecast without spread
    (``p90 <= p50``) is already known demand — an interpolating source has delivered the next
    sample — and is provisioned at ``p90_utilisation`` only. Confidence is ``p50 / p90``.
    """
    p90_need = math.ceil(forecast.p90_rps / (spec.capacity_rps * policy.p90_utilisation) - 1e-9)
    if forecast.p90_rps <= forecast.p50_rps:
        return (p90_need, Trigger.PREDICTIVE, "known demand", forecast.p90_rps, 1.0)
    p50_need = math.ceil(forecast.p50_rps / (spec.capacity_rps * policy.predictive_utilisation) - 1e-9)
    confidence = min(1.0, max(0.0, forecast.p50_rps / forecast.p90_rps))
    if p90_need >= p50_need:
        return (p90_need, Trigger.PREDICTIVE, "forecast p90", forecast.p90_rps, confidence)
    return (p50_need, Trigger.PREDICTIVE, "forecast p50", forecast.p50_rps, confidence)


def _prescale(spec: ServiceSpec, policy: ScalingPolicy, now: datetime,
              weddings: Sequence[Wedding], peaks: Mapping[int, float]):
    """Return the pre-scale candidate of the largest large wedding ahead, or None.

    The floor follows a timeline: it starts ``prescale_lead_s`` before the ceremony, rises
    linearly to the full expected peak ``prescale_ready_s`` before the start (both measured
    at the time capacity ordered now is ready) and stays until ``prescale_hold_s`` after the
    start. Overlapping weddings take the largest floor, not the sum: their load on top of
    each other is already in the observed demand the other rules see.
    """
    # compare in seconds once, rather than building datetimes for every wedding
    ready_s = now.timestamp() + spec.provisioning_delay_s
    hold_until_s = now.timestamp() - policy.prescale_hold_s
    ramp_s = max(1.0, policy.prescale_lead_s - policy.prescale_ready_s)
    per_instance = spec.capacity_rps * policy.prescale_utilisation
    best = None
    for w in weddings:
        if w.cancelled or not w.is_large or (w.services and spec.name not in w.services):
            continue
        start_s = w.ceremony_start.timestamp()
        into_lead_s = ready_s - (start_s - policy.prescale_lead_s)
        if into_lead_s < 0 or start_s < hold_until_s:
            continue
        peak = peaks.get(w.id, w.guest_count * policy.rps_per_guest)
        need = math.ceil(min(1.0, into_lead_s / ramp_s) * peak / per_instance - 1e-9)
        if best is None or need > best[0]:
            best = (need, Trigger.PRESCALE, f"wedding {w.name}", peak, 0.8)
    return best


def _critical_metric(snapshot: MetricsSnapshot, wedding_day: bool) -> str | None:
    """Return the first metric at its critical threshold (stricter on wedding days), or None."""
    table = _THRESHOLDS[wedding_day]
    for metric in EMERGENCY_METRICS:
        value = snapshot.values.get(metric)
        if value is not None and level_of(metric, value, table) == CRITICAL:
            return metric
    return None


def _in_window(spec: ServiceSpec, weddings: Sequence[Wedding], now: datetime) -> bool:
    """True when a wedding using this service is inside its wedding window."""
    return any(w.in_window(now) and (not w.services or spec.name in w.services) for w in weddings)


def _decision(cycle: _Cycle, best: tuple | None, target: int, stages: dict) -> ScaleDecision:
    """Build the ScaleDecision of a cycle whose target differs from the current count."""
    spec, snapshot, current = cycle.spec, cycle.snapshot, cycle.snapshot.current
    need, trigger, what, value, confidence = best or (current, Trigger.REACTIVE, "none", 0.0, 0.5)
    if cycle.critical_metric is not None and target > current:
        trigger, confidence = Trigger.EMERGENCY, 1.0
        metric = cycle.critical_metric
        reason = f"emergency: {metric} {snapshot.values[metric]:.1f} critical"
    elif target < current:
        reason = (f"scale-down: {what} needs {stages['proposed_instances']} "
                  f"(stabilised over {cycle.policy.stabilisation_s:.0f} s, step-limited)")
    else:
        reason = f"{trigger.value}: {what} {value:.1f} needs {need}"
    cost_per_hour = round(target * spec.cost_per_hour, 4)
    category = Category.EMERGENCY if trigger is Trigger.EMERGENCY else Category.AUTO_APPROVED
    if target > current and _over_budget(cycle, cost_per_hour):
        # an emergency goes ahead over budget (the admins are alerted); anything else waits
        if category is Category.AUTO_APPROVED:
            category = Category.REQUIRES_APPROVAL
        reason += "; over the daily budget"
        stages = {**stages, "over_budget": True}
    forecast = cycle.forecast
    inputs = {"metrics": dict(snapshot.values), "recommended": stages["proposed_instances"],
              **stages, "current": current, "wedding_day": cycle.wedding_day,
              "mode": cycle.policy.mode,
              "forecast_p50_rps": forecast.p50_rps if forecast else None,
              "forecast_p90_rps": forecast.p90_rps if forecast else None}
    return ScaleDecision(spec.name, current, target, trigger, reason, inputs, confidence,
                         cost_per_hour, current, category, cycle.now)


def _over_budget(cycle: _Cycle, cost_per_hour: float) -> bool:
    """True when today's spend plus every service's cost until midnight exceeds the budget.

    The other services count at their current cost per hour (``memory.others_per_hour``).
    """
    policy = cycle.policy
    if policy.daily_budget is None:
        return False
    budget = budget_of(policy.daily_budget, cycle.wedding_day, policy.wedding_day_budget_multiplier)
    return is_over_budget(cycle.memory.spent_today, cost_per_hour + cycle.memory.others_per_hour,
                          budget, cycle.now)
