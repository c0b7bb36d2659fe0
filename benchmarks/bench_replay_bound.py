"""Benchmark: how far any causal policy can go on a trace with unannounced flash spikes.

The replay goal asks for at most 1/5 of HPA's under-provisioned time at no more than 1.15 ×
the oracle's instance-hours. On a trace whose demand jumps by 1.5–3× within a minute at
times that are in no calendar, no causal policy can be ready for a jump it has not seen:
the metric pipeline delivers a minute 30 s late and an order takes 120 s, so the first
11 steps of every such spike are served by whatever capacity was standing before it.

This script measures that limit with a deliberately generous policy, the **spike-blind
oracle**: it knows the whole future demand (like the oracle: ordered exactly the
provisioning delay ahead) *except* the flash spikes, which it sees only once their first
step has been delivered (3 steps after their onset, as any causal policy would). Standing
headroom ``h`` multiplies its plan. Whatever it cannot reach at a given cost, no causal
policy can. It runs on the protocol's simulator (``engine.scaling.replay_cluster``) and
scorer (``engine.scaling.replay_score``), so the figures are comparable to ``wedscale
replay``.

Flash spikes are found in hindsight: a minute whose demand is more than ``--jump`` × the
median of the previous 30 minutes (and the previous minute was not), not within 5 minutes of
a calendar ceremony (those are announced). The spike lasts while demand stays above 1.3 ×
that median.

    .venv/bin/python benchmarks/bench_replay_bound.py [--trace CSV --calendar CSV]

Prints, for headroom factors from 1.0, the under-provisioned time (as a multiple of HPA's
on the same trace) and the cost ratio against the oracle, and the cheapest factor that meets
the 1/5-of-HPA goal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.scaling.replay import read_calendar, read_trace, run_replay  # noqa: E402
from engine.scaling.replay_cluster import ClusterModel, minute_to_steps, simulate  # noqa: E402
from engine.scaling.replay_reference import OraclePolicy, oracle_from  # noqa: E402
from engine.scaling.replay_score import ScoredRun, first_scored_step, score_run  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
TRACES = SHARED / "data" / "traces"
BASELINE_MIN = 30
END_RATIO = 1.3
ANNOUNCED_WITHIN_MIN = 5


def flash_spikes(demand_per_minute: np.ndarray, ceremony_minutes: list[int],
                 jump: float) -> list[tuple[int, int, float]]:
    """Return ``(onset, end, baseline)`` minutes of the unannounced jumps of a trace."""
    d = np.asarray(demand_per_minute, float)
    spikes = []
    minute = BASELINE_MIN
    while minute < len(d):
        base = float(np.median(d[minute - BASELINE_MIN:minute]))
        announced = any(abs(minute - c) <= ANNOUNCED_WITHIN_MIN for c in ceremony_minutes)
        if base > 0 and d[minute] > jump * base and d[minute - 1] <= jump * base and not announced:
            end = minute
            while end < len(d) and d[end] > END_RATIO * base:
                end += 1
            spikes.append((minute, end, base))
            minute = end
        minute += 1
    return spikes


def spike_blind_plan(demand: np.ndarray, spikes, model: ClusterModel, headroom: float) -> np.ndarray:
    """Return the spike-blind oracle's desired count per step (see the module docstring)."""
    per_min = 60 // model.step_s
    per_unit = model.capacity_rps * model.target_utilisation
    blind = np.asarray(demand, float).copy()    # what is believed before a spike is seen
    onset_of = np.full(len(demand), -1)
    for onset, end, base in spikes:
        blind[onset * per_min:end * per_min] = np.minimum(blind[onset * per_min:end * per_min], base)
        onset_of[onset * per_min:end * per_min] = onset * per_min
    n, delay, lag = len(demand), model.delay_steps, model.lag_steps
    future = np.asarray(demand, float).copy()   # max demand over [k, k + delay]
    for shift in range(1, delay + 1):
        future[: n - shift] = np.maximum(future[: n - shift], demand[shift:])
    # only the steps from ``delay`` before an onset until it is seen plan differently
    for onset, _end, _base in spikes:
        for k in range(max(0, onset * per_min - delay), min(n, onset * per_min + lag)):
            j = np.arange(k, min(n, k + delay + 1))
            seen = (onset_of[j] < 0) | (onset_of[j] <= k - lag)
            future[k] = np.where(seen, demand[j], blind[j]).max()
    plan = np.clip(np.ceil(headroom * future / per_unit - 1e-9), model.min_instances,
                   model.max_instances).astype(np.int64)
    return plan


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trace", type=Path, default=TRACES / "wedding_dev_seed1.csv")
    parser.add_argument("--calendar", type=Path, default=TRACES / "wedding_dev_seed1.calendar.csv")
    parser.add_argument("--jump", type=float, default=1.5, help="spike threshold over the 30 min median")
    parser.add_argument("--headroom", type=float, nargs="*",
                        default=[1.0, 1.1, 1.15, 1.2, 1.3, 1.4, 1.5, 1.6])
    args = parser.parse_args(argv)
    model = ClusterModel()
    trace = read_trace(args.trace)
    calendar = read_calendar(args.calendar) if args.calendar else None
    ceremonies = [int((s - trace.start).total_seconds() // 60) for s in calendar.starts] if calendar else []
    demand = minute_to_steps(trace.demand_per_minute, model.step_s)
    first = first_scored_step(len(demand), 86400 // model.step_s)
    spikes = flash_spikes(trace.demand_per_minute, ceremonies, args.jump)
    starts = calendar.starts if calendar else None
    oracle_hours = score_run(ScoredRun(trace.start, demand, *_run(demand, oracle_from(demand, model).plan, model),
                                       first), model, starts)["instance_hours"]
    hpa = run_replay(args.trace, "hpa", calendar_csv=args.calendar)["under_provisioned_time_frac"]
    scored = [s for s in spikes if s[0] * (60 // model.step_s) >= first]
    print(f"{trace.name}: {len(spikes)} unannounced flash spikes ({len(scored)} in the scored window), "
          f"median jump x{np.median([trace.demand_per_minute[o:e].max() / b for o, e, b in spikes]):.2f}; "
          f"hpa under-provisioned time {hpa:.6f}\n")
    print("| headroom | under-provisioned time | × HPA | cost vs oracle | ceremonies ready |")
    print("|---|---|---|---|---|")
    cheapest = None
    for h in args.headroom:
        ready, ordered = _run(demand, spike_blind_plan(demand, spikes, model, h), model)
        s = score_run(ScoredRun(trace.start, demand, ready, ordered, first), model, starts)
        ratio = s["under_provisioned_time_frac"] / hpa if hpa else float("nan")
        cost = s["instance_hours"] / oracle_hours
        if cheapest is None and ratio <= 0.2:
            cheapest = (h, cost)
        print(f"| {h:.2f} | {s['under_provisioned_time_frac']:.6f} | {ratio:.2f} | {cost:.3f} | "
              f"{_fmt(s.get('ceremonies_ready_frac'))} |")
    if cheapest:
        print(f"\ncheapest headroom meeting 1/5 of HPA: {cheapest[0]:.2f} at {cheapest[1]:.3f} x oracle "
              f"(goal <= 1.15)")
    else:
        print("\nno headroom tried meets 1/5 of HPA")
    return 0


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _run(demand: np.ndarray, plan: np.ndarray, model: ClusterModel):
    result = simulate(demand, OraclePolicy(plan), model)
    return result.ready, result.ordered


if __name__ == "__main__":
    sys.exit(main())
