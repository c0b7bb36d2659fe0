"""Scores of one replay (REPLAY_PROTOCOL.md, "Metrics"), computed from per-step arrays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from engine.scaling.replay_cluster import ClusterModel

CEREMONY_BEFORE = timedelta(minutes=30)
CEREMONY_AFTER = timedelta(minutes=60)


@dataclass(frozen=True)
class ScoredRun:
    """What scoring needs of one run: per-step demand, ready and ordered, and the clock.

    Attributes
    ----------
    start : datetime
        Naive timestamp of step 0.
    demand_rps : numpy.ndarray
        Demand per step.
    ready, ordered : numpy.ndarray
        Instances per step after the step's action.
    first_scored_step : int
        Index of the first scored step.
    """

    start: datetime
    demand_rps: np.ndarray
    ready: np.ndarray
    ordered: np.ndarray
    first_scored_step: int


def first_scored_step(n_steps: int, steps_per_day: int) -> int:
    """Return the first scored step: day 7, or half way for traces shorter than 14 days."""
    if n_steps >= 14 * steps_per_day:
        return 7 * steps_per_day
    return n_steps // 2


def score_run(run: ScoredRun, model: ClusterModel,
              ceremonies: list[datetime] | None = None) -> dict:
    """Return the protocol's metrics over the scored window of ``run``.

    Parameters
    ----------
    run : ScoredRun
        The replayed steps.
    model : ClusterModel
        Capacity per instance and step length.
    ceremonies : list of datetime, optional
        Ceremony starts (naive, trace clock); adds ``ceremonies_ready_frac`` and
        ``ceremonies_scored`` when given.

    Returns
    -------
    dict
        ``scored_minutes``, ``under_provisioned_time_frac``, ``unserved_demand_frac``,
        ``instance_hours``, ``scaling_actions``, ``mean_utilization``, ``peak_instances`` and
        the ceremony figures; plain floats and ints.
    """
    s = run.first_scored_step
    demand = run.demand_rps[s:]
    capacity = run.ready[s:] * model.capacity_rps
    ordered = run.ordered[s:]
    short = np.maximum(0.0, demand - capacity)
    previous = run.ordered[s - 1: -1] if s > 0 else np.concatenate(([run.ordered[0]], ordered[:-1]))
    steps_per_min = 60 // model.step_s
    out = {
        "scored_minutes": int(len(demand) // steps_per_min),
        "under_provisioned_time_frac": float(np.mean(demand > capacity)),
        "unserved_demand_frac": float(short.sum() / demand.sum()) if demand.sum() > 0 else 0.0,
        "instance_hours": float(ordered.sum() * model.step_s / 3600.0),
        "scaling_actions": int(np.count_nonzero(ordered != previous)),
        "mean_utilization": float(np.minimum(demand, capacity).sum() / capacity.sum()),
        "peak_instances": int(ordered.max()),
    }
    if ceremonies is not None:
        out.update(_score_ceremonies(run, model, ceremonies))
    return out


def _score_ceremonies(run: ScoredRun, model: ClusterModel, ceremonies: list[datetime]) -> dict:
    """Return ``ceremonies_ready_frac`` and ``ceremonies_scored`` (frac is None for none)."""
    step = timedelta(seconds=model.step_s)
    n = len(run.demand_rps)
    ready_ok = run.ready * model.capacity_rps >= run.demand_rps
    scored, ok = 0, 0
    for start in ceremonies:
        lo = _ceil_steps(start - CEREMONY_BEFORE - run.start, step)
        hi = (start + CEREMONY_AFTER - run.start) // step
        if lo < run.first_scored_step or hi >= n:
            continue
        scored += 1
        ok += bool(ready_ok[lo: hi + 1].all())
    return {"ceremonies_ready_frac": (ok / scored) if scored else None,
            "ceremonies_scored": scored}


def _ceil_steps(delta: timedelta, step: timedelta) -> int:
    """Return the index of the first step starting at or after ``delta``."""
    return -((-delta) // step)
