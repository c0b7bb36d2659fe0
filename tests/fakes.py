"""Test doubles of our own protocols (fakes, not mocks): they record and can fail on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from engine.actuators.base import ActuatorUnavailable
from engine.detect.channels import DeliveryError
from engine.errors import NotFound


class ProcessKilled(BaseException):
    """Stands for the process dying mid-call: nothing after the raise runs, no handler catches it."""


@dataclass
class _Fault:
    times: int
    apply_first: bool = False   # the order lands, then the answer is lost
    kill: bool = False          # the process dies instead of answering


@dataclass
class FakeActuator:
    """Implements ``Actuator``; records every order received and applies each order id once.

    New instances are ready at once unless the service is ``stuck`` (then only the instances
    ready when it got stuck are ever ready). ``fail_next`` makes the next calls to ``scale``
    raise ``ActuatorUnavailable`` (optionally after applying the order), or ``ProcessKilled``.
    """

    sizes_by_service: dict[str, int]
    received: list[tuple[str, str, int]] = field(default_factory=list)
    applied: dict[str, int] = field(default_factory=dict)
    landed_at: dict[str, int] = field(default_factory=dict)  # order id → index in ``received``
    stuck: dict[str, int] = field(default_factory=dict)
    _faults: list[_Fault] = field(default_factory=list)

    def fail_next(self, times: int = 1, *, apply_first: bool = False, kill: bool = False) -> None:
        """Make the next ``times`` orders fail (see the class docstring)."""
        self._faults.append(_Fault(times, apply_first, kill))

    def get_stuck(self, service: str) -> None:
        """From now on, no new instance of ``service`` becomes ready."""
        self.stuck[service] = self.sizes(service, None)[0]

    def scale(self, service: str, target: int, now: datetime | None, order_id: str) -> None:
        if service not in self.sizes_by_service:
            raise NotFound(f"unknown service {service!r}")
        self.received.append((order_id, service, target))
        fault = self._faults[0] if self._faults else None
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                self._faults.pop(0)
            if fault.apply_first:
                self._apply(service, target, order_id)
            if fault.kill:
                raise ProcessKilled(order_id)
            raise ActuatorUnavailable(f"injected failure on {order_id}")
        self._apply(service, target, order_id)

    def _apply(self, service: str, target: int, order_id: str) -> None:
        if order_id in self.applied:
            return  # idempotent per order id
        self.applied[order_id] = target
        self.landed_at[order_id] = len(self.received) - 1
        self.sizes_by_service[service] = target

    def sizes(self, service: str, now: datetime | None) -> tuple[int, int]:
        if service not in self.sizes_by_service:
            raise NotFound(f"unknown service {service!r}")
        ordered = self.sizes_by_service[service]
        ready = min(ordered, self.stuck.get(service, ordered))
        return ready, ordered - ready

    def order_ids(self) -> list[str]:
        """Return the order ids received, in order, duplicates included."""
        return [order_id for order_id, _, _ in self.received]


class HeldLock:
    """A leader lock this process always holds (runner tests without a real lock)."""

    def try_acquire(self):
        return True

    def holds(self):
        return True

    def release(self):
        pass


class RecordingChannel:
    """A channel double: keeps every message; fails while ``failures`` > 0."""

    def __init__(self, name: str, level: str = "all", failures: int = 0):
        self.name, self.level, self.failures, self.messages = name, level, failures, []

    def deliver(self, message) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("HTTP 503")
        self.messages.append(message)
