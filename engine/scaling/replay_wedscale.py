"""The ``wedscale`` replay policy: the product's ``plan_scale`` driven by the cluster model.

At every 15 s step this adapter gathers what the product would have — the lagged metric
(as ``cpu_pct``, ``request_rate`` and the ``instances_ready`` they were averaged over, with
their rates of change), a forecast of the demand when capacity ordered now is ready, the
calendar and its own past recommendations — calls ``engine.scaling.policy.plan_scale``
(pure) and returns the decided count. Step limits, stabilisation, min/max, the wedding-window
hold and the emergency rule are the product's, unchanged.

Replay conventions (REPLAY_PROTOCOL.md): one service, wedding-critical; every wedding counts
as large, with its window ``[start − 2 h, start + 6 h]``; no cost budget; decisions that would
need approval are taken as approved.

The headroom the forecast gets is steered by ``HeadroomController`` (a spend budget of 5 %
over the right-sized capacity of the past week): the policy's predictive utilisation targets
are divided by its factor, which never drops below 1 (the profile's own margin).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from engine.scaling.limits import remember_recommendation
from engine.scaling.policy import (LoadForecast, MetricsSnapshot, ScalingMemory, ScalingPolicy,
                                   plan_scale)
from engine.scaling.replay_cluster import ClusterModel, StepView
from engine.scaling.replay_forecast import Ceremony, DemandForecaster
from engine.scaling.replay_headroom import HeadroomController
from engine.services import ServiceSpec
from engine.weddings import Wedding

# The replay profile: the product's limits (+50 %/−30 % a step, 5 min stabilisation, min/max,
# wedding hold, emergency rule) with these settings, the same for every trace:
# - mode "predictive": a forecast is fed every cycle, so the reactive rules speak only at a
#   critical threshold (emergency). Reacting to the 30 s-old, 60 s-averaged metric on top of
#   the forecast bought little and cost much (dev ELB: +4 % instance-hours, the 5 min
#   stabilisation holding every stale scale-up);
# - reactive targets at saturation (100 %): an emergency order sizes for the load seen;
# - no spike projection: the forecaster already answers a spike on the first cycle from the
#   newest delivered minute; projecting the lagged window's slope as well overshoots (the
#   window mean keeps rising for four cycles after a step, and a wedding window holds the
#   overshoot for hours);
# - p50 provisioned at 80 % and p90 at 100 % of capacity; pre-scale to the expected peak at
#   85 %.
REPLAY_POLICY = ScalingPolicy(mode="predictive", target_cpu_pct=100.0, target_utilisation=1.0,
                              spike_rise_frac=math.inf, predictive_utilisation=0.8,
                              p90_utilisation=1.0, prescale_utilisation=0.85)


def replay_service(model: ClusterModel) -> ServiceSpec:
    """Return the replay's one service: the cluster's limits, wedding-critical."""
    return ServiceSpec("replay", model.min_instances, model.max_instances, model.capacity_rps,
                       1.0, float(model.delay_steps * model.step_s), 0.0, True)


def replay_weddings(starts: list[datetime], guests: list[int]) -> tuple[Wedding, ...]:
    """Return the calendar as ``Wedding`` values whose window is ``[start − 2 h, start + 6 h]``."""
    out = []
    for i, (start, n_guests) in enumerate(zip(starts, guests)):
        start = start.replace(tzinfo=timezone.utc)
        out.append(Wedding(i, f"ceremony {start:%Y-%m-%d %H:%M}", "UTC", start,
                           start + timedelta(hours=1), start + timedelta(hours=5),
                           int(n_guests), (), True))
    return tuple(out)


class WedscalePolicy:
    """Step policy that runs ``plan_scale`` on what the metric pipeline has delivered.

    Parameters
    ----------
    start : datetime
        Naive time of step 0 (trace clock, taken as UTC).
    model : ClusterModel
        Cluster constants.
    start_instances : int
        Instances ready at step 0.
    weddings : tuple of Wedding
        The calendar (see ``replay_weddings``).
    peaks_rps : tuple of float
        Expected peak requests/s of each wedding, same order.
    policy : ScalingPolicy
        Settings; ``REPLAY_POLICY`` by default.
    """

    def __init__(self, start: datetime, model: ClusterModel, start_instances: int,
                 weddings: tuple[Wedding, ...] = (), peaks_rps: tuple[float, ...] = (),
                 policy: ScalingPolicy = REPLAY_POLICY):
        self.start = start.replace(tzinfo=timezone.utc)
        self.model = model
        self.start_instances = start_instances
        self.weddings = weddings
        self.peaks_rps = dict(zip((w.id for w in weddings), peaks_rps))
        self.policy = policy
        self.spec = replay_service(model)
        steps_per_min = 60 // model.step_s
        self.forecaster = DemandForecaster(ceremonies=tuple(
            Ceremony(int((w.ceremony_start - self.start).total_seconds() // 60), peak)
            for w, peak in zip(weddings, peaks_rps)))
        self._steps_per_min = steps_per_min
        self._step = timedelta(seconds=model.step_s)
        self._delay = timedelta(seconds=model.delay_steps * model.step_s)
        self._minutes_fed = 0
        self._steps_fed = 0
        self._loads: list[float] = []
        self._memory = ScalingMemory()
        self._by_day = _index_by_day(weddings)
        self._near_cache: dict = {}
        self.decisions: Counter = Counter()
        self.headroom = HeadroomController()
        self._factor = 1.0
        self._active = policy

    def initial_instances(self, model: ClusterModel) -> int:
        """Return the instances ready at step 0."""
        return self.start_instances

    def desired(self, view: StepView) -> int:
        """Return the count ``plan_scale`` decides at this step."""
        m = self.model
        k = view.step
        observed = view.observed_rps
        last_minute = (len(observed) - 1) // self._steps_per_min
        while self._minutes_fed <= last_minute:  # a minute's demand arrives with its first step
            self.forecaster.update(float(observed[self._minutes_fed * self._steps_per_min]))
            self._minutes_fed += 1
        delivered = [m.needed(float(observed[j])) for j in range(self._steps_fed, len(observed))]
        self._steps_fed = len(observed)
        now = self.start + k * self._step
        snapshot = self._snapshot(view)
        ahead = (k + m.delay_steps) // self._steps_per_min - last_minute
        p50, p90 = self.forecaster.forecast(ahead)
        forecast = LoadForecast(now + self._delay, p50, p90)
        plan = plan_scale(self.spec, snapshot, self._active, now, forecast=forecast,
                          weddings=self._near(now), memory=self._memory,
                          wedding_peaks_rps=self.peaks_rps)
        self._memory = ScalingMemory(remember_recommendation(
            self._memory.recommendations, now.timestamp(), plan.recommended_instances,
            self.policy.stabilisation_s))
        d = plan.decision
        ordered = view.ordered if d is None else d.to_instances
        if d is not None:
            self.decisions[f"{d.trigger.value}/{d.category.value}"] += 1
        factor = self.headroom.record(ordered, delivered)
        if factor != self._factor:
            self._factor = factor
            self._active = replace(self.policy,
                                   predictive_utilisation=self.policy.predictive_utilisation / factor,
                                   p90_utilisation=self.policy.p90_utilisation / factor)
        return ordered

    def _snapshot(self, view: StepView) -> MetricsSnapshot:
        """Return the lagged metrics as the product's snapshot."""
        m = self.model
        self._loads.append(view.load)
        # ``load`` is the sum of the ready instances' utilisations (protocol), so the count
        # the utilisation was averaged over is load / metric; with the count changing inside
        # the window, the mean of the ready counts would overstate it
        measured = view.load / view.metric if view.metric > 0 else float(view.ready)
        rate = view.load * m.capacity_rps
        previous = self._loads[-1 - m.window_steps] if len(self._loads) > m.window_steps else view.load
        slope = (view.load - previous) * m.capacity_rps / (m.window_steps * m.step_s)
        cpu = view.metric * 100.0
        return MetricsSnapshot(view.ready, view.ordered - view.ready,
                               {"cpu_pct": cpu, "request_rate": rate, "instances_ready": measured},
                               {"request_rate": slope,
                                "cpu_pct": 100.0 * slope / (m.capacity_rps * max(measured, 1e-9))})

    def _near(self, now: datetime) -> tuple[Wedding, ...]:
        """Return the weddings of yesterday, today and tomorrow."""
        day = now.date()
        if day not in self._near_cache:
            self._near_cache = {day: tuple(
                w for d in (day - timedelta(days=1), day, day + timedelta(days=1))
                for w in self._by_day.get(d, ()))}
        return self._near_cache[day]


def _index_by_day(weddings: tuple[Wedding, ...]) -> dict:
    """Return weddings grouped by the date of their ceremony."""
    out: dict = {}
    for w in weddings:
        out.setdefault(w.ceremony_start.date(), []).append(w)
    return out
