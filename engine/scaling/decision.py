"""The scaling decision as a value: what, why, from which inputs, at what cost, how to undo.

The policy proposes a ``ScaleDecision``; the executor orders the actuator, writes the audit
entry and keeps the rollback plan; the UI and the tests read the same object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Mapping


class Trigger(str, Enum):
    """What caused a decision."""

    REACTIVE = "reactive"        # observed metrics over their target
    PREDICTIVE = "predictive"    # the load forecast at now + provisioning delay
    PRESCALE = "prescale"        # a large or priority wedding ahead
    EMERGENCY = "emergency"      # a critical threshold crossed
    MANUAL = "manual"            # an operator's order


class Category(str, Enum):
    """How a decision may proceed."""

    AUTO_APPROVED = "auto_approved"          # within limits and budget: executed at once
    REQUIRES_APPROVAL = "requires_approval"  # large, or over the cost budget
    EMERGENCY = "emergency"                  # executed at once, bound only by min/max


@dataclass(frozen=True)
class ScaleDecision:
    """One proposed change of a service's instance count.

    Attributes
    ----------
    service : str
        Service id.
    from_instances, to_instances : int
        Instances ordered (ready plus pending) before, and the target.
    trigger : Trigger
        What caused it.
    reason : str
        One human line, e.g. ``"reactive: cpu_pct 92.0 over target 70.0"``.
    inputs : Mapping[str, Any]
        The numbers the decision was computed from (metric values, forecast, limits applied);
        JSON-able.
    confidence : float
        0–1; how sure the policy is that ``to_instances`` is needed.
    cost_per_hour : float
        Estimated cost of ``to_instances`` per hour (instances × cost per instance-hour).
    rollback_instances : int
        The rollback plan: the count to return to (``from_instances``).
    category : Category
        Auto-approved, requires approval, or emergency.
    created_at : datetime
        The ``now`` the policy was called with.
    """

    service: str
    from_instances: int
    to_instances: int
    trigger: Trigger
    reason: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    confidence: float = 1.0
    cost_per_hour: float = 0.0
    rollback_instances: int = 0
    category: Category = Category.AUTO_APPROVED
    created_at: datetime | None = None

    @property
    def delta(self) -> int:
        """Return ``to_instances − from_instances`` (negative for a scale-down)."""
        return self.to_instances - self.from_instances

    @property
    def rollback_plan(self) -> str:
        """Return the rollback plan as one line."""
        return f"scale {self.service} back to {self.rollback_instances} instances"

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (enums as their values, the time in ISO 8601)."""
        return {
            "service": self.service,
            "from_instances": self.from_instances,
            "to_instances": self.to_instances,
            "trigger": self.trigger.value,
            "reason": self.reason,
            "inputs": dict(self.inputs),
            "confidence": self.confidence,
            "cost_per_hour": self.cost_per_hour,
            "rollback_instances": self.rollback_instances,
            "rollback_plan": self.rollback_plan,
            "category": self.category.value,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }
