"""The engine scheduler: an elector thread that starts APScheduler once this process leads.

Each job is one call into an engine service. Before each run the job checks (fence) that
this process still holds the leader lock, so a deposed leader never acts; each run is
recorded in ``job_runs`` for the health report and the no-double-run check.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from engine.jobs.leader import LeaderLock
from engine.storage.models import JobRun

log = logging.getLogger(__name__)

ELECTION_RETRY_S = 2.0
HEARTBEAT_S = 1.0


@dataclass(frozen=True)
class JobSpec:
    """A job: its name, interval in seconds and the engine call it makes."""

    name: str
    interval_s: float
    run: Callable[[], object]


class EngineRunner:
    """Runs ``jobs`` in this process while it holds ``lock``; otherwise stays a follower."""

    def __init__(self, engine, lock: LeaderLock, jobs: list[JobSpec]):
        self.engine = engine
        self.lock = lock
        self.jobs = jobs
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_runs: dict[str, datetime] = {}
        self.last_errors: dict[str, str] = {}

    @property
    def is_leader(self) -> bool:
        """True while this process runs the engine jobs."""
        return self._scheduler is not None

    def start(self) -> None:
        """Start the elector thread (idempotent). Never called at import time."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._elect, name="wedscale-elector", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop jobs, give up the lock and end the elector thread."""
        self._stop.set()
        self._stop_jobs()
        self.lock.release()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _elect(self) -> None:
        while not self._stop.is_set():
            try:
                if self._scheduler is None:
                    if self.lock.try_acquire():
                        self._start_jobs()
                elif not self.lock.holds():
                    log.warning("leader lock lost; stopping engine jobs")
                    self._stop_jobs()
            except Exception:  # never let the elector die; retry next round
                log.exception("leader election failed")
                self._stop_jobs()
            self._stop.wait(HEARTBEAT_S if self._scheduler else ELECTION_RETRY_S)

    def _start_jobs(self) -> None:
        scheduler = BackgroundScheduler(daemon=True, timezone="UTC")
        for job in self.jobs:
            scheduler.add_job(self.run_job, "interval", seconds=job.interval_s, args=[job],
                              id=job.name, max_instances=1, coalesce=True,
                              misfire_grace_time=max(1, int(job.interval_s)))
        scheduler.start()
        self._scheduler = scheduler
        log.info("this process (%s) leads: engine jobs started", self.worker_id)

    def _stop_jobs(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    def run_job(self, job: JobSpec) -> bool:
        """Run one job now if this process still leads; record the run. Returns success."""
        if not self.lock.holds():
            return False
        started = self.engine.clock.now()
        ok, message = True, ""
        try:
            job.run()
        except Exception as exc:
            ok, message = False, f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed", job.name)
        finished = self.engine.clock.now()
        self.last_runs[job.name] = finished
        if not ok:
            self.last_errors[job.name] = message
        else:
            self.last_errors.pop(job.name, None)
        try:
            with self.engine.db.session() as session:
                session.add(JobRun(job=job.name, started_at=started, finished_at=finished, ok=ok,
                                   worker=self.worker_id, message=message[:500]))
        except Exception:
            log.exception("could not record the run of %s", job.name)
        return ok


def default_jobs(engine) -> list[JobSpec]:
    """The engine's scheduled jobs."""
    return [
        JobSpec("collect_metrics", engine.settings.collect_interval_s, engine.collect_metrics),
        JobSpec("evaluate_alerts", 10.0, engine.evaluate_alerts),
        JobSpec("autoscale", 15.0, engine.run_autoscaler),
        JobSpec("retrain_forecasts", 6 * 3600.0, engine.retrain_forecasts),
        JobSpec("track_forecasts", 3600.0, engine.track_forecasts),
    ]
