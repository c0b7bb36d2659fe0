"""Benchmark: one scaling decision cycle over 200 services (goal: median <= 20 ms).

A cycle is what the engine's scaling job does every tick: for each service, one call of the
pure ``engine.scaling.policy.plan_scale`` with its metrics snapshot, a forecast, the nearby
weddings and the policy's memory (20 remembered recommendations), then remembering the new
recommendation. Inputs are random but seeded; the cycle is timed ``--cycles`` times.

    .venv/bin/python benchmarks/bench_policy.py [--services 200] [--cycles 200]

Exit status 1 when the median exceeds the goal.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.scaling.limits import remember_recommendation  # noqa: E402
from engine.scaling.policy import (LoadForecast, MetricsSnapshot, ScalingMemory,  # noqa: E402
                                   ScalingPolicy, plan_scale)
from engine.services import ServiceSpec  # noqa: E402
from engine.weddings import Wedding  # noqa: E402

GOAL_MS = 20.0
NOW = datetime(2026, 6, 13, 13, 0, tzinfo=timezone.utc)  # a wedding Saturday


def build_inputs(n_services: int, seed: int = 7):
    """Return (services, snapshots, forecasts, memories, weddings) for one cycle."""
    rng = np.random.default_rng(seed)
    services, snapshots, forecasts, memories = [], [], [], []
    for i in range(n_services):
        spec = ServiceSpec(f"svc-{i:03d}", 2, 200, float(rng.uniform(20, 400)), 0.1,
                           float(rng.choice([45.0, 60.0, 120.0, 240.0])), 100.0, bool(i % 2))
        ready = int(rng.integers(2, 150))
        values = {"cpu_pct": float(rng.uniform(10, 99)), "memory_pct": float(rng.uniform(20, 92)),
                  "request_rate": float(ready * spec.capacity_rps * rng.uniform(0.2, 1.2)),
                  "latency_p95_ms": float(rng.uniform(50, 1500)),
                  "queue_depth": float(rng.uniform(0, 40 * ready)),
                  "error_rate_pct": float(rng.uniform(0, 3)), "instances_ready": float(ready)}
        slopes = {"request_rate": float(rng.normal(0, 5)), "cpu_pct": float(rng.normal(0, 0.2))}
        snapshots.append(MetricsSnapshot(ready, int(rng.integers(0, 5)), values, slopes))
        p50 = values["request_rate"] * rng.uniform(0.8, 1.3)
        forecasts.append(LoadForecast(NOW + timedelta(seconds=spec.provisioning_delay_s), p50,
                                      p50 * rng.uniform(1.0, 1.5)))
        recs = tuple((NOW.timestamp() - 15 * (20 - j), int(rng.integers(2, 150)))
                     for j in range(20))
        memories.append(ScalingMemory(recs))
        services.append(spec)
    weddings = [Wedding(j, f"w{j}", "UTC", NOW + timedelta(minutes=int(m)),
                        NOW + timedelta(minutes=int(m) + 60), NOW + timedelta(minutes=int(m) + 300),
                        int(rng.integers(40, 300)), (), bool(j % 3 == 0))
                for j, m in enumerate(rng.integers(-600, 600, 12))]
    return services, snapshots, forecasts, memories, weddings


def run_cycle(services, snapshots, forecasts, memories, weddings, policy) -> int:
    """Run one decision cycle over every service; return how many decisions it made."""
    made = 0
    now_s = NOW.timestamp()
    for i, spec in enumerate(services):
        plan = plan_scale(spec, snapshots[i], policy, NOW, forecast=forecasts[i],
                          weddings=weddings, memory=memories[i])
        remember_recommendation(memories[i].recommendations, now_s, plan.recommended_instances)
        made += plan.decision is not None
    return made


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--cycles", type=int, default=200)
    args = ap.parse_args()
    inputs = build_inputs(args.services)
    policy = ScalingPolicy()
    run_cycle(*inputs, policy)  # warm-up
    times_ms, made = [], 0
    for _ in range(args.cycles):
        t0 = time.perf_counter()
        made = run_cycle(*inputs, policy)
        times_ms.append((time.perf_counter() - t0) * 1000.0)
    median = statistics.median(times_ms)
    p95 = float(np.percentile(times_ms, 95))
    print(f"decision cycle over {args.services} services: median {median:.2f} ms, "
          f"p95 {p95:.2f} ms, {made} decisions per cycle ({args.cycles} cycles; goal <= {GOAL_MS:g} ms)")
    return 0 if median <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
