"""Benchmark: HTTP metric push end to end (goal ≥ 100,000 samples/s in 5,000-sample batches, 0 lost).

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_push_http.py [--clients 4] [--batches 10] [--runs 3]``

The real app (``create_app`` on a temporary SQLite file, the simulator source, no scheduler)
is served by werkzeug's threaded WSGI server in a thread of this process on a free port. The
push rate limit is raised through a ``WEDSCALE_CONFIG`` file (``[rate_limits] push``), as a
deployment would. ``--clients`` client processes (started before the clock runs, each with
its batches already encoded) push ``--batches`` JSON batches of 5,000 samples each over
keep-alive connections with an operator's push-only bearer token; every request must answer
202 with all samples stored. The store counts the samples merged into each 5 s point, so
afterwards the counts of every series must add up to exactly what all runs sent: that is the
"0 lost" check.

Baseline, in the same run: the same batches through ``json.loads`` + ``parse_json_samples`` +
``store.ingest`` in-process, one after the other (what the route does without HTTP, auth and
rate limiting). Reported: medians over ``--runs`` of samples/s of wall time, and the ratio.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.services import DEFAULT_SERVICES, METRIC_IDS  # noqa: E402

GOAL_SAMPLES_PER_S = 100_000
BATCH = 5_000
SERVICES = [s.name for s in DEFAULT_SERVICES]
PAIRS = [(s, m) for s in SERVICES for m in METRIC_IDS]
STEPS_PER_BATCH = -(-BATCH // len(PAIRS))  # timestamps one batch spans (time-major)


def batch_body(first_ts: float) -> bytes:
    """Return one JSON batch: every series at consecutive 5 s steps from ``first_ts``."""
    rows = []
    for i in range(BATCH):
        service, metric = PAIRS[i % len(PAIRS)]
        rows.append({"service": service, "metric": metric, "ts": first_ts + 5.0 * (i // len(PAIRS)),
                     "value": round(10.0 + (i * 7919) % 900 / 10.0, 3)})
    return json.dumps({"samples": rows}).encode()


def first_ts_of(start_s: float, client: int, batch: int, n_batches: int) -> float:
    """Start of a batch's time span: every (client, batch) of a run gets its own timestamps.

    Runs repeat the same timestamps; the store merges them into the same 5 s points and adds
    up their counts, which the lost-sample check relies on.
    """
    return start_s + (client * n_batches + batch) * STEPS_PER_BATCH * 5.0


def _client(port: int, token: str, start_s: float, client: int, n_batches: int, barrier, results) -> None:
    bodies = [batch_body(first_ts_of(start_s, client, b, n_batches)) for b in range(n_batches)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    barrier.wait()
    outcomes = []
    for body in bodies:
        conn.request("POST", "/api/scalability/metrics", body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        stored = json.loads(payload).get("stored") if response.status == 202 else payload[:200].decode()
        outcomes.append((response.status, stored))
    conn.close()
    results.put((client, time.perf_counter(), outcomes))


def _serve(tmp: Path, push_limit: str):
    """Build the app from the environment + a config file raising the push limit; serve it."""
    import logging

    from werkzeug.serving import make_server

    from app import create_app
    from engine.bootstrap import build_engine
    from engine.security.audit import Actor
    from engine.security.permissions import Role
    from engine.settings import load_settings
    from engine.storage.schema import upgrade

    config = tmp / "wedscale.toml"
    config.write_text(f'[rate_limits]\npush = "{push_limit}"\n')
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    settings = load_settings(env={"WEDSCALE_DATABASE_URL": url, "WEDSCALE_VAR_DIR": str(tmp),
                                  "WEDSCALE_SECRET_KEY": "bench-secret-key-0123456789abcdef",
                                  "WEDSCALE_CONFIG": str(config)})
    settings = settings.with_(run_scheduler=False, backfill_days=0, password_hash_profile="fast")
    engine = build_engine(settings)
    actor = Actor("bench", "system", "local")
    with engine.db.session() as session:
        user = engine.accounts.create_user(session, "pusher", "pusher-password-1", Role.SCALABILITY_OPERATOR, actor)
        _, token = engine.tokens.create(session, user, ["metrics:push"], None, actor)
    app = create_app(engine=engine)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return engine, server, token


def _stored_count(engine) -> int:
    """Samples the store holds: the sum of the 5 s bucket counts of every series."""
    total = 0.0
    for service, metric in PAIRS:
        total += float(engine.store.rollup(service, metric, "raw", 0.0)["count"].sum())
    return int(round(total))


def run_http(engine, port: int, token: str, clients: int, n_batches: int, start_s: float) -> dict:
    """One timed run: ``clients`` processes push ``n_batches`` batches each; return the figures."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(clients + 1), ctx.Queue()
    procs = [ctx.Process(target=_client, args=(port, token, start_s, c, n_batches, barrier, results))
             for c in range(clients)]
    for p in procs:
        p.start()
    barrier.wait()
    started, started_cpu = time.perf_counter(), time.process_time()
    finished = [results.get(timeout=600) for _ in procs]
    cpu = time.process_time() - started_cpu  # this process = the server (clients are processes)
    wall = max(f[1] for f in finished) - started
    for p in procs:
        p.join()
    outcomes = [o for f in finished for o in f[2]]
    bad = [o for o in outcomes if o != (202, BATCH)]
    sent = clients * n_batches * BATCH
    return {"sent": sent, "wall_s": wall, "samples_per_s": sent / wall, "samples_per_cpu_s": sent / cpu,
            "bad_requests": bad}


def run_baseline(engine, clients: int, n_batches: int, start_s: float) -> tuple[float, float]:
    """Samples/s of parse + ingest in-process over the same batches: (per wall s, per CPU s)."""
    from engine.clock import to_epoch_s
    from engine.sources.push import parse_json_samples

    bodies = [batch_body(first_ts_of(start_s, c, b, n_batches)) for c in range(clients) for b in range(n_batches)]
    names, now_s = engine.service_names(), to_epoch_s(engine.clock.now())
    started, started_cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        engine.store.ingest(parse_json_samples(json.loads(body), services=names, now_s=now_s))
    n = len(bodies) * BATCH
    return n / (time.perf_counter() - started), n / (time.process_time() - started_cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument("--batches", type=int, default=10, help="5,000-sample batches per client per run")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    span_s = args.clients * args.batches * STEPS_PER_BATCH * 5.0
    if span_s > 22 * 3600:
        parser.error("too many samples for the store's 24 h of 5 s points; lower --clients/--batches/--runs")
    with tempfile.TemporaryDirectory(prefix="wedscale-bench-") as tmp:
        engine, server, token = _serve(Path(tmp), "10000000/minute")
        port = server.server_address[1]
        base_s = time.time() - 23 * 3600  # within the push window (7 days) and raw retention (24 h)
        http_runs, http_cpu_runs, baseline_runs, baseline_cpu_runs, sent_total = [], [], [], [], 0
        try:
            for run in range(args.runs):
                result = run_http(engine, port, token, args.clients, args.batches, base_s)
                if result["bad_requests"]:
                    raise SystemExit(f"requests failed: {result['bad_requests'][:3]}")
                sent_total += result["sent"]
                http_runs.append(result["samples_per_s"])
                http_cpu_runs.append(result["samples_per_cpu_s"])
            stored = _stored_count(engine)
            for run in range(args.runs):
                wall_rate, cpu_rate = run_baseline(engine, args.clients, args.batches, base_s)
                baseline_runs.append(wall_rate)
                baseline_cpu_runs.append(cpu_rate)
        finally:
            server.shutdown()
    lost = sent_total - stored
    http_rate, base_rate = statistics.median(http_runs), statistics.median(baseline_runs)
    http_cpu, base_cpu = statistics.median(http_cpu_runs), statistics.median(baseline_cpu_runs)
    report = {"goal_samples_per_s": GOAL_SAMPLES_PER_S, "clients": args.clients, "batch": BATCH,
              "batches_per_client": args.batches, "runs": args.runs, "http_samples_per_s": round(http_rate),
              "in_process_samples_per_s": round(base_rate), "ratio_http_to_in_process": round(http_rate / base_rate, 3),
              "http_samples_per_server_cpu_s": round(http_cpu), "in_process_samples_per_cpu_s": round(base_cpu),
              "sent": sent_total, "stored": stored, "lost": lost,
              "meets_goal": http_rate >= GOAL_SAMPLES_PER_S and lost == 0}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0 if lost == 0 else 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"HTTP push benchmark: {args.clients} clients × {args.batches} batches of {BATCH:,} samples, "
          f"median of {args.runs} runs (load average {load:.1f} on {os.cpu_count()} CPUs)")
    print(f"  {'':<62} {'wall':>11} {'server CPU':>13}")
    print(f"  {'HTTP (werkzeug threaded, token auth, rate limit, parse, ingest)':<62} "
          f"{http_rate:>11,.0f} {http_cpu:>13,.0f} samples/s")
    print(f"  {'in-process baseline (json.loads + parse + ingest)':<62} {base_rate:>11,.0f} {base_cpu:>13,.0f} samples/s")
    print(f"  ratio HTTP / in-process: wall {http_rate / base_rate:.2f}, CPU {http_cpu / base_cpu:.2f}")
    print(f"  sent {sent_total:,}, stored {stored:,}, lost {lost:,}")
    verdict = "ok" if report["meets_goal"] else "BELOW GOAL" if lost == 0 else "SAMPLES LOST"
    print(f"goal ≥ {GOAL_SAMPLES_PER_S:,} samples/s with 0 lost: {verdict}")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
