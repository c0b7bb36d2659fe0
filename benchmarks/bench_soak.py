"""Soak benchmark: the default app and engine under simulated load for 30 min of clock time.

The demo setup (simulator, simulated cluster, seeded calendar and users, 90 days of
backfilled history, SQLite) runs its leader jobs — collect every 5 s, alerts every 10 s,
autoscale every 15 s, threat detection every 30 s, write flush every 5 s — on a ManualClock
moved as fast as the machine allows, while an API token reads status, realtime metrics,
alerts and decisions through the Flask test client every step. Memory (RSS) is sampled after a 5-minute warm-up and at the end; every log
record at ERROR or above, failed job and 5xx answer is counted.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_soak.py [--minutes 30] [--warmup 5]

Goals: RSS growth after warm-up <= 5 %, no error. Exit status 1 when either is missed.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from engine.bootstrap import build_engine  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.jobs.runner import EngineRunner, default_jobs  # noqa: E402
from engine.security.audit import Actor  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.storage.schema import upgrade  # noqa: E402
from seeds.demo import seed_demo  # noqa: E402
from tests.fakes import HeldLock  # noqa: E402  (the soak runs one process: it always leads)

GOAL_GROWTH_PCT = 5.0
STEP_S = 5
START = datetime(2026, 6, 13, 12, 0, tzinfo=timezone.utc)  # a wedding Saturday
READS = ("/api/scalability/status?includeWeddingContext=true",
         "/api/scalability/metrics/realtime?services=api,database&includeWeddingContext=true",
         "/api/scalability/alerts", "/api/scalability/decisions")


class _ErrorCounter(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def build(tmp: Path):
    url = f"sqlite:///{tmp / 'soak.db'}"
    upgrade(url)
    settings = Settings(database_url=url, secret_key="soak-secret-key-0123456789abcdef-soak",
                        var_dir=tmp, run_scheduler=False, demo=True,
                        rate_limits={"monitoring": "1000000/minute"})
    clock = ManualClock(START)
    engine = build_engine(settings, clock=clock)
    seed_demo(engine, with_users=True)
    engine.size_simulated_cluster()
    engine.backfill_history(settings.backfill_days)
    app = create_app(engine=engine)
    with engine.db.session() as session:
        user = engine.accounts.get(session, "operator")
        _row, token = engine.tokens.create(session, user, [], None, Actor("bench", "system", "local"))
    return engine, clock, app, token


def soak(minutes: int, warmup: int) -> int:
    errors = _ErrorCounter()
    logging.getLogger().addHandler(errors)
    with tempfile.TemporaryDirectory() as tmp:
        engine, clock, app, token = build(Path(tmp))
        client = app.server.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        runner = EngineRunner(engine, HeldLock(), default_jobs(engine))
        steps, warm_steps = minutes * 60 // STEP_S, warmup * 60 // STEP_S
        read_ms: list[float] = []
        bad_answers = failed_jobs = 0
        rss_warm = None
        started = time.perf_counter()
        for step in range(1, steps + 1):
            clock.advance(seconds=STEP_S)
            for job in runner.jobs:
                if (step * STEP_S) % max(STEP_S, int(job.interval_s)) == 0 and not runner.run_job(job):
                    failed_jobs += 1
            for path in READS:
                t0 = time.perf_counter()
                answer = client.get(path, headers=headers)
                read_ms.append((time.perf_counter() - t0) * 1000)
                bad_answers += answer.status_code >= 500 or answer.status_code == 401
            if step == warm_steps:
                rss_warm = rss_bytes()
                warm_reads = len(read_ms)
        elapsed = time.perf_counter() - started
        rss_end = rss_bytes()
        with engine.db.session() as session:
            chain = engine.audit.verify(session)
        engine.db.dispose()
    logging.getLogger().removeHandler(errors)

    growth = (rss_end - rss_warm) / rss_warm * 100
    early = statistics.median(read_ms[:warm_reads])
    late = statistics.median(read_ms[-warm_reads:])
    n_errors = len(errors.records) + failed_jobs + bad_answers
    print(f"simulated {minutes} min ({steps} steps of {STEP_S} s) in {elapsed:.1f} s wall "
          f"({minutes * 60 / elapsed:.0f}x real time)")
    print(f"RSS after {warmup} min warm-up: {rss_warm / 2**20:.1f} MiB; at the end: {rss_end / 2**20:.1f} MiB; "
          f"growth {growth:+.2f} % (goal <= {GOAL_GROWTH_PCT:.0f} %)")
    print(f"API reads: {len(read_ms)}; median {early:.2f} ms in the warm-up, {late:.2f} ms at the end "
          f"(ratio {late / early:.2f})")
    print(f"errors: {len(errors.records)} log record(s) at ERROR, {failed_jobs} failed job run(s), "
          f"{bad_answers} 5xx/401 answer(s); audit chain {'intact' if chain.ok else 'BROKEN'} ({chain.rows} rows)")
    for record in errors.records[:5]:
        print(f"  {record}")
    ok = growth <= GOAL_GROWTH_PCT and n_errors == 0 and chain.ok
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    if not 1 <= args.warmup < args.minutes:  # growth is measured from the end of the warm-up
        parser.error("--warmup must be at least 1 and less than --minutes")
    return soak(args.minutes, args.warmup)


if __name__ == "__main__":
    sys.exit(main())
