"""The replay's simulated cluster: 15 s steps, a provisioning delay and a lagged metric.

This is the cluster model of ``../shared/benchmarks/REPLAY_PROTOCOL.md``, written as a small
loop over plain numbers. Step ``k`` covers ``[t, t + 15 s)``; at each step, in this order:

1. pending orders whose ready step has come become ready;
2. the policy returns a desired count, clamped to ``[min, max]``;
3. a larger count orders the difference (ready ``delay_steps`` later); a smaller one cancels
   pending orders, newest first, then removes ready instances at once;
4. the step is accounted with the resulting ``ready`` and ``ordered``.

A policy sees, at step ``k``, only what a metric pipeline with a 30 s lag has delivered:
the 60 s mean utilisation ``mean(u[k-6 .. k-3])``, the matching ``load`` in instances, and the
demand of steps ``<= k - 3``. It never receives the trace itself.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class ClusterModel:
    """Constants of the simulated cluster (protocol defaults).

    Parameters
    ----------
    capacity_rps : float
        Requests per second one ready instance serves at 100 % utilisation.
    target_utilisation : float
        Utilisation the reference policies aim at (``needed`` uses it).
    delay_steps : int
        Steps from an order to ready instances (8 × 15 s = 120 s).
    min_instances, max_instances : int
        Bounds of every desired count.
    step_s : int
        Length of one step, seconds.
    lag_steps, window_steps : int
        The metric at step ``k`` averages steps ``k-lag-window+1 .. k-lag``.
    """

    capacity_rps: float = 100.0
    target_utilisation: float = 0.7
    delay_steps: int = 8
    min_instances: int = 2
    max_instances: int = 200
    step_s: int = 15
    lag_steps: int = 3
    window_steps: int = 4

    def clamp(self, instances: int) -> int:
        """Return ``instances`` clamped to ``[min_instances, max_instances]``."""
        return max(self.min_instances, min(self.max_instances, int(instances)))

    def needed(self, demand_rps: float) -> int:
        """Return ``clamp(ceil(demand / (capacity × target)))``: instances for a demand."""
        return self.clamp(math.ceil(demand_rps / (self.capacity_rps * self.target_utilisation)))


@dataclass(frozen=True)
class StepView:
    """What a policy may see at one step.

    Attributes
    ----------
    step : int
        Index ``k`` of the step.
    metric : float or None
        Mean utilisation of the ready instances over the lagged window; None before step 3.
    load : float or None
        Mean demand over the same window divided by the capacity per instance.
    ready, ordered : int
        Instances ready now, and ready plus pending.
    observed_rps : numpy.ndarray
        Read-only demand of steps ``0 .. k - lag_steps`` (empty before that exists).
    """

    step: int
    metric: float | None
    load: float | None
    ready: int
    ordered: int
    observed_rps: np.ndarray


class StepPolicy(Protocol):
    """A replay policy: one desired count per step."""

    def initial_instances(self, model: ClusterModel) -> int:
        """Return the instances ready at step 0."""
        ...

    def desired(self, view: StepView) -> int:
        """Return the desired instance count at ``view.step`` (clamped by the cluster)."""
        ...


@dataclass(frozen=True)
class SimulationResult:
    """Per-step ``ready`` and ``ordered`` counts of one replay (after each step's action)."""

    ready: np.ndarray
    ordered: np.ndarray


def minute_to_steps(demand_per_minute: np.ndarray, step_s: int = 15) -> np.ndarray:
    """Return per-step demand: each minute's value repeated ``60 / step_s`` times."""
    return np.repeat(np.asarray(demand_per_minute, dtype=float), 60 // step_s)


def simulate(demand_rps: np.ndarray, policy: StepPolicy, model: ClusterModel = ClusterModel()
             ) -> SimulationResult:
    """Replay per-step demand through the cluster under ``policy``.

    Parameters
    ----------
    demand_rps : numpy.ndarray
        Demand of each 15 s step, requests per second.
    policy : StepPolicy
        Decides the desired count at each step from a ``StepView``.
    model : ClusterModel
        Cluster constants.

    Returns
    -------
    SimulationResult
        ``ready`` and ``ordered`` per step.
    """
    demand = np.asarray(demand_rps, dtype=float)
    observed = demand.view()
    observed.flags.writeable = False
    n = len(demand)
    ready_out = np.zeros(n, dtype=np.int64)
    ordered_out = np.zeros(n, dtype=np.int64)
    util = [0.0] * n
    demand_list = demand.tolist()
    cap = model.capacity_rps
    lag, width, delay = model.lag_steps, model.window_steps, model.delay_steps
    ready = model.clamp(policy.initial_instances(model))
    pending: deque[list[int]] = deque()  # [ready_step, count], oldest first
    n_pending = 0
    for k in range(n):
        while pending and pending[0][0] <= k:
            ready += pending[0][1]
            n_pending -= pending.popleft()[1]
        ordered = ready + n_pending
        if k >= lag:
            lo = max(0, k - lag - width + 1)
            hi = k - lag + 1
            metric = sum(util[lo:hi]) / (hi - lo)
            load = sum(demand_list[lo:hi]) / (hi - lo) / cap
        else:
            metric = load = None
        view = StepView(k, metric, load, ready, ordered, observed[: max(0, k - lag + 1)])
        desired = model.clamp(policy.desired(view)) if k >= lag else ordered
        if desired > ordered:
            pending.append([k + delay, desired - ordered])
            n_pending += desired - ordered
        elif desired < ordered:
            excess = ordered - desired
            while excess and pending:
                take = min(excess, pending[-1][1])
                pending[-1][1] -= take
                n_pending -= take
                excess -= take
                if pending[-1][1] == 0:
                    pending.pop()
            ready -= excess
        ready_out[k] = ready
        ordered_out[k] = ready + n_pending
        util[k] = demand_list[k] / (ready * cap)
    return SimulationResult(ready_out, ordered_out)
