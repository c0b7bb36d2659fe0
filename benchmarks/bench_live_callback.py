"""Benchmark: server time and response size of the live page's tick (goals p95 ≤ 30 ms, ≤ 20 KB/tick).

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_live_callback.py [--ticks 300] [--redraws 10] [--json]``

The real app (``create_app``) on a temporary SQLite file, an engine on a ManualClock with the
five default services and the history a store holds after a week of live collection: 90 days
of simulated history at 5 min, the last 7 days at 1 min and the last 24 hours at 5 s (so the
7 d range has its full 10,080 minutes and the 6 h range its 4,320 raw points). A signed-in
viewer's Flask test client POSTs ``/_dash-update-component`` with the body the browser sends
for the tick callback (output key, inputs, state: the cursor the page holds). Between ticks
the clock moves 5 s and the engine collects one step (not timed), so every tick carries one
new point per metric, and the services take turns (one page per service).

Measured per request, wall and CPU time (``time.process_time``) around the test client call:
the whole Flask/Dash stack (session check, permission, callback, JSON). On a busy shared
machine wall time includes waiting for a core; CPU time is the server's own cost. Baselines in the same run:

- ``/healthz``: a small public JSON route through the same stack;
- the page's full redraw (a range or service change) at every range of the page: server time
  and response size (bytes as sent, and gzip-compressed for reference: the app itself does not
  compress), median of the runs, the services taking turns.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import zlib
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_P95_MS = 30.0
GOAL_BYTES = 20 * 1024
RANGE_KEYS = ("15m", "1h", "6h", "24h", "7d", "30d")


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]


def _build(tmp: Path):
    from app import create_app
    from engine.bootstrap import build_engine
    from engine.clock import ManualClock
    from engine.storage.schema import upgrade
    from engine.security.permissions import Role
    from tests.conftest import T0, create_user, make_settings, sign_in

    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    clock = ManualClock(T0)
    # The health route class is limited to 60/min by default; the baseline makes hundreds.
    settings = make_settings(tmp, url, rate_limits={"health": "1000000/minute"})
    engine = build_engine(settings, clock=clock)
    engine.size_simulated_cluster()
    now = clock.now()
    week, day = now - timedelta(days=7), now - timedelta(hours=24)
    engine.store.ingest(engine.source.backfill(now - timedelta(days=90), week, step_s=300))
    engine.store.ingest(engine.source.backfill(week, day, step_s=60))
    engine.store.ingest(engine.source.backfill(day, now, step_s=5))
    app = create_app(engine=engine)
    client = app.server.test_client()
    password = create_user(engine, "viewer", Role.SCALABILITY_VIEWER)
    assert sign_in(client, "viewer", password).status_code == 302
    return engine, clock, app, client


def _body(app, first_output: str, values: dict, changed: list[str]) -> dict:
    """The request body dash-renderer sends for the callback whose first output is given."""
    key = next(k for k in app.callback_map if k.strip(".").split("...")[0].split("@")[0] == first_output)
    callback = app.callback_map[key]
    outputs = [dict(zip(("id", "property"), o.split("@")[0].rsplit(".", 1))) for o in key.strip(".").split("...")]
    return {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in callback["inputs"]],
            "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in callback["state"]],
            "changedPropIds": changed}


def _post(client, body: dict) -> tuple[float, dict, int, float, int]:
    """Return (wall s, JSON answer, bytes, CPU s, gzip bytes) of one callback request."""
    cpu, start = time.process_time(), time.perf_counter()
    response = client.post("/_dash-update-component", json=body)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    data = response.get_data()
    return elapsed, response.get_json(), len(data), cpu, len(zlib.compress(data, 6))


def _draw(app, client, service: str, range_key: str):
    body = _body(app, "live-graph.figure", {"live-service.value": service, "live-range.value": range_key,
                                            "theme-store.data": "dark", "live-marks.data": None},
                 ["live-range.value"])
    return _post(client, body)


def run(ticks: int, redraws: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        engine, clock, app, client = _build(Path(tmp))
        services = engine.service_names()
        cursors = {s: _draw(app, client, s, "15m")[1]["response"]["live-cursor"]["data"] for s in services}
        tick_s, tick_cpu, tick_bytes, points = [], [], [], []
        for n in range(ticks):
            clock.advance(seconds=5)
            engine.collect_metrics()
            service = services[n % len(services)]
            cursor = cursors[service]
            body = _body(app, "live-graph.extendData",
                         {"live-pulse.data": n + 1, "live-cursor.data": cursor, "live-service.value": service,
                          "live-range.value": "15m"}, ["live-pulse.data"])
            elapsed, answer, size, cpu, _ = _post(client, body)
            cursors[service] = answer["response"]["live-cursor"]["data"]
            extend = answer["response"].get("live-graph", {}).get("extendData")
            points.append(sum(len(y) for y in extend[0]["y"]) if extend else 0)
            tick_s.append(elapsed)
            tick_cpu.append(cpu)
            tick_bytes.append(size)
        health_s, health_cpu = [], []
        for _ in range(ticks):
            cpu, start = time.process_time(), time.perf_counter()
            assert client.get("/healthz").status_code in (200, 503)
            health_s.append(time.perf_counter() - start)
            health_cpu.append(time.process_time() - cpu)
        redraw = {key: [_draw(app, client, services[i % len(services)], key) for i in range(redraws)]
                  for key in RANGE_KEYS}
    ms = lambda xs: [1000 * x for x in xs]  # noqa: E731
    result = {
        "ticks": ticks, "services": len(services),
        "tick_median_ms": statistics.median(ms(tick_s)), "tick_p95_ms": _p95(ms(tick_s)),
        "tick_cpu_median_ms": statistics.median(ms(tick_cpu)), "tick_cpu_p95_ms": _p95(ms(tick_cpu)),
        "tick_bytes_median": statistics.median(tick_bytes), "tick_bytes_max": max(tick_bytes),
        "tick_points_median": statistics.median(points),
        "healthz_median_ms": statistics.median(ms(health_s)), "healthz_p95_ms": _p95(ms(health_s)),
        "healthz_cpu_median_ms": statistics.median(ms(health_cpu)),
    }
    for key, runs in redraw.items():
        result[f"redraw_{key}_median_ms"] = statistics.median(ms([r[0] for r in runs]))
        result[f"redraw_{key}_cpu_median_ms"] = statistics.median(ms([r[3] for r in runs]))
        result[f"redraw_{key}_bytes"] = statistics.median([r[2] for r in runs])
        result[f"redraw_{key}_gzip_bytes"] = statistics.median([r[4] for r in runs])
        figure = runs[0][1]["response"]["live-graph"]["figure"]
        result[f"redraw_{key}_max_trace_points"] = max(len(t.get("y") or ()) for t in figure["data"])
    result["tick_vs_healthz"] = result["tick_median_ms"] / result["healthz_median_ms"]
    result["tick_vs_redraw_15m"] = result["tick_median_ms"] / result["redraw_15m_median_ms"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=300)
    parser.add_argument("--redraws", type=int, default=10, help="full redraws per range (median)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r = run(args.ticks, args.redraws)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"live tick, {r['services']} services, {r['ticks']} ticks (one new point per metric each):")
    print(f"  server time  median {r['tick_median_ms']:.2f} ms, p95 {r['tick_p95_ms']:.2f} ms wall "
          f"(goal ≤ {GOAL_P95_MS:.0f} ms: {'met' if r['tick_p95_ms'] <= GOAL_P95_MS else 'NOT met'}); "
          f"CPU median {r['tick_cpu_median_ms']:.2f} ms, p95 {r['tick_cpu_p95_ms']:.2f} ms")
    print(f"  response     median {r['tick_bytes_median']:.0f} B, max {r['tick_bytes_max']} B "
          f"(goal ≤ {GOAL_BYTES // 1024} KB: {'met' if r['tick_bytes_max'] <= GOAL_BYTES else 'NOT met'}), "
          f"{r['tick_points_median']:.0f} points")
    print(f"baseline /healthz      median {r['healthz_median_ms']:.2f} ms, p95 {r['healthz_p95_ms']:.2f} ms wall, "
          f"CPU median {r['healthz_cpu_median_ms']:.2f} ms; tick / healthz = {r['tick_vs_healthz']:.2f}")
    for key in RANGE_KEYS:
        print(f"redraw {key:>3}  median {r[f'redraw_{key}_median_ms']:6.1f} ms wall, "
              f"{r[f'redraw_{key}_cpu_median_ms']:6.1f} ms CPU, {r[f'redraw_{key}_bytes'] / 1024:6.0f} KB "
              f"({r[f'redraw_{key}_gzip_bytes'] / 1024:.0f} KB gzipped), "
              f"at most {r[f'redraw_{key}_max_trace_points']} points a trace")
    print(f"tick / redraw 15 min = {r['tick_vs_redraw_15m']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
