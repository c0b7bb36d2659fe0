"""The built-in metric source: a seeded simulation of the platform driven by the wedding calendar.

``Simulator`` implements ``MetricSource``. Demand comes from ``load_model`` (daily, weekly
and seasonal cycles plus wedding phases); the response to it from ``response``, using the
ready instances of a ``SimulatedCluster``, so a scale order changes CPU, latency and errors
once its instances are ready. All 9 metric ids are emitted for every service at every step
on the grid ``k × step_s`` (Unix seconds).

Determinism: noise is counter-based, keyed on (seed, service, step index on the live grid),
and the only carried state (the backlog) advances one step at a time, so for a seed the
values at a timestamp do not depend on how ``collect`` calls are chunked, and ``backfill``
draws the same noise at the same timestamps.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime
from typing import Callable, Sequence

import numpy as np

from engine.actuators.simulated import SimulatedCluster
from engine.clock import from_epoch_s, to_epoch_s
from engine.errors import InvalidInput, NotFound
from engine.services import METRIC_IDS, ServiceSpec
from engine.sources.base import SampleBatch
from engine.sources.load_model import WeddingTimes, demand_rps, wedding_times
from engine.sources.noise import normals, smooth_normals, stream_key
from engine.sources.response import (BACKLOG_CAP_S, CH_DEMAND, INCIDENT_KINDS, N_CHANNELS, Incident,
                                     apply_incidents, backlog_series, backlog_vectorised, respond)
from engine.weddings import Wedding

MAX_CATCH_UP_S = 3600.0
TUNED_UTILISATION = 0.6
SLOW_NOISE_PERIOD_S = 300.0


class Simulator:
    """Simulated metrics of every service, on a fixed step grid.

    Parameters
    ----------
    services : sequence of ServiceSpec
        The services to simulate.
    cluster : SimulatedCluster
        Supplies ready/pending instances at each step (anything with ``sizes(service, now)``).
    weddings : callable returning weddings, or a sequence of Wedding
        The calendar; a callable (e.g. ``WeddingCalendar``) is called once per ``collect``.
    seed : int, default 0
        Noise seed.
    step_s : float, default 5.0
        Spacing of the live samples, seconds.

    Notes
    -----
    The first ``collect`` emits only the step at or before ``now`` (history is the job of
    ``backfill``). A later call emits the steps after the previous call's last step, up to
    ``now``; after a gap of over ``MAX_CATCH_UP_S`` only the last hour is produced, and the
    backlog carries over the skipped steps unchanged. While stopped, steps are still
    simulated (the platform runs on; only its monitoring is down) but withheld.
    """

    name = "simulator"

    def __init__(self, services: Sequence[ServiceSpec], cluster: SimulatedCluster,
                 weddings: Callable[[], Sequence[Wedding]] | Sequence[Wedding],
                 seed: int = 0, step_s: float = 5.0):
        self.services = tuple(services)
        self.cluster = cluster
        self.weddings = weddings
        self.seed = seed
        self.step_s = float(step_s)
        self._keys = {s.name: stream_key(seed, s.name) for s in self.services}
        self._backlog = {s.name: 0.0 for s in self.services}
        self._last_step: int | None = None
        self._incidents: list[Incident] = []
        self._stopped = False
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ MetricSource
    def collect(self, now: datetime) -> SampleBatch:
        """Return the samples of the grid steps after the previous call, up to ``now``.

        Returns an empty batch while stopped, or when no new step has been reached.
        """
        k_now = math.floor(to_epoch_s(now) / self.step_s)
        with self._lock:
            first = k_now if self._last_step is None else self._last_step + 1
            first = max(first, k_now - int(MAX_CATCH_UP_S // self.step_s) + 1)
            if first > k_now:
                return SampleBatch.empty()
            ts = np.arange(first, k_now + 1, dtype=np.int64) * self.step_s
            weddings = wedding_times(self._calendar(), float(ts[0]), float(ts[-1]))
            batch = self._simulate_live(ts, weddings)
            self._last_step = k_now
            return SampleBatch.empty() if self._stopped else batch

    # ------------------------------------------------------------------ drills and outages
    def inject_incident(self, kind: str, service: str, start: datetime, duration_s: float) -> Incident:
        """Schedule an incident on ``service`` from ``start`` for ``duration_s`` seconds.

        Raises
        ------
        InvalidInput
            For an unknown ``kind`` or a non-positive duration.
        NotFound
            For an unknown service.
        """
        if kind not in INCIDENT_KINDS:
            raise InvalidInput(f"unknown incident kind {kind!r}; expected one of {', '.join(INCIDENT_KINDS)}")
        if service not in self._keys:
            raise NotFound(f"unknown service {service!r}")
        if not duration_s > 0:
            raise InvalidInput("incident duration must be positive")
        start_s = to_epoch_s(start)
        incident = Incident(kind, service, start_s, start_s + float(duration_s))
        with self._lock:
            self._incidents.append(incident)
        return incident

    def incidents(self, now: datetime | None = None) -> list[Incident]:
        """Return the scheduled incidents; with ``now``, only those active or still to come."""
        with self._lock:
            if now is None:
                return list(self._incidents)
            at = to_epoch_s(now)
            return [i for i in self._incidents if i.end_s > at]

    def clear_incidents(self) -> None:
        """Cancel every scheduled incident."""
        with self._lock:
            self._incidents.clear()

    def stop(self) -> None:
        """Simulate an outage of the source: ``collect`` returns empty batches until ``resume``."""
        with self._lock:
            self._stopped = True

    def resume(self) -> None:
        """End a simulated outage; steps simulated while stopped are not delivered."""
        with self._lock:
            self._stopped = False

    @property
    def stopped(self) -> bool:
        """True while the source is stopped."""
        return self._stopped

    # ------------------------------------------------------------------ history
    def backfill(self, start: datetime, end: datetime, step_s: float = 300.0) -> SampleBatch:
        """Return simulated history on the grid ``k × step_s`` in ``[start, end)``, series-major.

        ``end`` is first rounded down to the live step grid, so history never repeats the
        step the first ``collect(end)`` emits.

        Vectorised: 90 days of 5 services at 5-minute steps take well under a second. History
        assumes a well-tuned autoscaler: ``ready = ceil(demand / (0.6 × capacity))`` clamped to
        the service's min/max, nothing pending. Does not touch the live state.
        """
        lo = to_epoch_s(start)
        # End at the live step containing ``end``: that step is the first ``collect``'s.
        hi = math.floor(to_epoch_s(end) / self.step_s) * self.step_s
        ts = np.arange(math.ceil(lo / step_s), math.ceil(hi / step_s), dtype=np.int64) * float(step_s)
        ts = ts[ts < hi]
        if len(ts) == 0:
            return SampleBatch.empty()
        weddings = wedding_times(self._calendar(), float(ts[0]), float(ts[-1]))
        with self._lock:
            incidents = list(self._incidents)
        per_service = []
        z, z_slow = self._noise(ts)
        for i, spec in enumerate(self.services):
            demand = demand_rps(spec, ts, weddings, z[i, CH_DEMAND], z_slow[i])
            ready = self._tuned(spec, demand)
            capacity = ready * spec.capacity_rps
            excess = (demand - capacity) * step_s
            backlog = np.minimum(backlog_vectorised(excess), capacity * BACKLOG_CAP_S)
            metrics = respond(spec.name, demand, ready, spec.capacity_rps, backlog, ts, z[i], self._phase(spec))
            apply_incidents(spec.name, ts, metrics, incidents, z[i])
            metrics.update(request_rate=demand, instances_ready=ready, instances_pending=np.zeros(len(ts)))
            per_service.append(metrics)
        return self._assemble(ts, per_service)

    def well_tuned_sizes(self, now: datetime) -> dict[str, int]:
        """Return per service the ready count a well-tuned autoscaler would hold at ``now``.

        Handy to start a ``SimulatedCluster`` where the backfilled history ends.
        """
        ts = np.array([math.floor(to_epoch_s(now) / self.step_s) * self.step_s])
        weddings = wedding_times(self._calendar(), float(ts[0]), float(ts[0]))
        z, z_slow = self._noise(ts)
        return {spec.name: int(self._tuned(spec, demand_rps(spec, ts, weddings, z[i, CH_DEMAND], z_slow[i]))[0])
                for i, spec in enumerate(self.services)}

    # ------------------------------------------------------------------ internals
    def _calendar(self) -> Sequence[Wedding]:
        return self.weddings() if callable(self.weddings) else self.weddings

    def _noise(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return per-step normals ``(services, N_CHANNELS, steps)`` and slow noise ``(services, steps)``.

        The counter is the step index on the live grid, so a backfill at 5-minute steps
        draws the same noise as the live source at the same timestamps.
        """
        keys = [self._keys[s.name] for s in self.services]
        counter = np.rint(ts / self.step_s).astype(np.int64)
        return normals(keys, counter, N_CHANNELS), smooth_normals(keys, ts, SLOW_NOISE_PERIOD_S)

    def _phase(self, spec: ServiceSpec) -> float:
        return (self._keys[spec.name] % 1000) / 1000.0 * 2.0 * np.pi

    @staticmethod
    def _tuned(spec: ServiceSpec, demand: np.ndarray) -> np.ndarray:
        needed = np.ceil(demand / (TUNED_UTILISATION * spec.capacity_rps))
        return np.clip(needed, spec.min_instances, spec.max_instances).astype(np.float64)

    def _simulate_live(self, ts: np.ndarray, weddings: list[WeddingTimes]) -> SampleBatch:
        per_service = []
        whens = [from_epoch_s(float(t)) for t in ts]
        z, z_slow = self._noise(ts)
        for i, spec in enumerate(self.services):
            demand = demand_rps(spec, ts, weddings, z[i, CH_DEMAND], z_slow[i])
            sizes = np.array([self.cluster.sizes(spec.name, when) for when in whens], dtype=np.float64)
            ready, pending = sizes[:, 0], sizes[:, 1]
            capacity = ready * spec.capacity_rps
            cap = np.where(capacity > 0, capacity, demand) * BACKLOG_CAP_S
            backlog = backlog_series((demand - capacity) * self.step_s, cap, self._backlog[spec.name])
            self._backlog[spec.name] = float(backlog[-1])
            metrics = respond(spec.name, demand, ready, spec.capacity_rps, backlog, ts, z[i], self._phase(spec))
            apply_incidents(spec.name, ts, metrics, self._incidents, z[i])
            metrics.update(request_rate=demand, instances_ready=ready, instances_pending=pending)
            per_service.append(metrics)
        return self._assemble(ts, per_service)

    def _assemble(self, ts: np.ndarray, per_service: list[dict[str, np.ndarray]]) -> SampleBatch:
        """Return one series-major batch: service by service, metric by metric, by time."""
        n, n_metrics = len(ts), len(METRIC_IDS)
        names = np.array([s.name for s in self.services], dtype=object)
        metric_ids = np.array(METRIC_IDS, dtype=object)
        values = np.concatenate([np.asarray(m[metric], dtype=np.float64)
                                 for m in per_service for metric in METRIC_IDS])
        return SampleBatch(np.repeat(names, n * n_metrics),
                           np.tile(np.repeat(metric_ids, n), len(names)),
                           np.tile(ts.astype(np.float64), len(names) * n_metrics), values)
