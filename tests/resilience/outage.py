"""Helpers for the fault tests: a switchable database outage and a job loop on the ManualClock."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from engine.jobs.runner import EngineRunner, default_jobs
from tests.fakes import HeldLock


class SwitchableOutage:
    """While ``on``, every statement on ``db`` fails as an unreachable database does."""

    def __init__(self, db):
        self.on = False
        event.listen(db.engine, "before_cursor_execute", self._check)

    def _check(self, *_args, **_kwargs):
        if self.on:
            raise OperationalError("(simulated outage)", {}, ConnectionRefusedError("database unavailable"))


class JobLoop:
    """Runs the engine's default jobs at their intervals as a ManualClock moves in 5 s steps."""

    STEP_S = 5

    def __init__(self, engine, clock):
        self.engine = engine
        self.clock = clock
        # the election is tested elsewhere: this process always leads
        self.runner = EngineRunner(engine, HeldLock(), default_jobs(engine))
        self.elapsed_s = 0
        self.runs = 0

    def run(self, seconds: int, on_step=None) -> None:
        """Advance ``seconds`` of clock time, running every job that falls due."""
        for _ in range(seconds // self.STEP_S):
            self.clock.advance(seconds=self.STEP_S)
            self.elapsed_s += self.STEP_S
            for job in self.runner.jobs:
                if self.elapsed_s % max(self.STEP_S, int(job.interval_s)) == 0:
                    self.runner.run_job(job)
                    self.runs += 1
            if on_step is not None:
                on_step()
