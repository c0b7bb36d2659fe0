"""Properties of ``decide_scale`` over random services, metrics, forecasts, calendars, memories.

- never outside min/max;
- an automatic (non-emergency) decision moves at most +50 % / −30 % (or one instance);
- never a scale-down of a wedding-critical service inside an active wedding window;
- the cooldown holds: a scale-down never goes below a recommendation of the last 300 s;
- emergencies only scale up, and only with a metric at its critical threshold.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.detect.thresholds import CRITICAL, level_of, thresholds_for
from engine.scaling.decision import Category
from engine.scaling.limits import step_bounds
from engine.scaling.policy import (LoadForecast, MetricsSnapshot, ScalingMemory, ScalingPolicy,
                                   decide_scale)
from engine.services import ServiceSpec
from engine.weddings import Wedding, is_wedding_day

NOW = datetime(2026, 6, 13, 13, 0, tzinfo=timezone.utc)
POLICY = ScalingPolicy()


@st.composite
def services(draw):
    lo = draw(st.integers(0, 6))
    hi = draw(st.integers(max(lo, 1), 200))
    return ServiceSpec("api", lo, hi, draw(st.floats(5, 500)), 0.1,
                       draw(st.sampled_from([30.0, 60.0, 120.0])), 100.0, draw(st.booleans()))


@st.composite
def snapshots(draw, spec):
    ready = draw(st.integers(spec.min_instances, spec.max_instances))
    pending = draw(st.integers(0, max(0, spec.max_instances - ready)))
    metric_values = {
        "cpu_pct": st.floats(0, 300), "memory_pct": st.floats(0, 150),
        "request_rate": st.floats(0, 50_000), "latency_p95_ms": st.floats(0, 5000),
        "queue_depth": st.floats(0, 10_000), "error_rate_pct": st.floats(0, 20),
    }
    names = draw(st.lists(st.sampled_from(sorted(metric_values)), unique=True, max_size=6))
    values = {n: draw(metric_values[n]) for n in names}
    slopes = {n: draw(st.floats(-100, 100)) for n in names if draw(st.booleans())}
    return MetricsSnapshot(ready, pending, values, slopes)


@st.composite
def weddings(draw):
    out = []
    for i in range(draw(st.integers(0, 3))):
        start = NOW + timedelta(minutes=draw(st.integers(-600, 600)))
        out.append(Wedding(i, f"w{i}", "UTC", start, start + timedelta(hours=1),
                           start + timedelta(hours=draw(st.integers(2, 6))),
                           draw(st.integers(10, 400)), draw(st.sampled_from([(), ("api",), ("database",)])),
                           draw(st.booleans())))
    return out


@st.composite
def cases(draw):
    spec = draw(services())
    snapshot = draw(snapshots(spec))
    forecast = None
    if draw(st.booleans()):
        p50 = draw(st.floats(0, 50_000))
        forecast = LoadForecast(NOW, p50, p50 * draw(st.floats(1, 3)))
    recs = tuple(sorted((NOW.timestamp() - draw(st.floats(0, 600)), draw(st.integers(0, 250)))
                        for _ in range(draw(st.integers(0, 5)))))
    policy = POLICY if draw(st.booleans()) else ScalingPolicy(mode="predictive", daily_budget=50.0)
    return spec, snapshot, forecast, draw(weddings()), ScalingMemory(recs), policy


def _decide(case):
    spec, snapshot, forecast, cal, memory, policy = case
    return decide_scale(spec, snapshot, policy, NOW, forecast=forecast, weddings=cal,
                        memory=memory)


@settings(max_examples=400, deadline=None)
@given(cases())
def test_never_outside_min_max(case):
    d = _decide(case)
    spec = case[0]
    if d is not None:
        assert spec.min_instances <= d.to_instances <= spec.max_instances
        assert d.from_instances == case[1].current == d.rollback_instances
        assert d.to_instances != d.from_instances


@settings(max_examples=400, deadline=None)
@given(cases())
def test_automatic_steps_stay_within_limits(case):
    d = _decide(case)
    if d is not None and d.category is not Category.EMERGENCY:
        lowest, highest = step_bounds(d.from_instances)
        assert lowest <= d.to_instances <= highest


@settings(max_examples=400, deadline=None)
@given(cases())
def test_no_scale_down_of_critical_service_in_wedding_window(case):
    spec, _, _, cal, _, _ = case
    d = _decide(case)
    in_window = any(w.in_window(NOW) and (not w.services or "api" in w.services) for w in cal)
    if d is not None and spec.critical and in_window:
        assert d.to_instances > d.from_instances


@settings(max_examples=400, deadline=None)
@given(cases())
def test_scale_down_respects_the_stabilisation_window(case):
    memory = case[4]
    d = _decide(case)
    if d is not None and d.to_instances < d.from_instances:
        recent = [n for t, n in memory.recommendations if NOW.timestamp() - t < 300]
        if recent:
            assert d.to_instances >= min(d.from_instances, max(recent))


@settings(max_examples=300, deadline=None)
@given(cases())
def test_emergency_only_scales_up_on_a_critical_metric(case):
    d = _decide(case)
    if d is not None and d.category is Category.EMERGENCY:
        assert d.to_instances > d.from_instances
        table = thresholds_for(is_wedding_day(case[3], NOW.date()))
        assert any(level_of(m, v, table) == CRITICAL for m, v in case[1].values.items())


@settings(max_examples=200, deadline=None)
@given(cases())
def test_pure_same_inputs_same_decision(case):
    assert _decide(case) == _decide(case)


def test_cooldown_over_a_sequence_of_cycles():
    """A spike's recommendation holds the count for 300 s, then the count may fall."""
    from engine.scaling.limits import remember_recommendation
    from engine.scaling.policy import plan_scale

    spec = ServiceSpec("ai-services", 1, 16, 20.0, 0.6, 240.0, 12.0, False)
    tuesday = datetime(2026, 6, 9, 10, 0, tzinfo=timezone.utc)
    memory, ordered = ScalingMemory(), 10
    history = []
    for step in range(40):
        now = tuesday + timedelta(seconds=15 * step)
        cpu = 90.0 if step == 0 else 20.0
        plan = plan_scale(spec, MetricsSnapshot(ordered, 0, {"cpu_pct": cpu}), POLICY, now,
                          memory=memory)
        memory = ScalingMemory(remember_recommendation(memory.recommendations, now.timestamp(),
                                                       plan.recommended_instances))
        if plan.decision is not None:
            ordered = plan.decision.to_instances
        history.append(ordered)
    assert history[0] == 13                          # ceil(10 × 90 / 70)
    assert all(n == 13 for n in history[:20])      # 0 .. 285 s: held
    assert history[20] < 13                          # 300 s: the spike left the window
