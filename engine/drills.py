"""Incident drills: admins inject a simulated incident to rehearse the alert response."""

from __future__ import annotations

from engine.errors import InvalidInput
from engine.security.audit import Actor

MAX_DRILL_MINUTES = 120


def start_drill(engine, kind: str, service: str, minutes: float, actor: Actor) -> str:
    """Inject ``kind`` on ``service`` for ``minutes`` into the simulator (audited); return a summary.

    Raises InvalidInput when the metric source cannot simulate incidents (e.g. Prometheus)
    or the arguments are out of range.
    """
    inject = getattr(engine.source, "inject_incident", None)
    if inject is None:
        raise InvalidInput("drills need the built-in simulator as the metric source")
    try:
        minutes = float(minutes)
    except (TypeError, ValueError):
        raise InvalidInput("minutes must be a number", {"field": "minutes"}) from None
    if not 1 <= minutes <= MAX_DRILL_MINUTES:
        raise InvalidInput(f"a drill lasts 1 to {MAX_DRILL_MINUTES} minutes", {"field": "minutes"})
    now = engine.clock.now()
    inject(kind, service, now, minutes * 60)
    summary = f"{kind} on {service} for {minutes:g} min"
    with engine.db.session() as session:
        engine.audit.record(session, now=now, actor=actor, action="drill.start", outcome="ok",
                            target=service, reason=summary, details={"kind": kind, "minutes": minutes})
    return summary
