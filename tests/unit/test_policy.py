"""Table tests of ``decide_scale``: current instances, metrics, limits → instances and reason.

Each case names the service's current state, its metrics (and optionally a forecast, the
calendar, the policy's memory or settings) and the expected outcome: the target count (None:
no decision), the trigger or reason fragment, and the category.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from engine.scaling.decision import Category, Trigger
from engine.scaling.policy import (LoadForecast, MetricsSnapshot, ScalingMemory, ScalingPolicy,
                                   decide_scale, plan_scale)
from engine.services import ServiceSpec
from engine.weddings import Wedding

# A Tuesday morning in June (no wedding anywhere near) and a Saturday with a wedding.
TUESDAY = datetime(2026, 6, 9, 10, 0, tzinfo=timezone.utc)
SATURDAY = datetime(2026, 6, 13, 14, 0, tzinfo=timezone.utc)
API = ServiceSpec("api", 2, 40, 100.0, 0.12, 60.0, 300.0, True)
AI = ServiceSpec("ai-services", 1, 16, 20.0, 0.60, 240.0, 12.0, False)
POLICY = ScalingPolicy()


def wedding(ceremony: datetime, guests: int = 180, priority: bool = False, services=()) -> Wedding:
    """A wedding whose reception runs 1 h to 5 h after the ceremony."""
    return Wedding(1, "Ada & Grace", "Europe/London", ceremony, ceremony + timedelta(hours=1),
                   ceremony + timedelta(hours=5), guests, tuple(services), priority)


def memory_at(now: datetime, *recs: tuple[float, int]) -> ScalingMemory:
    """Memory holding recommendations made ``seconds_ago`` before ``now``."""
    return ScalingMemory(tuple((now.timestamp() - ago, n) for ago, n in recs))


CASES = [
    # id, spec, ready, pending, metrics, extra kwargs, expected instances, reason fragment, category
    ("at target", API, 10, 0, {"cpu_pct": 70}, {}, None, None, None),
    ("within tolerance", API, 10, 0, {"cpu_pct": 76}, {}, None, None, None),
    ("cpu over target", API, 10, 0, {"cpu_pct": 84}, {}, 12, "reactive: cpu_pct", "auto_approved"),
    ("capped at +50 %", API, 10, 0, {"cpu_pct": 91}, {}, 13, "reactive: cpu_pct", "auto_approved"),
    ("step limit", API, 10, 0, {"cpu_pct": 84, "request_rate": 1400}, {}, 15,
     "reactive: request_rate", "auto_approved"),
    ("request rate", API, 10, 0, {"request_rate": 1050}, {}, 15, "reactive: request_rate",
     "auto_approved"),
    ("queue depth", API, 10, 0, {"queue_depth": 260}, {}, 13, "reactive: queue_depth",
     "auto_approved"),
    ("latency", API, 10, 0, {"latency_p95_ms": 520}, {}, 13, "reactive: latency_p95_ms",
     "auto_approved"),
    ("memory", API, 10, 0, {"memory_pct": 90}, {}, 12, "reactive: memory_pct", "auto_approved"),
    ("max over metrics", API, 10, 0, {"cpu_pct": 84, "memory_pct": 96 * 0.95}, {}, 12,
     "reactive", "auto_approved"),
    ("scale-down capped at −30 %", API, 10, 0, {"cpu_pct": 21}, {}, 7, "scale-down",
     "auto_approved"),
    ("scale-down", API, 10, 0, {"cpu_pct": 56}, {}, 8, "scale-down", "auto_approved"),
    ("stabilised by a recent peak", API, 10, 0, {"cpu_pct": 35},
     {"memory": "recent 9"}, 9, "scale-down", "auto_approved"),
    ("recent peak above current holds", API, 10, 0, {"cpu_pct": 35},
     {"memory": "recent 12"}, None, None, None),
    ("expired peak ignored", API, 10, 0, {"cpu_pct": 49},
     {"memory": "old 12"}, 7, "scale-down", "auto_approved"),
    ("over target never scales down", API, 8, 4, {"cpu_pct": 84}, {}, None, None, None),
    ("pending count at target below it", API, 8, 4, {"cpu_pct": 35}, {}, 9, "scale-down",
     "auto_approved"),
    ("min bound", API, 2, 0, {"cpu_pct": 10}, {}, None, None, None),
    ("max bound", API, 30, 0, {"cpu_pct": 93}, {}, 40, "reactive", "auto_approved"),
    ("missing and NaN metrics ignored", API, 10, 0,
     {"cpu_pct": float("nan"), "request_rate": 1050}, {}, 15, "request_rate", "auto_approved"),
    ("emergency: beyond the step limit", API, 10, 0, {"cpu_pct": 190}, {}, 28, "emergency: cpu_pct",
     "emergency"),
    ("emergency: still within max", API, 30, 0, {"cpu_pct": 700}, {}, 40, "emergency",
     "emergency"),
    ("critical but capacity already coming", API, 10, 20, {"cpu_pct": 96}, {}, None, None, None),
    ("steep spike answered at once", API, 10, 0, {"request_rate": 900},
     {"slopes": {"request_rate": 5.0}}, 15, "reactive: request_rate", "auto_approved"),
    ("slow drift not projected", API, 10, 0, {"request_rate": 700},
     {"slopes": {"request_rate": 1.0}}, None, None, None),
    ("predictive p90 within capacity", API, 10, 0, {"cpu_pct": 70}, {"forecast": (1000, 2000)},
     15, "predictive: forecast p90", "auto_approved"),
    ("predictive p50 at the target", API, 10, 0, {"cpu_pct": 70}, {"forecast": (840, 900)}, 12,
     "predictive: forecast p50", "auto_approved"),
    ("known demand needs no headroom", API, 10, 0, {"cpu_pct": 70}, {"forecast": (1150, 1150)},
     12, "predictive: known demand", "auto_approved"),
    ("predictive below reactive", API, 10, 0, {"cpu_pct": 84}, {"forecast": (700, 900)}, 12,
     "reactive", "auto_approved"),
    ("predictive mode: the forecast decides", API, 10, 0, {"cpu_pct": 84},
     {"forecast": (700, 900), "policy": {"mode": "predictive"}}, None, None, None),
    ("predictive mode without a forecast reacts", API, 10, 0, {"cpu_pct": 84},
     {"policy": {"mode": "predictive"}}, 12, "reactive: cpu_pct", "auto_approved"),
    ("predictive mode reacts to an emergency", API, 10, 0, {"cpu_pct": 190},
     {"forecast": (700, 900), "policy": {"mode": "predictive"}}, 28, "emergency", "emergency"),
    ("prescale before a large wedding", API, 30, 0, {"cpu_pct": 70},
     {"now": SATURDAY - timedelta(minutes=10), "weddings": "large"}, 40, "prescale: wedding",
     "auto_approved"),
    ("prescale ramps up from 2 h before", API, 4, 0, {"cpu_pct": 70},
     {"now": SATURDAY - timedelta(minutes=80), "weddings": "large"}, 6, "prescale",
     "auto_approved"),
    ("no prescale for a small wedding", API, 10, 0, {"cpu_pct": 70},
     {"now": SATURDAY - timedelta(minutes=10), "weddings": "small"}, None, None, None),
    ("priority small wedding prescaled", API, 10, 0, {"cpu_pct": 70},
     {"now": SATURDAY - timedelta(minutes=10), "weddings": "priority"}, 15, "prescale",
     "auto_approved"),
    ("wedding for other services only", API, 10, 0, {"cpu_pct": 70},
     {"now": SATURDAY - timedelta(minutes=10), "weddings": "other"}, None, None, None),
    ("no scale-down of a critical service in a wedding window", API, 20, 0, {"cpu_pct": 20},
     {"now": SATURDAY + timedelta(hours=3), "weddings": "small"}, None, None, None),
    ("non-critical service scales down in a window", AI, 10, 0, {"cpu_pct": 20},
     {"now": SATURDAY + timedelta(hours=3), "weddings": "small"}, 7, "scale-down",
     "auto_approved"),
    ("stricter emergency threshold on a wedding day", API, 10, 0, {"cpu_pct": 86},
     {"now": SATURDAY + timedelta(hours=3), "weddings": "small"}, 13, "emergency",
     "emergency"),
    ("over budget needs approval, not capped", API, 10, 0, {"cpu_pct": 90},
     {"policy": {"daily_budget": 30.0}, "spent": 10.0}, 13, "over the daily budget",
     "requires_approval"),
    ("an emergency goes ahead over budget", API, 10, 0, {"cpu_pct": 190},
     {"policy": {"daily_budget": 30.0}, "spent": 10.0}, 28, "over the daily budget",
     "emergency"),
    ("wedding-day budget × 2.5", API, 10, 0, {"cpu_pct": 70},
     {"now": SATURDAY - timedelta(minutes=10), "weddings": "priority",
      "policy": {"daily_budget": 30.0}, "spent": 10.0}, 15, "prescale", "auto_approved"),
    ("scale-down never needs budget approval", API, 10, 0, {"cpu_pct": 35},
     {"policy": {"daily_budget": 0.01}, "spent": 100.0}, 7, "scale-down", "auto_approved"),
]


def _run(spec, ready, pending, metrics, extra):
    now = extra.get("now", TUESDAY)
    policy = replace(POLICY, **extra.get("policy", {}))
    weddings = {
        "large": [wedding(SATURDAY)],
        "small": [wedding(SATURDAY, guests=80)],
        "priority": [wedding(SATURDAY, guests=80, priority=True)],
        "other": [wedding(SATURDAY, services=("database",))],
    }.get(extra.get("weddings"), [])
    memory = {
        "recent 9": memory_at(now, (120, 9)),
        "recent 12": memory_at(now, (60, 12)),
        "old 12": memory_at(now, (360, 12)),
    }.get(extra.get("memory"), ScalingMemory())
    memory = replace(memory, spent_today=extra.get("spent", 0.0))
    forecast = None
    if "forecast" in extra:
        p50, p90 = extra["forecast"]
        forecast = LoadForecast(now + timedelta(seconds=spec.provisioning_delay_s), p50, p90)
    snapshot = MetricsSnapshot(ready, pending, metrics, extra.get("slopes", {}))
    return decide_scale(spec, snapshot, policy, now, forecast=forecast, weddings=weddings,
                        memory=memory)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_decide_scale_table(case):
    _, spec, ready, pending, metrics, extra, expected, reason, category = case
    decision = _run(spec, ready, pending, metrics, extra)
    if expected is None:
        assert decision is None, decision
        return
    assert decision is not None
    assert decision.to_instances == expected, decision.reason
    assert reason in decision.reason
    assert decision.category.value == category


def test_decision_carries_reason_inputs_cost_and_rollback():
    snapshot = MetricsSnapshot(10, 0, {"cpu_pct": 84.0})
    d = decide_scale(API, snapshot, POLICY, TUESDAY)
    assert (d.service, d.from_instances, d.to_instances) == ("api", 10, 12)
    assert d.trigger is Trigger.REACTIVE and d.category is Category.AUTO_APPROVED
    assert d.rollback_instances == 10 and "back to 10" in d.rollback_plan
    assert d.cost_per_hour == pytest.approx(12 * 0.12)
    assert d.inputs["metrics"] == {"cpu_pct": 84.0} and d.inputs["recommended"] == 12
    assert 0.0 <= d.confidence <= 1.0
    assert d.created_at == TUESDAY
    as_dict = d.as_dict()
    assert as_dict["trigger"] == "reactive" and as_dict["category"] == "auto_approved"
    assert as_dict["created_at"] == TUESDAY.isoformat()


def test_plan_reports_the_recommendation_even_without_a_decision():
    plan = plan_scale(API, MetricsSnapshot(10, 0, {"cpu_pct": 35.0}), POLICY, TUESDAY,
                      memory=memory_at(TUESDAY, (60, 12)))
    assert plan.decision is None
    assert plan.recommended_instances == 5


def test_prescale_uses_the_given_expected_peak():
    w = wedding(SATURDAY)
    d = decide_scale(API, MetricsSnapshot(10, 0, {"cpu_pct": 70.0}), POLICY,
                     SATURDAY - timedelta(minutes=10), weddings=[w], wedding_peaks_rps={1: 1020.0})
    assert d.to_instances == 12 and d.trigger is Trigger.PRESCALE  # ceil(1020 / 85)


@pytest.mark.parametrize("bad", [{"mode": "psychic"}, {"target_cpu_pct": 0},
                                 {"max_step_down": 1.0}, {"predictive_utilisation": -1}])
def test_policy_settings_are_validated(bad):
    with pytest.raises(ValueError):
        ScalingPolicy(**bad)


def test_decision_is_frozen():
    d = decide_scale(API, MetricsSnapshot(10, 0, {"cpu_pct": 84.0}), POLICY, TUESDAY)
    with pytest.raises(AttributeError):
        d.to_instances = 3
