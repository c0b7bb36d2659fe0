"""Reference policies of the replay protocol: ``static``, ``hpa`` and ``oracle``.

They are the yardsticks ``wedscale`` is compared with, written exactly as
``REPLAY_PROTOCOL.md`` defines them. ``static`` and ``oracle`` are built with hindsight from the
whole trace (that is their definition); ``hpa`` sees only the lagged metric.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from engine.scaling.replay_cluster import ClusterModel, StepView


class StaticPolicy:
    """A fixed count: ``needed(p95 of the whole trace's demand)``.

    Parameters
    ----------
    instances : int
        The fixed count (see ``static_from``).
    """

    def __init__(self, instances: int):
        self.instances = instances

    def initial_instances(self, model: ClusterModel) -> int:
        """Return the fixed count."""
        return self.instances

    def desired(self, view: StepView) -> int:
        """Return the fixed count."""
        return self.instances


def static_from(demand_per_minute: np.ndarray, model: ClusterModel) -> StaticPolicy:
    """Return the static policy of a trace: ``needed`` of its p95 demand (in hindsight)."""
    return StaticPolicy(model.needed(float(np.percentile(demand_per_minute, 95))))


class OraclePolicy:
    """Perfect foresight: ``max(needed(demand_j), j = k .. k + delay)`` at step ``k``.

    Parameters
    ----------
    plan : numpy.ndarray
        Desired count per step (see ``oracle_from``).
    """

    def __init__(self, plan: np.ndarray):
        self.plan = plan

    def initial_instances(self, model: ClusterModel) -> int:
        """Return the plan of step 0."""
        return int(self.plan[0])

    def desired(self, view: StepView) -> int:
        """Return the plan of this step."""
        return int(self.plan[view.step])


def oracle_from(demand_rps: np.ndarray, model: ClusterModel) -> OraclePolicy:
    """Return the oracle for per-step demand: the forward max of ``needed`` over the delay."""
    per_unit = model.capacity_rps * model.target_utilisation
    need = np.clip(np.ceil(np.asarray(demand_rps, float) / per_unit),
                   model.min_instances, model.max_instances).astype(np.int64)
    n = len(need)
    plan = need.copy()
    for shift in range(1, model.delay_steps + 1):
        plan[: n - shift] = np.maximum(plan[: n - shift], need[shift:])
    return OraclePolicy(plan)


class HpaPolicy:
    """Kubernetes HPA v2 defaults on the lagged utilisation metric.

    With ``r = metric / target`` and ``current = ordered``: outside the 10 % tolerance the
    recommendation is ``ceil(load / target)`` (a scale-up only when the load still exceeds the
    tolerance with pending instances counted at 0 %); scale-downs take the highest
    recommendation of the last 300 s; scale-ups are limited to ``current + max(current, 4)``.

    Parameters
    ----------
    model : ClusterModel
        Target utilisation and min/max.
    start_instances : int
        Instances ready at step 0.
    tolerance : float
        HPA's tolerance around the target ratio (0.1).
    window_steps : int
        Scale-down stabilisation window in steps, this step included (20 = 300 s).
    """

    def __init__(self, model: ClusterModel, start_instances: int, tolerance: float = 0.1,
                 window_steps: int = 20):
        self.model = model
        self.start_instances = start_instances
        self.tolerance = tolerance
        self.window_steps = window_steps
        self._recs: deque[int] = deque(maxlen=window_steps)

    def initial_instances(self, model: ClusterModel) -> int:
        """Return the instances ready at step 0."""
        return self.start_instances

    def desired(self, view: StepView) -> int:
        """Return the HPA's desired count for this step."""
        target = self.model.target_utilisation
        current = view.ordered
        ratio = view.metric / target
        rec = current
        if ratio > 1 + self.tolerance:
            if view.load / (current * target) > 1 + self.tolerance:
                rec = math.ceil(view.load / target)
        elif ratio < 1 - self.tolerance:
            rec = math.ceil(view.load / target)
        rec = self.model.clamp(rec)
        self._recs.append(rec)
        if rec < current:
            return min(current, max(self._recs))
        return min(rec, current + max(current, 4))
