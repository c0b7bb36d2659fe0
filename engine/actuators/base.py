"""Where scale orders go: the ``Actuator`` protocol.

Implementations: ``SimulatedCluster`` (default, in memory) and the Kubernetes actuator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class ActuatorUnavailable(Exception):
    """The actuator could not be reached or refused for a passing reason (retry later).

    Anything an actuator raises other than ``NotFound`` / ``InvalidInput`` counts as
    transient for the executor; this is the one actuators raise on purpose (a timeout, an
    HTTP 5xx, a Kubernetes 409 conflict).
    """


class Actuator(Protocol):
    """Sets the instance count of a service and reports how many are ready and pending."""

    def scale(self, service: str, target: int, now: datetime, order_id: str) -> None:
        """Ask for ``target`` instances of ``service`` (ready plus pending) as of ``now``.

        Idempotent per ``order_id``: an order id already applied is ignored, so a retried
        order never scales twice. Returns once the order is accepted, not when the instances
        are ready.

        Raises
        ------
        engine.errors.NotFound
            For an unknown service.
        engine.errors.InvalidInput
            For a negative or non-integer target.
        """
        ...

    def sizes(self, service: str, now: datetime) -> tuple[int, int]:
        """Return ``(ready, pending)`` instances of ``service`` at ``now``.

        Raises
        ------
        engine.errors.NotFound
            For an unknown service.
        """
        ...
