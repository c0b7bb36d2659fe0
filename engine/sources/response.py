"""The simulated cluster's response to demand: CPU, latency, errors, queue and memory.

Pure and vectorised over steps. Utilisation ``rho = demand / (ready × capacity_rps)`` drives
everything, queueing-style:

- ``cpu_pct = min(100, 100 × rho + noise)``;
- latency p50 = base service time / (1 − rho) (M/M/1's growth, rho capped at 0.97) plus the
  wait for the backlog; p95 = p50 × (2 + 2.5 rho), so the tail widens under load; both
  capped at a 30 s / 60 s timeout;
- ``error_rate_pct``: a small base rate, + 60 points per unit of rho above 0.9 (6 % at
  rho = 1), + the share of requests dropped beyond capacity (1 − 1/rho);
- ``queue_depth``: the backlog of work above capacity (a Lindley recursion, capped at two
  minutes of capacity because clients time out) plus the M/M/1 queue length per instance;
- ``memory_pct``: slowly varying between 40 % and 70 % (two slow sine waves, a little load).

Incidents (drills) are applied on top by ``apply_incidents``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RHO_CAP = 0.97
BACKLOG_CAP_S = 120.0
P50_TIMEOUT_MS = 30_000.0
P95_TIMEOUT_MS = 60_000.0

# Service time at low load, ms; services not listed use the default.
BASE_LATENCY_MS = {"api": 45.0, "database": 12.0, "file-storage": 90.0, "real-time": 30.0,
                   "ai-services": 260.0}
DEFAULT_BASE_LATENCY_MS = 50.0

INCIDENT_KINDS = ("latency_spike", "error_burst", "memory_leak")

# Rows of the per-service noise block (standard normals, one column per step).
CH_DEMAND, CH_CPU, CH_P50, CH_P95, CH_ERR, CH_MEM, CH_BURST = range(7)
N_CHANNELS = 7


@dataclass(frozen=True)
class Incident:
    """A drill that distorts one service's metrics during ``[start_s, end_s)`` (Unix seconds)."""

    kind: str
    service: str
    start_s: float
    end_s: float


def backlog_series(excess: np.ndarray, cap: np.ndarray, start: float = 0.0) -> np.ndarray:
    """Return the backlog after each step: ``w = clip(w + excess, 0, cap)``, from ``start``.

    A plain loop: it runs on a handful of live steps, and a sequential sum keeps live values
    bit-identical however the steps are chunked. ``backlog_vectorised`` serves the backfill.
    """
    out = np.empty(len(excess))
    w = start
    for i, (x, c) in enumerate(zip(excess.tolist(), cap.tolist())):
        w = min(max(w + x, 0.0), c)
        out[i] = w
    return out


def backlog_vectorised(excess: np.ndarray) -> np.ndarray:
    """Return the uncapped backlog from zero, ``S_k − min(0, min_{j≤k} S_j)`` (Lindley)."""
    s = np.cumsum(excess)
    return s - np.minimum(np.minimum.accumulate(s), 0.0)


def respond(service: str, demand: np.ndarray, ready: np.ndarray, capacity_rps: float,
            backlog: np.ndarray, ts: np.ndarray, z: np.ndarray, phase: float) -> dict[str, np.ndarray]:
    """Return cpu, latency, error, queue and memory arrays for each step.

    Parameters
    ----------
    service : str
        Service id (picks the base latency).
    demand, ready : numpy.ndarray
        Requests per second and ready instances at each step.
    capacity_rps : float
        Requests per second one instance serves at 100 % CPU.
    backlog : numpy.ndarray
        Requests waiting beyond capacity after each step (``backlog_series``).
    ts : numpy.ndarray
        Unix seconds of the steps.
    z : numpy.ndarray
        Standard normal noise, shape ``(N_CHANNELS, steps)``, rows ``CH_*``.
    phase : float
        The service's phase of the slow memory waves, radians.

    Returns
    -------
    dict
        Arrays for ``cpu_pct``, ``latency_p50_ms``, ``latency_p95_ms``, ``error_rate_pct``,
        ``queue_depth`` and ``memory_pct``.
    """
    capacity = ready * capacity_rps
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(capacity > 0, demand / np.where(capacity > 0, capacity, 1.0),
                       np.where(demand > 0, np.inf, 0.0))
        wait_ms = np.where(capacity > 0, backlog / np.where(capacity > 0, capacity, 1.0) * 1000.0,
                           np.where(demand > 0, P50_TIMEOUT_MS, 0.0))
        dropped = np.where(rho > 1.0, 1.0 - 1.0 / rho, 0.0)
    rho_c = np.minimum(rho, RHO_CAP)
    base_ms = BASE_LATENCY_MS.get(service, DEFAULT_BASE_LATENCY_MS)

    cpu = np.clip(100.0 * np.minimum(rho, 1.0) + 1.5 * z[CH_CPU], 0.0, 100.0)
    p50 = (base_ms / (1.0 - rho_c) + wait_ms) * np.exp(0.04 * z[CH_P50])
    p50 = np.minimum(p50, P50_TIMEOUT_MS)
    spread = (2.0 + 2.5 * rho_c) * np.exp(0.05 * z[CH_P95])
    p95 = np.minimum(np.maximum(p50 * spread, p50), P95_TIMEOUT_MS)
    base_err = 0.08 * np.exp(0.35 * z[CH_ERR])
    err = base_err + 60.0 * np.clip(rho - 0.9, 0.0, 0.1) + 100.0 * dropped
    queue = backlog + ready * rho_c ** 2 / (1.0 - rho_c)
    memory = (52.0 + 7.0 * np.sin(2.0 * np.pi * ts / 21_600.0 + phase)
              + 3.0 * np.sin(2.0 * np.pi * ts / 86_400.0 + 2.0 * phase)
              + 6.0 * np.minimum(rho, 1.0) + 0.6 * z[CH_MEM])
    return {"cpu_pct": cpu, "latency_p50_ms": p50, "latency_p95_ms": p95,
            "error_rate_pct": np.minimum(err, 100.0), "queue_depth": queue,
            "memory_pct": np.clip(memory, 40.0, 70.0)}


def apply_incidents(service: str, ts: np.ndarray, metrics: dict[str, np.ndarray],
                    incidents: list[Incident], z: np.ndarray) -> None:
    """Distort ``metrics`` in place where an incident of ``service`` is active.

    - ``latency_spike``: p50 × 4 + 200 ms, p95 × 5 + 1500 ms (past the critical 2 s), capped
      at the timeouts;
    - ``error_burst``: + 8 to 12 error points (past the critical 5 %);
    - ``memory_leak``: + 45 points × the elapsed share of the incident (capped at 100 %).
    """
    for inc in incidents:
        if inc.service != service:
            continue
        active = (ts >= inc.start_s) & (ts < inc.end_s)
        if not active.any():
            continue
        if inc.kind == "latency_spike":
            p50 = np.minimum(metrics["latency_p50_ms"] * 4.0 + 200.0, P50_TIMEOUT_MS)
            p95 = np.minimum(metrics["latency_p95_ms"] * 5.0 + 1500.0, P95_TIMEOUT_MS)
            metrics["latency_p50_ms"] = np.where(active, p50, metrics["latency_p50_ms"])
            metrics["latency_p95_ms"] = np.where(active, p95, metrics["latency_p95_ms"])
        elif inc.kind == "error_burst":
            burst = 8.0 + 4.0 * np.abs(np.tanh(z[CH_BURST]))
            metrics["error_rate_pct"] = np.where(active, np.minimum(metrics["error_rate_pct"] + burst, 100.0),
                                                 metrics["error_rate_pct"])
        elif inc.kind == "memory_leak":
            share = np.clip((ts - inc.start_s) / max(inc.end_s - inc.start_s, 1.0), 0.0, 1.0)
            metrics["memory_pct"] = np.where(active, np.minimum(metrics["memory_pct"] + 45.0 * share, 100.0),
                                             metrics["memory_pct"])
