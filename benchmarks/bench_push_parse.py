"""Benchmark: parsing and validating pushed metric batches (goal ≥ 200,000 samples/s).

Run: ``.venv/bin/python benchmarks/bench_push_parse.py [--runs 50] [--json]``

Each scenario parses one 5,000-sample batch (5 services × 9 metrics, time-major, as an agent
pushing every series at each tick would send it) ``--runs`` times after one warm-up; the median
is reported as samples per second of wall time (the goal's measure) and of this process's CPU
time, which is steadier on a shared, busy machine. The headline figure is ``json_epoch``: JSON
already decoded to Python objects (what Flask's ``request.get_json()`` hands the route), with
Unix-seconds timestamps. The others show the cost of ISO 8601 timestamps, of decoding the JSON
body too (``json.loads`` included), and of the Prometheus text format.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.clock import from_epoch_s  # noqa: E402
from engine.services import DEFAULT_SERVICES, METRIC_IDS  # noqa: E402
from engine.sources.push import parse_json_samples, parse_prometheus_text  # noqa: E402

GOAL_SAMPLES_PER_S = 200_000
N_SAMPLES = 5_000
NOW_S = 1_781_359_200.0
SERVICES = [s.name for s in DEFAULT_SERVICES]


def _rows(iso: bool) -> list[dict]:
    pairs = [(s, m) for s in SERVICES for m in METRIC_IDS]
    rows = []
    for i in range(N_SAMPLES):
        service, metric = pairs[i % len(pairs)]
        ts = NOW_S - 280.0 + 5.0 * (i // len(pairs)) / 50
        rows.append({"service": service, "metric": metric,
                     "ts": from_epoch_s(ts).isoformat().replace("+00:00", "Z") if iso else ts,
                     "value": round(10.0 + (i * 7919) % 900 / 10.0, 3)})
    return rows


def _text(rows: list[dict]) -> str:
    lines = ["# TYPE cpu_pct gauge"]
    lines += [f'{r["metric"]}{{service="{r["service"]}"}} {r["value"]!r} {int(r["ts"] * 1000)}' for r in rows]
    return "\n".join(lines) + "\n"


def _median_rate(fn, runs: int) -> dict:
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    median, median_cpu = statistics.median(wall), statistics.median(cpu)
    return {"samples": N_SAMPLES, "runs": runs, "median_ms": round(median * 1000, 3),
            "samples_per_s": round(N_SAMPLES / median), "median_cpu_ms": round(median_cpu * 1000, 3),
            "samples_per_cpu_s": round(N_SAMPLES / max(median_cpu, 1e-9))}


def run(runs: int) -> list[dict]:
    """Return one result per scenario."""
    epoch, iso = _rows(iso=False), _rows(iso=True)
    body, text = json.dumps({"samples": epoch}).encode(), _text(epoch)
    kw = {"services": SERVICES, "now_s": NOW_S}
    scenarios = {
        "json_epoch": lambda: parse_json_samples(epoch, **kw),
        "json_iso": lambda: parse_json_samples(iso, **kw),
        "json_epoch_with_loads": lambda: parse_json_samples(json.loads(body), **kw),
        "prometheus_text": lambda: parse_prometheus_text(text, **kw),
    }
    results = []
    for name, fn in scenarios.items():
        assert len(fn()) == N_SAMPLES, name
        results.append({"scenario": name, **_median_rate(fn, runs)})
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per scenario (median reported)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    results = run(args.runs)
    headline = results[0]["samples_per_s"]
    if args.json:
        print(json.dumps({"goal_samples_per_s": GOAL_SAMPLES_PER_S, "headline_samples_per_s": headline,
                          "meets_goal": headline >= GOAL_SAMPLES_PER_S, "results": results}, indent=2))
        return 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"push parsing benchmark ({N_SAMPLES:,}-sample batches, median of {args.runs} runs; goal "
          f"{GOAL_SAMPLES_PER_S:,} samples/s for json_epoch; load average {load:.1f} on {os.cpu_count()} CPUs)")
    for r in results:
        print(f"  {r['scenario']:<22} wall {r['median_ms']:>7.2f} ms {r['samples_per_s']:>11,} samples/s   "
              f"cpu {r['median_cpu_ms']:>7.2f} ms {r['samples_per_cpu_s']:>11,} samples/s")
    print(f"headline (json_epoch): {headline:,} samples/s — {'ok' if headline >= GOAL_SAMPLES_PER_S else 'BELOW GOAL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
