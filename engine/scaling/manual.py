"""Manual scaling requests as pure values: validate an operator's order and classify it.

"Standard" (DESIGN.md): one action changes a service by at most +50 % / −30 % and stays within
its min/max; it executes at once. Anything larger is "large": it waits for an admin's approval
unless the requester may approve large changes. A scale-up over the day's cost budget waits
for an admin the same way. ``emergency_scale`` is bound only by min/max and needs
``scale:emergency``; the caller checks that permission; over budget it still goes ahead
(never silently capped) and the decision says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.errors import InvalidInput
from engine.scaling.decision import Category, ScaleDecision, Trigger
from engine.scaling.limits import is_standard_step, step_bounds
from engine.services import ServiceSpec

ACTIONS = ("scale_up", "scale_down", "set", "emergency_scale")
URGENCIES = ("low", "medium", "high", "critical")
MAX_REASON = 2000


@dataclass(frozen=True)
class ManualRequest:
    """An operator's order for one service, as parsed from the form or the API."""

    action: str
    service: str
    instances: int | None
    reason: str
    urgency: str = "medium"


def target_of(request: ManualRequest, current: int) -> int:
    """Return the instance count the request asks for.

    ``scale_up`` / ``scale_down`` without ``instances`` move one full standard step (the
    ``step_bounds`` the policy uses, so the default is always "standard"); with ``instances``
    they add or remove that many. ``set`` and ``emergency_scale`` take ``instances`` as the
    new total.
    """
    lowest, highest = step_bounds(current)
    if request.action == "scale_up":
        return current + request.instances if request.instances else highest
    if request.action == "scale_down":
        return current - request.instances if request.instances else lowest
    return int(request.instances)


def validate(request: ManualRequest, known_services: list[str]) -> None:
    """Raise InvalidInput naming the field when the request is malformed."""
    if request.action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}", {"field": "action"})
    if request.service not in known_services:
        raise InvalidInput(f"unknown service {request.service!r}", {"field": "services"})
    if request.urgency not in URGENCIES:
        raise InvalidInput(f"urgency must be one of {', '.join(URGENCIES)}", {"field": "urgency"})
    if not request.reason or not request.reason.strip():
        raise InvalidInput("a reason is required for every manual scaling action", {"field": "reason"})
    if len(request.reason) > MAX_REASON:
        raise InvalidInput(f"reason is longer than {MAX_REASON} characters", {"field": "reason"})
    needs_count = request.action in ("set", "emergency_scale")
    if request.instances is None and needs_count:
        raise InvalidInput(f"instances is required for {request.action}", {"field": "instances"})
    if request.instances is not None and (isinstance(request.instances, bool)
                                          or not isinstance(request.instances, int)
                                          or request.instances < (0 if needs_count else 1)):
        raise InvalidInput("instances must be a whole number (≥ 1 for scale_up/scale_down)",
                           {"field": "instances"})


def propose_manual(spec: ServiceSpec, current: int, request: ManualRequest, now: datetime,
                   *, may_approve_large: bool, over_budget: bool = False) -> ScaleDecision:
    """Return the decision for a validated request against ``current`` ordered instances.

    Raises InvalidInput when the target leaves the service's min/max or does not change anything.
    """
    target = target_of(request, current)
    if not spec.min_instances <= target <= spec.max_instances:
        raise InvalidInput(f"{spec.name} must stay between {spec.min_instances} and "
                           f"{spec.max_instances} instances (asked for {target})", {"field": "instances"})
    if target == current:
        raise InvalidInput(f"{spec.name} already has {current} instances ordered", {"field": "instances"})
    emergency = request.action == "emergency_scale"
    standard = is_standard_step(current, target, spec.min_instances, spec.max_instances)
    if emergency:
        category, size = Category.EMERGENCY, "emergency"
    elif (standard and not over_budget) or may_approve_large:
        category, size = Category.AUTO_APPROVED, "standard" if standard else "large"
    else:
        category, size = Category.REQUIRES_APPROVAL, "standard" if standard else "large"
    return ScaleDecision(
        service=spec.name, from_instances=current, to_instances=target,
        trigger=Trigger.EMERGENCY if emergency else Trigger.MANUAL,
        reason=(f"manual {request.action} ({size}{', over budget' if over_budget else ''}, "
                f"urgency {request.urgency}): {request.reason.strip()}"),
        inputs={"action": request.action, "requested": request.instances, "size": size,
                "urgency": request.urgency, "over_budget": over_budget},
        confidence=1.0, cost_per_hour=round(target * spec.cost_per_hour, 4),
        rollback_instances=current, category=category, created_at=now,
    )
