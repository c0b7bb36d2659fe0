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
    what they do not cover (the simulator is deterministic, so all processes agree); with
    Redis the store is shared, so only a new leader fills it — from the persisted rollups,
    then the backfill — and only when it is empty (several workers starting together would
    otherwise write the same history several times). Only the leader collects new samples
    and runs the jobs.
    """
    engine.state["started_at"] = engine.clock.now()
    engine.size_simulated_cluster()
    days = engine.settings.backfill_days if backfill else 0

    def _warm():
        log.info("backfilled %d samples of history", engine.warm_live_store(days))

    shared = bool(engine.settings.redis_url)
    if not shared:
        _warm()
    runner = EngineRunner(engine, leader_lock_for(engine.settings.database_url, engine.settings.var_dir),
                          default_jobs(engine), on_lead=_warm if shared else None)
    engine.state["runner"] = runner
    if engine.settings.run_scheduler:
        runner.start()
    return runner
