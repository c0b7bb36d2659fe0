#!/usr/bin/env python3
"""Time the forecast service the way the product uses it, against a seasonal-naive baseline.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_forecast_service.py [--fits 3] [--repeats 30]

Builds a real engine (SQLite in a temporary folder, the demo wedding season, 90 days of
simulated metrics for the five default services) and prints the median wall time of

- a wedding-day forecast, warm (models loaded): every service's hourly p10/p50/p90, the
  recommended instances, peaks, pre-scale timeline and cost — what the Forecast page and
  ``POST /api/scalability/predictions`` pay (goal ≤ 50 ms);
- the season forecast: 12 weeks of days for every service (goal ≤ 500 ms);
- a full retrain: fit and store one model per service on 90 days of hourly history
  (goal ≤ 30 s).

The baseline, measured in the same run, is the cheapest forecast that still reads the store:
seasonal naive (the same hours a week earlier) with the same instance rule; for the retrain,
reading the 90 days of history it fits on. The ratio says what the real model costs on top.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.bootstrap import build_engine  # noqa: E402
from engine.clock import ManualClock, to_epoch_s  # noqa: E402
from engine.forecast.plan import recommend_instances  # noqa: E402
from engine.forecast.service import METRIC, hourly_history, wedding_day_range  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.storage.schema import upgrade  # noqa: E402
from seeds.demo import seed_demo  # noqa: E402

NOW = datetime(2026, 6, 13, 9, 0, tzinfo=timezone.utc)   # a Saturday morning in the season
HISTORY_DAYS = 90


CPU: dict[str, float] = {}


def _median(func, repeats: int, label: str = "") -> float:
    """Return the median wall time of ``func``; keep its median CPU time under ``label``.

    CPU time (this process) is the steadier figure on a shared, loaded machine.
    """
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        func()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    if label:
        CPU[label] = statistics.median(cpu)
    return statistics.median(times)


def _naive(engine, start: datetime, hours: int) -> dict:
    """Seasonal-naive forecast: each hour's value a week earlier, tiled; same instance rule."""
    out = {}
    week_ago = start - timedelta(days=7)
    for spec in engine.services:
        ts, values = engine.store.series(spec.name, METRIC, to_epoch_s(week_ago),
                                         to_epoch_s(week_ago) + 7 * 86400 - 1, resolution="1h")
        p50 = np.resize(values, hours) if len(values) else np.zeros(hours)
        out[spec.name] = recommend_instances(p50, 1.2 * p50, spec.capacity_rps, spec.min_instances,
                                             spec.max_instances)
    return out


def build(folder: Path):
    """Return an engine with the demo season and 90 days of history (not yet fitted)."""
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    settings = Settings(database_url=url, secret_key="bench-secret-key-0123456789abcdef", var_dir=folder,
                        run_scheduler=False, backfill_days=0, password_hash_profile="fast")
    engine = build_engine(settings, clock=ManualClock(NOW))
    seed_demo(engine, with_users=False)
    engine.store.ingest(engine.source.backfill(NOW - timedelta(days=HISTORY_DAYS), NOW, step_s=300))
    return engine


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fits", type=int, default=3, help="repetitions of the full retrain")
    ap.add_argument("--repeats", type=int, default=30, help="repetitions of the wedding-day forecast")
    ap.add_argument("--season-repeats", type=int, default=7, help="repetitions of the season forecast")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        engine = build(Path(tmp))
        service = engine.forecasts
        wedding = next(w for w in engine.calendar.all() if w.ceremony_start > NOW)
        start, hours = wedding_day_range(wedding)

        gather_s = _median(lambda: [hourly_history(engine.store, s.name, METRIC, NOW, HISTORY_DAYS)
                                    for s in engine.services], args.fits)
        fit_s = _median(service.retrain, args.fits, "fit")
        service.models()                                    # warm: models loaded, calendar cached
        service.wedding_outlook(wedding.id)
        day_s = _median(lambda: service.wedding_outlook(wedding.id), args.repeats, "day")
        day_base_s = _median(lambda: _naive(engine, start, hours), args.repeats)
        season_s = _median(service.season, args.season_repeats, "season")
        season_start = NOW.replace(hour=0) - timedelta(days=NOW.weekday())
        season_base_s = _median(lambda: _naive(engine, season_start, 24 * 7 * 12), args.season_repeats)
        engine.db.dispose()

    rows = [("wedding-day forecast, warm", day_s, CPU["day"], day_base_s, 0.050, args.repeats),
            ("season forecast, 12 weeks", season_s, CPU["season"], season_base_s, 0.500, args.season_repeats),
            (f"full retrain, {HISTORY_DAYS} days x {len(engine.services)} services", fit_s, CPU["fit"], gather_s,
             30.0, args.fits)]
    print(f"{'what':44} {'median':>10} {'cpu':>10} {'baseline':>10} {'ratio':>7} {'goal':>8}")
    for name, value, cpu, base, goal, n in rows:
        unit, scale = ("s", 1.0) if goal >= 1 else ("ms", 1000.0)
        print(f"{name + f' (n={n})':44} {value * scale:>8.1f}{unit:>2} {cpu * scale:>8.1f}{unit:>2} "
              f"{base * scale:>8.1f}{unit:>2} {value / base:>6.1f}x {'ok' if value <= goal else 'MISSED':>8}")
    print("baseline: seasonal naive from the store (forecasts), reading the history (retrain)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
