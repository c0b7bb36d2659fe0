"""An outlook: forecasts of every service over a range of hours, with the capacity plan.

:func:`build_outlook` is pure: fitted models, the calendar and the service catalogue in, a
frozen :class:`Outlook` out. The forecast service gathers those inputs; the API, the pages and
the stored forecasts all read the same value (:func:`outlook_json`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from engine.forecast.plan import (DayCost, PeakPeriod, PrescaleStep, cost_by_day, find_peak_periods,
                                  hourly_cost, plan_prescale, recommend_instances)
from engine.services import ServiceSpec
from engine.weddings import Wedding

MAX_HOURS = 24 * 7 * 13   # a season (12 weeks) plus a week of slack
CALENDAR_MARGIN = pd.Timedelta(days=1)


def _naive(when: datetime) -> pd.Timestamp:
    return pd.Timestamp(when.astimezone(timezone.utc).replace(tzinfo=None))


@dataclass(frozen=True, eq=False)
class ServiceForecast:
    """Hourly p10/p50/p90 request rate (req/s) of one service and the instances it needs."""

    service: str
    model_version: int
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    recommended: np.ndarray
    provisioning_s: float


@dataclass(frozen=True)
class OutlookInputs:
    """What :func:`build_outlook` needs besides the models.

    ``current`` maps service → instances ordered now (the level before the first hour);
    ``daily_budget`` is the cost budget of a normal day, × ``wedding_day_multiplier`` on a
    wedding day.
    """

    start: datetime
    hours: int
    specs: Sequence[ServiceSpec]
    weddings: Sequence[Wedding]
    current: Mapping[str, int]
    daily_budget: float
    wedding_day_multiplier: float = 2.5
    plan_timeline: bool = True


@dataclass(frozen=True, eq=False)
class Outlook:
    """Forecasts and the capacity plan over ``hours`` (aware UTC, hourly)."""

    hours: list[datetime]
    services: dict[str, ServiceForecast]
    weddings: list[Wedding]
    peaks: list[PeakPeriod] = field(default_factory=list)
    timeline: list[PrescaleStep] = field(default_factory=list)
    cost_per_hour: np.ndarray = field(default_factory=lambda: np.zeros(0))
    days: list[DayCost] = field(default_factory=list)

    @property
    def total_cost(self) -> float:
        """Cost of the recommended capacity over the whole range."""
        return float(np.sum(self.cost_per_hour))


def hour_range(start: datetime, hours: int) -> list[datetime]:
    """Return ``hours`` aware UTC hours from ``start`` floored to the hour.

    Raises ValueError when ``hours`` is outside 1 .. MAX_HOURS.
    """
    if not 1 <= hours <= MAX_HOURS:
        raise ValueError(f"hours must be from 1 to {MAX_HOURS}")
    first = start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return [first + timedelta(hours=i) for i in range(hours)]


def overlapping(weddings: Sequence[Wedding], start: datetime, end: datetime) -> list[Wedding]:
    """Return the uncancelled weddings whose window overlaps ``[start, end)``, by start."""
    return sorted((w for w in weddings if not w.cancelled and w.window_start < end and w.window_end > start),
                  key=lambda w: w.window_start)


def build_outlook(models: Mapping[str, tuple[int, object]], calendar: pd.DataFrame,
                  inputs: OutlookInputs) -> Outlook:
    """Return the outlook of every service in ``models`` over ``inputs.hours`` hours.

    Parameters
    ----------
    models : mapping service → (model version id, fitted LoadForecaster of its request rate)
    calendar : DataFrame
        The wedding calendar in the forecaster's shape (``calendar_from_weddings``).
    inputs : OutlookInputs
    """
    hours = hour_range(inputs.start, inputs.hours)
    end = hours[-1] + timedelta(hours=1)
    in_range = overlapping(inputs.weddings, hours[0], end)
    specs = {s.name: s for s in inputs.specs}
    # only weddings near the range can move it (the kernel spans -3 h .. +15 h of a ceremony)
    near = (calendar["start"] >= _naive(hours[0]) - CALENDAR_MARGIN) & (calendar["start"] < _naive(end) + CALENDAR_MARGIN)
    calendar = calendar[near]
    services, peaks, timeline = {}, [], []
    for name, (version, model) in models.items():
        spec = specs[name]
        frame = model.predict(hours[0], len(hours), calendar=calendar)
        p10, p50, p90 = (frame[c].to_numpy(float) for c in ("p10", "yhat", "p90"))
        need = recommend_instances(p50, p90, spec.capacity_rps, spec.min_instances, spec.max_instances)
        services[name] = ServiceForecast(name, version, p10, p50, p90, need, spec.provisioning_delay_s)
        peaks.extend(find_peak_periods(name, hours, p50))
        if inputs.plan_timeline:
            timeline.extend(plan_prescale(spec, hours, need, in_range, provisioning_s=spec.provisioning_delay_s,
                                          current=inputs.current.get(name, spec.min_instances)))
    cost = hourly_cost({n: f.recommended for n, f in services.items()}, inputs.specs)
    days = cost_by_day(hours, cost, inputs.weddings, inputs.daily_budget, inputs.wedding_day_multiplier)
    return Outlook(hours, services, in_range, peaks, sorted(timeline, key=lambda s: (s.order_at, s.service)),
                   cost, days)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat()


def _round(values: np.ndarray) -> list[float]:
    return [round(float(v), 3) for v in values]


def wedding_context_json(w: Wedding) -> dict:
    """Return the wedding context shape of the predictions API."""
    return {"id": w.id, "name": w.name, "timezone": w.timezone, "ceremonyStart": _iso(w.ceremony_start),
            "receptionStart": _iso(w.reception_start), "receptionEnd": _iso(w.reception_end),
            "windowStart": _iso(w.window_start), "windowEnd": _iso(w.window_end),
            "guestCount": w.guest_count, "priority": w.priority, "large": w.is_large}


def outlook_json(outlook: Outlook, *, include_weddings: bool = True, include_costs: bool = True) -> dict:
    """Return the JSON answer of the predictions API for ``outlook`` (without id and times)."""
    body = {
        "hours": [_iso(h) for h in outlook.hours],
        "services": {n: {"modelVersion": f.model_version, "p10": _round(f.p10), "p50": _round(f.p50),
                         "p90": _round(f.p90), "recommendedInstances": [int(v) for v in f.recommended],
                         "provisioningS": f.provisioning_s}
                     for n, f in outlook.services.items()},
        "peakPeriods": [{"service": p.service, "start": _iso(p.start), "end": _iso(p.end),
                         "peakAt": _iso(p.peak_at), "p50": round(p.p50_rps, 3)} for p in outlook.peaks],
        "prescaleTimeline": [{"service": s.service, "weddingId": s.wedding_id, "phase": s.phase,
                              "phaseStart": _iso(s.phase_start), "orderAt": _iso(s.order_at),
                              "readyBy": _iso(s.ready_by), "fromInstances": s.from_instances,
                              "toInstances": s.to_instances, "standardSteps": s.standard_steps}
                             for s in outlook.timeline],
        "phases": [{"weddingId": w.id, "phase": phase, "start": _iso(a), "end": _iso(b)}
                   for w in outlook.weddings for phase, a, b in w.phase_spans()],
    }
    if include_weddings:
        body["weddings"] = [wedding_context_json(w) for w in outlook.weddings]
    if include_costs:
        body["costs"] = {"perHour": _round(outlook.cost_per_hour), "total": round(outlook.total_cost, 3),
                         "days": [{"date": d.day.isoformat(), "cost": d.cost, "budget": d.budget,
                                   "weddingDay": d.wedding_day, "withinBudget": d.within_budget}
                                  for d in outlook.days],
                         "withinBudget": all(d.within_budget for d in outlook.days)}
    return body
