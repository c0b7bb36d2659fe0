#!/usr/bin/env python3
"""Time the load forecaster the way the product uses it.

    .venv/bin/python benchmarks/bench_forecast.py [--repeats 5] [--predict-repeats 200]

Prints the median wall time of

- a wedding-day forecast (24 hourly rows with p10/p90) from an already fitted model ("warm":
  what a page or the API pays per request), and
- a full fit of five services (90 days of hourly history each, with a wedding calendar):
  what the engine pays to refit every service's forecaster.

The series are synthetic (daily and weekly cycles, growth, noise, Saturday weddings) and
seeded, so runs are comparable; the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.forecast.model import LoadForecaster  # noqa: E402

SERVICES = ("api", "database", "file-storage", "real-time", "ai-services")
START = pd.Timestamp("2025-04-01")
DAYS = 90


def _calendar() -> pd.DataFrame:
    """Two to three weddings every Saturday from May on, at varying times and sizes."""
    rng = np.random.default_rng(7)
    rows = []
    for day in pd.date_range("2025-05-03", START + pd.Timedelta(days=DAYS + 7), freq="7D"):
        for _ in range(int(rng.integers(2, 4))):
            start = day + pd.Timedelta(minutes=int(rng.integers(44, 68)) * 15)
            guests = int(rng.integers(50, 260))
            rows.append({"start": start, "guest_count": guests, "expected_peak_rps": 20.0 * guests})
    return pd.DataFrame(rows)


def _series(scale: float, calendar: pd.DataFrame, seed: int) -> pd.Series:
    idx = pd.date_range(START, periods=24 * DAYS, freq="h")
    rng = np.random.default_rng(seed)
    hour, day = idx.hour.to_numpy(), np.arange(len(idx)) / 24.0
    cycle = 1.0 + 0.6 * np.sin(2 * np.pi * (hour - 9) / 24)
    weekly = np.where(idx.day_of_week.to_numpy() >= 5, 1.25, 1.0)
    load = scale * 60 * cycle * weekly * (1 + day / 200) * np.exp(rng.normal(0, 0.08, len(idx)))
    for start, peak in zip(calendar["start"], calendar["expected_peak_rps"]):
        hours = (idx - start) / pd.Timedelta(hours=1)
        load += np.where((hours >= -1) & (hours < 6), peak * scale / 500 * 60 * np.exp(-np.maximum(hours, 0) / 3), 0)
    return pd.Series(load, index=idx)


def _median_time(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5, help="repetitions of the 5-service fit")
    ap.add_argument("--predict-repeats", type=int, default=200, help="repetitions of the warm forecast")
    args = ap.parse_args(argv)
    calendar = _calendar()
    histories = {name: _series(100.0 * (i + 1), calendar, seed=i) for i, name in enumerate(SERVICES)}
    wedding_day = pd.Timestamp("2025-07-05")   # the first Saturday after the history ends
    # warm-up: imports, BLAS and the first fit are not what we measure
    model = LoadForecaster().fit(histories["api"], calendar)
    model.predict(wedding_day, 24)

    predict_s = _median_time(lambda: model.predict(wedding_day, 24), args.predict_repeats)
    fit_s = _median_time(lambda: [LoadForecaster().fit(h, calendar) for h in histories.values()],
                         args.repeats)
    print(f"wedding-day forecast (24 h, warm), median of {args.predict_repeats}: {predict_s * 1000:.2f} ms")
    print(f"full fit, {len(SERVICES)} series x {DAYS} days hourly, median of {args.repeats}: {fit_s:.2f} s "
          f"({fit_s / len(SERVICES):.2f} s per series)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
