"""Service catalogue: the services the console watches and their limits and costs.

Defaults follow DESIGN.md (api, database, file-storage, real-time, ai-services); a
``WEDSCALE_CONFIG`` TOML file may override them (see ``engine.settings``).
"""

from __future__ import annotations

from dataclasses import dataclass

METRIC_IDS: tuple[str, ...] = (
    "cpu_pct",
    "memory_pct",
    "request_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "error_rate_pct",
    "queue_depth",
    "instances_ready",
    "instances_pending",
)


@dataclass(frozen=True)
class ServiceSpec:
    """Limits, capacity and cost of one scalable service.

    Parameters
    ----------
    name : str
        Service id, e.g. ``"api"``.
    min_instances, max_instances : int
        Hard bounds for every scaling action, emergency ones included.
    capacity_rps : float
        Requests per second one instance serves at 100 % CPU.
    cost_per_hour : float
        Cost of one instance-hour, in the budget's currency.
    provisioning_delay_s : float
        Seconds from a scale-up order to a ready instance.
    base_rps : float
        Typical request rate on a quiet weekday afternoon (drives the simulator).
    critical : bool
        Wedding-critical: never scaled down during an active wedding window.
    """

    name: str
    min_instances: int
    max_instances: int
    capacity_rps: float
    cost_per_hour: float
    provisioning_delay_s: float
    base_rps: float
    critical: bool


DEFAULT_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("api", 2, 40, 120.0, 0.12, 60.0, 300.0, True),
    ServiceSpec("database", 2, 12, 400.0, 0.45, 180.0, 420.0, True),
    ServiceSpec("file-storage", 2, 30, 60.0, 0.08, 90.0, 90.0, True),
    ServiceSpec("real-time", 2, 30, 150.0, 0.10, 45.0, 150.0, True),
    ServiceSpec("ai-services", 1, 16, 20.0, 0.60, 240.0, 12.0, False),
)


def service_names(services: tuple[ServiceSpec, ...] = DEFAULT_SERVICES) -> list[str]:
    """Return the ids of ``services`` in catalogue order."""
    return [s.name for s in services]
