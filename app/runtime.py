"""Process start-up shared by ``wedscale serve``, gunicorn workers and ``wedscale engine``."""

from __future__ import annotations

import logging

from engine.bootstrap import Engine
from engine.jobs.leader import leader_lock_for
from engine.jobs.runner import EngineRunner, default_jobs

log = logging.getLogger(__name__)


def start_engine(engine: Engine, *, backfill: bool = True) -> EngineRunner:
    """Fill the live store with history, then start leader election and the engine jobs.

    Every process warms its own in-memory store from the persisted rollups, then backfills
    what they do not cover (the simulator is deterministic, so all processes agree); only
    the leader collects new samples and runs the jobs.
    """
    engine.state["started_at"] = engine.clock.now()
    engine.size_simulated_cluster()
    if engine.settings.config.rollups.enabled:
        engine.restore_history()
    if backfill:
        n = engine.backfill_history(engine.settings.backfill_days)
        log.info("backfilled %d samples of history", n)
    runner = EngineRunner(engine, leader_lock_for(engine.settings.database_url, engine.settings.var_dir),
                          default_jobs(engine))
    engine.state["runner"] = runner
    if engine.settings.run_scheduler:
        runner.start()
    return runner
