"""The engine scheduler: an elector thread that starts APScheduler once this process leads.

Each job is one call into an engine service. Before each run the job checks (fence) that
this process still holds the leader lock, so a deposed leader never acts, then claims the
job's interval slot in ``job_runs`` (unique per job and slot): when a handover makes two
leaders overlap, or a new leader's first tick falls in the interval its predecessor already
ran, the second claim fails and the run is skipped. No job runs twice in one interval.

The scheduler fires each job in the middle of its slot (``k·interval + interval/2``), so
the few milliseconds a tick may be late never carry it into the next slot.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from engine.clock import Clock, to_epoch_s
from engine.jobs.leader import LeaderLock
from engine.storage.models import JobRun

log = logging.getLogger(__name__)

ELECTION_RETRY_S = 2.0
HEARTBEAT_S = 1.0
BACKUP_CHECK_S = 300.0


@dataclass(frozen=True)
class JobSpec:
    """A job: its name, interval in seconds and the engine call it makes."""

    name: str
    interval_s: float
    run: Callable[[], object]


def slot_of(now: datetime, interval_s: float) -> int:
    """Return the interval slot ``now`` falls in: ``floor(epoch seconds / interval_s)``."""
    return math.floor(to_epoch_s(now) / interval_s)


def mid_slot_start(now: datetime, interval_s: float) -> datetime:
    """Return the middle of the slot ``now`` falls in (the trigger's phase; see the module notes)."""
    epoch = (slot_of(now, interval_s) + 0.5) * interval_s
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


class EngineRunner:
    """Runs ``jobs`` in this process while it holds ``lock``; otherwise stays a follower.

    ``clock`` is the clock the scheduler fires on and the slots are counted in; it defaults
    to the engine's (the system clock in production). Tests that drive the real APScheduler
    with an engine on a ManualClock pass a SystemClock here.
    """

    def __init__(self, engine, lock: LeaderLock, jobs: list[JobSpec], *, clock: Clock | None = None,
                 on_lead: Callable[[], object] | None = None):
        self.engine = engine
        self.lock = lock
        self.jobs = jobs
        self.clock = clock or engine.clock
        self.on_lead = on_lead
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
        if self.on_lead is not None:
            self.on_lead()  # e.g. fill an empty shared store once, by the leader only
        scheduler = BackgroundScheduler(daemon=True, timezone="UTC")
        now = self.clock.now()
        for job in self.jobs:
            trigger = IntervalTrigger(seconds=job.interval_s, start_date=mid_slot_start(now, job.interval_s),
                                      timezone="UTC")
            scheduler.add_job(self.run_job, trigger, args=[job], id=job.name, max_instances=1,
                              coalesce=True, misfire_grace_time=max(1, int(job.interval_s / 2)))
        scheduler.start()
        self._scheduler = scheduler
        log.info("this process (%s) leads: engine jobs started", self.worker_id)

    def _stop_jobs(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    def run_job(self, job: JobSpec) -> bool:
        """Run one job now if this process still leads and its slot is free; record the run.

        Returns True when the job ran and succeeded; False when it failed, when this process
        no longer leads, or when another run already claimed this interval slot.
        """
        if not self.lock.holds():
            return False
        started = self.clock.now()
        run_id = self._claim(job, started)
        if run_id is False:
            return False
        ok, message = True, ""
        try:
            job.run()
        except Exception as exc:
            ok, message = False, f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed", job.name)
        finished = self.clock.now()
        self.last_runs[job.name] = finished
        if not ok:
            self.last_errors[job.name] = message
        else:
            self.last_errors.pop(job.name, None)
        if run_id is None:
            self._queue_run(job, started, finished, ok, message)
        else:
            self._finish(run_id, finished, ok, message)
        return ok

    def _queue_run(self, job: JobSpec, started: datetime, finished: datetime, ok: bool, message: str) -> None:
        """Record a run whose start could not be written (database down) through the engine's
        write-behind queue, so the ledger has no hole once the database is back."""
        run = dict(job=job.name, started_at=started, finished_at=finished, ok=ok, worker=self.worker_id,
                   message=message[:500], slot=slot_of(started, job.interval_s))
        writes = getattr(self.engine, "writes", None)
        if writes is None:
            return
        try:
            writes.write("job_run", lambda session: session.add(JobRun(**run)))
        except Exception:
            log.exception("could not queue the run of %s", job.name)

    def _claim(self, job: JobSpec, started: datetime) -> int | None | bool:
        """Insert the run's ledger row; return its id, False when the slot is taken, None
        when the database is unreachable (the job still runs: the lock fences it, and the
        engine keeps working from memory while the database is away)."""
        try:
            with self.engine.db.session() as session:
                row = JobRun(job=job.name, started_at=started, ok=True, worker=self.worker_id,
                             message="", slot=slot_of(started, job.interval_s))
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            log.info("job %s: slot already ran (handover); skipped", job.name)
            return False
        except Exception as exc:
            # expected during a database outage: the run is queued instead (``_queue_run``)
            log.warning("could not record the start of %s: %s", job.name, type(exc).__name__)
            return None

    def _finish(self, run_id: int | None, finished: datetime, ok: bool, message: str) -> None:
        if run_id is None:
            return
        try:
            with self.engine.db.session() as session:
                session.execute(update(JobRun).where(JobRun.id == run_id)
                                .values(finished_at=finished, ok=ok, message=message[:500]))
        except Exception:
            log.exception("could not record the end of run %s", run_id)


def default_jobs(engine) -> list[JobSpec]:
    """The engine's scheduled jobs; ``Settings.job_intervals_s`` overrides an interval."""
    intervals = {"collect_metrics": engine.settings.collect_interval_s, "evaluate_alerts": 10.0,
                 "autoscale": 15.0, "check_health": 30.0, "deliver_notifications": 5.0,
                 "flush_rollups": engine.settings.config.rollups.flush_interval_s,
                 # level-triggered: also reconciles orders a killed leader left behind
                 "check_orders": 10.0, "detect_threats": engine.settings.threat_interval_s,
                 "flush_writes": 5.0,
                 # checks whether a backup is due (hourly, or a wedding window within the hour
                 # without a pre-wedding backup); the backup itself is taken at most hourly
                 "backups": BACKUP_CHECK_S, "retrain_forecasts": 6 * 3600.0, "track_forecasts": 3600.0,
                 **engine.settings.job_intervals_s}
    calls = {"collect_metrics": engine.collect_metrics, "evaluate_alerts": engine.evaluate_alerts,
             "autoscale": engine.run_autoscaler, "check_health": engine.record_health,
             "deliver_notifications": engine.deliver_notifications,
             "flush_rollups": engine.flush_rollups, "check_orders": engine.check_orders,
             "detect_threats": engine.detect_threats, "flush_writes": engine.flush_writes,
             "backups": engine.run_backups, "retrain_forecasts": engine.retrain_forecasts,
             "track_forecasts": engine.track_forecasts}
    return [JobSpec(name, float(intervals[name]), call) for name, call in calls.items()]
