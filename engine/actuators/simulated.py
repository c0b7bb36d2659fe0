"""The default actuator: an in-memory cluster with a provisioning delay per service.

Rules:

- a scale-up adds pending instances that become ready ``provisioning_delay_s`` after the
  order;
- a scale-down takes effect at once: it cancels pending instances first (the most recently
  ordered first, as they are furthest from ready), then removes ready ones;
- an order id is applied once; a retry with the same id (whatever its target) is ignored;
- the target is not clamped to the service's min/max: that is the policy's job, and a
  real cluster would accept it too.

State is kept as a timeline of snapshots (one per order), so ``sizes`` answers for any
``now`` at or after the first order exactly, whatever order callers ask in: the simulator
may read a step that lies just before an order placed by another thread.
"""

from __future__ import annotations

import bisect
import numbers
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from engine.clock import to_epoch_s
from engine.errors import InvalidInput, NotFound
from engine.services import ServiceSpec

MAX_SNAPSHOTS = 10_000


def _is_count(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return value >= 0
    return isinstance(value, float) and value.is_integer() and value >= 0


@dataclass(frozen=True)
class ScaleOrder:
    """One order the cluster applied, with the sizes it found (for audits and tests)."""

    order_id: str
    service: str
    target: int
    at: datetime
    ready_before: int
    pending_before: int


@dataclass(frozen=True)
class _Snapshot:
    at_s: float
    ready: int
    pending_ready_at: tuple[float, ...]  # sorted ascending


class SimulatedCluster:
    """Instances per service with a provisioning delay; implements ``Actuator``.

    Parameters
    ----------
    services : sequence of ServiceSpec
        The services and their ``provisioning_delay_s``.
    initial : dict of str to int, optional
        Ready instances at the start; services not named start at their ``min_instances``.
    """

    name = "simulated"

    def __init__(self, services: Sequence[ServiceSpec], initial: dict[str, int] | None = None):
        self.services = {s.name: s for s in services}
        initial = initial or {}
        self._timeline = {name: [_Snapshot(float("-inf"), int(initial.get(name, spec.min_instances)), ())]
                          for name, spec in self.services.items()}
        self._orders: dict[str, ScaleOrder] = {}
        self._lock = threading.Lock()

    def scale(self, service: str, target: int, now: datetime, order_id: str) -> None:
        """Order ``target`` instances (ready plus pending) of ``service`` at ``now``.

        An order dated before the service's latest order is applied at that latest time
        (orders cannot rewrite the past).

        Raises
        ------
        NotFound
            For an unknown service.
        InvalidInput
            For a negative or non-integer target.
        """
        timeline = self._timeline_of(service)
        if not _is_count(target):
            raise InvalidInput(f"target must be a non-negative integer, got {target!r}")
        target = int(target)
        with self._lock:
            if order_id in self._orders:
                return
            last = timeline[-1]
            at_s = max(to_epoch_s(now), last.at_s)
            ready, pending = self._state(last, at_s)
            self._orders[order_id] = ScaleOrder(order_id, service, target, now, ready, len(pending))
            if target > ready + len(pending):
                delay = self.services[service].provisioning_delay_s
                pending = pending + [at_s + delay] * (target - ready - len(pending))
            else:
                cancel = min(len(pending), ready + len(pending) - target)
                pending = pending[:len(pending) - cancel]
                ready = min(ready, target)
            timeline.append(_Snapshot(at_s, ready, tuple(pending)))
            if len(timeline) > MAX_SNAPSHOTS:
                # Forget the oldest half; the oldest kept snapshot then stands for all before it.
                del timeline[:len(timeline) - MAX_SNAPSHOTS // 2]
                first = timeline[0]
                timeline[0] = _Snapshot(float("-inf"), first.ready, first.pending_ready_at)

    def preset(self, ready: dict[str, int]) -> None:
        """Set the ready counts the cluster starts with; only before any order was placed.

        Raises
        ------
        InvalidInput
            When orders were already placed (the past cannot be rewritten).
        """
        with self._lock:
            if self._orders:
                raise InvalidInput("cannot preset a cluster that has received orders")
            for name, count in ready.items():
                if name in self._timeline:
                    self._timeline[name] = [_Snapshot(float("-inf"), int(count), ())]

    def sizes(self, service: str, now: datetime) -> tuple[int, int]:
        """Return ``(ready, pending)`` instances of ``service`` at ``now``.

        Raises
        ------
        NotFound
            For an unknown service.
        """
        timeline = self._timeline_of(service)
        at_s = to_epoch_s(now)
        with self._lock:
            i = bisect.bisect_right(timeline, at_s, key=lambda snap: snap.at_s) - 1
            ready, pending = self._state(timeline[max(i, 0)], at_s)
        return ready, len(pending)

    def target(self, service: str) -> int:
        """Return the instance count last ordered (ready plus pending, ignoring time)."""
        with self._lock:
            last = self._timeline_of(service)[-1]
            return last.ready + len(last.pending_ready_at)

    @property
    def orders(self) -> list[ScaleOrder]:
        """Return the applied orders, oldest first."""
        with self._lock:
            return list(self._orders.values())

    def order(self, order_id: str) -> ScaleOrder | None:
        """Return the applied order with ``order_id``, or None."""
        with self._lock:
            return self._orders.get(order_id)

    def _timeline_of(self, service: str) -> list[_Snapshot]:
        try:
            return self._timeline[service]
        except KeyError:
            raise NotFound(f"unknown service {service!r}") from None

    @staticmethod
    def _state(snap: _Snapshot, at_s: float) -> tuple[int, list[float]]:
        arrived = bisect.bisect_right(snap.pending_ready_at, at_s)
        return snap.ready + arrived, list(snap.pending_ready_at[arrived:])
