"""A coordinator's pre-scale request: one pending decision per service the wedding needs more of.

Pure: the wedding, its day's outlook and the current sizes in, ``ScaleDecision`` values out.
Every decision *requires approval* (an operator approves it through the executor's usual
path; a large one needs an admin), whatever its size: a coordinator asks, an operator decides.
The target is the highest recommended instance count of the wedding window; the decision's
inputs carry the forecast and the pre-scale order time so the operator can time the approval.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from engine.forecast.outlook import Outlook
from engine.scaling.decision import Category, ScaleDecision, Trigger
from engine.scaling.limits import is_standard_step
from engine.services import ServiceSpec
from engine.weddings import Wedding

MAX_NOTE = 500


def propose_prescale(wedding: Wedding, outlook: Outlook, specs: list[ServiceSpec], current: dict[str, int],
                     now: datetime, requester: str, note: str = "") -> list[ScaleDecision]:
    """Return the pending decisions that bring each service up to the wedding window's need.

    Services that already have enough instances ordered get none; an empty list means the
    current capacity already covers the forecast.
    """
    first = outlook.hours[0]
    lo = max(0, int((wedding.window_start - first) // timedelta(hours=1)))
    hi = min(len(outlook.hours), int(np.ceil((wedding.window_end - first) / timedelta(hours=1))))
    decisions = []
    for spec in specs:
        forecast = outlook.services.get(spec.name)
        if forecast is None or hi <= lo:
            continue
        target = int(np.max(forecast.recommended[lo:hi]))
        have = current[spec.name]
        if target <= have:
            continue
        peak = lo + int(np.argmax(forecast.p90[lo:hi]))
        order_at = wedding.window_start - timedelta(seconds=spec.provisioning_delay_s) - timedelta(minutes=15)
        size = "standard" if is_standard_step(have, target, spec.min_instances, spec.max_instances) else "large"
        reason = (f"pre-scale requested by {requester} for wedding #{wedding.id} {wedding.name} "
                  f"({wedding.guest_count} guests, ceremony {wedding.ceremony_start:%Y-%m-%d %H:%M} UTC)")
        if note.strip():
            reason += f": {note.strip()[:MAX_NOTE]}"
        decisions.append(ScaleDecision(
            service=spec.name, from_instances=have, to_instances=target, trigger=Trigger.PRESCALE,
            reason=reason,
            inputs={"wedding_id": wedding.id, "size": size, "requested_by": requester,
                    "order_at": order_at.isoformat(), "window_start": wedding.window_start.isoformat(),
                    "forecast_p50_rps": round(float(forecast.p50[peak]), 2),
                    "forecast_p90_rps": round(float(forecast.p90[peak]), 2),
                    "model_version": forecast.model_version},
            confidence=0.8, cost_per_hour=round(target * spec.cost_per_hour, 4),
            rollback_instances=have, category=Category.REQUIRES_APPROVAL, created_at=now))
    return decisions
