"""From load forecasts to capacity plans: instances per hour, peaks, pre-scale timeline, cost.

Pure functions over numbers and frozen values; :mod:`engine.forecast.service` gathers the
forecasts and the calendar and calls them.

Choices (DESIGN.md leaves them open):

- **Recommended instances** per hour are the larger of ``p50 / (capacity × 0.7)`` and
  ``p90 / capacity`` (the scaling policy's predictive rule: the median runs at the usual 70 %
  operating point, the p90 just fits), within the service's min/max.
- A **peak period** is a run of hours whose p50 is at least 85 % of the highest p50 of the
  range; at most three per service, highest first.
- The **pre-scale timeline** has one step per wedding phase and service whose recommended
  instances exceed those of the hour before the phase: order ``provisioning + margin``
  before the phase starts so the capacity is ready with a margin to spare. The number of
  standard steps (+50 % each) it takes is shown; every step can be ordered in the same minute
  because a step is measured from the ordered (ready + pending) count.
- **Cost** is recommended instances × cost per instance-hour; the daily budget is multiplied
  by 2.5 on a wedding day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

import numpy as np

from engine.services import ServiceSpec
from engine.weddings import Wedding, is_wedding_day

PEAK_SHARE = 0.85
MAX_PEAKS = 3
P50_UTILISATION = 0.7
P90_UTILISATION = 1.0
READY_MARGIN = timedelta(minutes=15)


def recommend_instances(p50: np.ndarray, p90: np.ndarray, capacity_rps: float, min_instances: int,
                        max_instances: int, *, p50_utilisation: float = P50_UTILISATION,
                        p90_utilisation: float = P90_UTILISATION) -> np.ndarray:
    """Return the instances needed per hour for forecast ``p50``/``p90`` (requests/s), clamped.

    Raises ValueError for a non-positive capacity or utilisation.
    """
    if capacity_rps <= 0 or p50_utilisation <= 0 or p90_utilisation <= 0:
        raise ValueError("capacity and utilisations must be positive")
    need = np.maximum(np.asarray(p50, float) / (capacity_rps * p50_utilisation),
                      np.asarray(p90, float) / (capacity_rps * p90_utilisation))
    # 1e-9: a need of exactly 3.0 instances stays 3 despite float noise
    return np.clip(np.ceil(np.nan_to_num(need) - 1e-9), min_instances, max_instances).astype(int)


@dataclass(frozen=True)
class PeakPeriod:
    """A run of busy hours of one service: ``[start, end)``, its busiest hour and p50 there."""

    service: str
    start: datetime
    end: datetime
    peak_at: datetime
    p50_rps: float


def find_peak_periods(service: str, hours: Sequence[datetime], p50: np.ndarray) -> list[PeakPeriod]:
    """Return up to three runs of hours with p50 ≥ 85 % of the range's highest, highest first."""
    values = np.asarray(p50, float)
    if len(values) == 0 or not np.isfinite(values).any() or np.nanmax(values) <= 0:
        return []
    busy = values >= PEAK_SHARE * np.nanmax(values)
    runs, i = [], 0
    while i < len(values):
        if not busy[i]:
            i += 1
            continue
        j = i
        while j < len(values) and busy[j]:
            j += 1
        top = i + int(np.argmax(values[i:j]))
        runs.append(PeakPeriod(service, hours[i], hours[j - 1] + timedelta(hours=1), hours[top],
                               float(values[top])))
        i = j
    return sorted(runs, key=lambda r: -r.p50_rps)[:MAX_PEAKS]


@dataclass(frozen=True)
class PrescaleStep:
    """When to order capacity for one service so it is ready before one wedding phase."""

    service: str
    wedding_id: int | None
    phase: str
    phase_start: datetime
    order_at: datetime
    ready_by: datetime
    from_instances: int
    to_instances: int
    standard_steps: int


def standard_steps(current: int, target: int, max_step_up: float = 0.5) -> int:
    """Return how many +50 % steps take ``current`` to ``target`` (0 when not above)."""
    steps, level = 0, max(1, current)
    while level < target:
        level = max(level + 1, math.floor(level * (1 + max_step_up)))
        steps += 1
    return steps


def plan_prescale(spec: ServiceSpec, hours: Sequence[datetime], recommended: np.ndarray,
                  weddings: Iterable[Wedding], *, provisioning_s: float, current: int,
                  margin: timedelta = READY_MARGIN) -> list[PrescaleStep]:
    """Return the pre-scale steps of ``spec`` for every phase of ``weddings`` inside ``hours``.

    Parameters
    ----------
    hours : sequence of aware UTC datetimes, hourly, with ``recommended`` per hour.
    provisioning_s : float
        Seconds from order to ready (the service's provisioning delay).
    current : int
        Instances ordered now; the level before a phase that starts in the first hour.
    """
    if len(hours) == 0:
        return []
    first = hours[0]
    steps: dict[datetime, PrescaleStep] = {}
    for wedding in weddings:
        for phase, start, end in wedding.phase_spans():
            lo = max(0, int((start - first) // timedelta(hours=1)))
            hi = min(len(hours), int(math.ceil((end - first) / timedelta(hours=1))))
            if hi <= lo or start >= hours[-1] + timedelta(hours=1):
                continue
            before = int(recommended[lo - 1]) if lo > 0 else current
            need = int(np.max(recommended[lo:hi]))
            if need <= before:
                continue
            order_at = start - timedelta(seconds=provisioning_s) - margin
            step = PrescaleStep(spec.name, wedding.id, phase, start, order_at,
                                order_at + timedelta(seconds=provisioning_s), before, need,
                                standard_steps(before, need))
            # two weddings with a phase starting at the same time need one order, not two
            if start not in steps or steps[start].to_instances < need:
                steps[start] = step
    return sorted(steps.values(), key=lambda s: (s.order_at, s.service))


@dataclass(frozen=True)
class DayCost:
    """Cost of the recommended capacity on one UTC day against that day's budget."""

    day: date
    cost: float
    budget: float
    wedding_day: bool

    @property
    def within_budget(self) -> bool:
        """True when the cost does not exceed the budget."""
        return self.cost <= self.budget + 1e-9


def hourly_cost(recommended: dict[str, np.ndarray], specs: Sequence[ServiceSpec]) -> np.ndarray:
    """Return the cost per hour of the recommended instances summed over services."""
    by_name = {s.name: s for s in specs}
    total = None
    for name, counts in recommended.items():
        cost = np.asarray(counts, float) * by_name[name].cost_per_hour
        total = cost if total is None else total + cost
    return np.zeros(0) if total is None else total


def cost_by_day(hours: Sequence[datetime], cost_per_hour: np.ndarray, weddings: Sequence[Wedding],
                daily_budget: float, wedding_day_multiplier: float = 2.5) -> list[DayCost]:
    """Return the cost of each UTC day in ``hours`` with its budget (× multiplier on wedding days).

    A day only partly inside ``hours`` gets the same share of its budget as of its hours.
    """
    days: dict[date, list[float]] = {}
    for when, cost in zip(hours, cost_per_hour):
        days.setdefault(when.date(), []).append(float(cost))
    out = []
    for day, costs in days.items():
        wedding_day = is_wedding_day(weddings, day)
        budget = daily_budget * (wedding_day_multiplier if wedding_day else 1.0) * len(costs) / 24
        out.append(DayCost(day, round(sum(costs), 4), round(budget, 4), wedding_day))
    return out
