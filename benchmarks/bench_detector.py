"""Throughput of the streaming anomaly detector: samples per second, median of several runs.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_detector.py [--samples 20000] [--runs 5] [--seed 0]

The series is synthetic and seeded: two weeks and more of 5-minute samples with daily and
weekly cycles, noise and occasional spikes, i.e. a live metric with everything switched on
(level, daily and weekly baselines). Only ``update`` calls are timed, one sample at a time,
as the live engine makes them. Wall-clock throughput depends on what else the machine runs;
samples per CPU second are printed too and are the steadier figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.detect.anomaly import StreamingAnomalyDetector  # noqa: E402

START_S = 1_396_310_400.0
STEP_S = 300.0


def make_series(n_samples: int, seed: int) -> tuple[list[float], list[float]]:
    """Return seeded timestamps (Unix seconds) and values of a busy service metric."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n_samples)
    times = START_S + STEP_S * steps
    daily = 30 * np.sin(2 * np.pi * steps / 288)
    weekly = 10 * np.sin(2 * np.pi * steps / 2016)
    values = 100 + daily + weekly + rng.normal(0, 4, n_samples)
    spikes = rng.random(n_samples) < 0.002
    values[spikes] += rng.normal(60, 10, spikes.sum())
    return times.tolist(), values.tolist()


def time_one_run(times: list[float], values: list[float]) -> tuple[float, float]:
    """Return (wall, CPU) seconds one fresh detector needs to ``update`` through the series."""
    detector = StreamingAnomalyDetector().fit()
    update = detector.update
    wall, cpu = time.perf_counter(), time.process_time()
    for t, v in zip(times, values):
        update(t, v)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    times, values = make_series(args.samples, args.seed)
    runs = [time_one_run(times, values) for _ in range(args.runs)]
    wall = [args.samples / w for w, _ in runs]
    cpu = [args.samples / c for _, c in runs]
    print(f"streaming detector: {statistics.median(wall):,.0f} samples/s wall clock "
          f"(median of {args.runs} runs of {args.samples:,} samples; "
          f"min {min(wall):,.0f}, max {max(wall):,.0f}); "
          f"{statistics.median(cpu):,.0f} samples per CPU second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
