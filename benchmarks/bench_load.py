"""Benchmark: 100 concurrent clients against gunicorn (goal: p95 ≤ 200 ms).

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_load.py [--clients 100] [--seconds 15]``

Starts the production server (``gunicorn -c gunicorn.conf.py app.wsgi:server``, 3 workers ×
4 threads) on a free loopback port against a fresh SQLite database in a temporary folder
(the demo engine jobs running, one day of history backfilled), with the rate limits raised
through ``WEDSCALE_RATE_LIMITS``. Then, for each target in turn, ``--clients`` clients (4
processes of threads, one keep-alive connection each) send requests for ``--seconds``:

- ``healthz``: ``GET /healthz`` — the baseline (a full component check, no sign-in);
- ``api``: ``GET /api/scalability/metrics/realtime?services=api,database&since=<1 min ago>``
  with a bearer token — what a dashboard polls;
- ``dash``: ``POST /_dash-update-component`` with a signed-in session: the Live page's
  interval callback (``live-tick.n_intervals`` → ``live-graph.extendData``), the body built
  from the app's own callback map (``/_dash-dependencies``), as the browser sends it.

Two load shapes per target: *paced* (each client sends one request per ``--interval``
second, 100 req/s offered, the way browsers and dashboards poll) — the latency goal applies
to it — and *saturated* (no pause: each client sends its next request as soon as the answer
arrives), which measures the most the server serves. Prints p50/p95/p99 latency in ms, the
throughput, the error count and each target's p95 as a ratio of the baseline's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PROCESSES = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(url: str, var: Path) -> tuple[str, str]:
    """Migrate, create an admin and a token; return (password, token)."""
    from engine.bootstrap import build_engine
    from engine.security.audit import Actor
    from engine.security.permissions import Role
    from engine.settings import Settings
    from engine.storage.schema import upgrade

    upgrade(url)
    engine = build_engine(Settings(database_url=url, secret_key=SECRET, var_dir=var, run_scheduler=False))
    actor = Actor("bench", "system", "local")
    password = "bench-password-123"
    with engine.db.session() as session:
        user = engine.accounts.create_user(session, "bench", password, Role.SCALABILITY_ADMIN, actor)
        _, token = engine.tokens.create(session, user, [], None, actor)
    engine.db.dispose()
    return password, token


def _start(url: str, var: Path, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WEDSCALE_DATABASE_URL": url, "WEDSCALE_SECRET_KEY": SECRET,
           "WEDSCALE_VAR_DIR": str(var), "WEDSCALE_BACKFILL_DAYS": "1",
           "WEDSCALE_RATE_LIMITS": "monitoring=1000000/minute,health=1000000/minute",
           "WEDSCALE_SESSION_COOKIE_SECURE": "0"}  # plain http on loopback
    env.pop("WEDSCALE_REDIS_URL", None)
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
                             f"127.0.0.1:{port}", "--log-level", "warning", "app.wsgi:server"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.getheaders(), response.read()


def _sign_in(port: int, password: str) -> str:
    """Return the ``Cookie`` header of a signed-in session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, headers, body = _request(conn, "GET", "/login")
    cookie = "; ".join(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', body.decode()).group(1)
    form = f"username=bench&password={password}&csrf_token={csrf}&next=/"
    status, headers, _ = _request(conn, "POST", "/login", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    assert status == 302, f"sign-in failed: {status}"
    return "; ".join(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")


def _live_tick_body(port: int, cookie: str) -> str:
    """Build the Live page's interval-callback request from the app's callback map."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, _, body = _request(conn, "GET", "/_dash-dependencies", headers={"Cookie": cookie})
    assert status == 200, status
    # The interval pulses in the browser (clientside); the server callback runs on the pulse.
    dep = next(d for d in json.loads(body)
               if any(i["id"] == "live-pulse" for i in d["inputs"]) and "extendData" in d["output"])
    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1].split("@")[0]}
               for part in dep["output"].strip(".").split("...")]
    cursor = {"service": "api", "range": "15m", "ts": time.time() - 60, "ticks": 0}
    values = {"live-cursor": cursor, "live-service": "api", "live-range": "15m"}
    body = json.dumps({"output": dep["output"], "outputs": outputs,
                       "inputs": [{"id": "live-pulse", "property": "data", "value": 1}],
                       "changedPropIds": ["live-pulse.data"],
                       "state": [{"id": st["id"], "property": st["property"], "value": values[st["id"]]}
                                 for st in dep["state"]]})
    status, _, answer = _request(conn, "POST", "/_dash-update-component", body,
                                 {"Content-Type": "application/json", "Cookie": cookie})
    assert status == 200, f"the live tick request is refused ({status}): {answer[:200]!r}"
    return body


def _client_process(args) -> list[tuple[float, int]]:
    """Run ``threads`` clients until ``end``; return (latency s, status) of every request."""
    port, method, path, body, headers, threads, end, interval = args
    results: list[tuple[float, int]] = []
    lock = threading.Lock()

    def client(offset):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        next_at = time.monotonic() + offset
        while True:
            if interval:
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)  # pacing the offered load, not synchronisation
                next_at += interval
            if time.monotonic() >= end:
                break
            start = time.perf_counter()
            try:
                status, _, _ = _request(conn, method, path, body, headers)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            mine.append((time.perf_counter() - start, status))
        with lock:
            results.extend(mine)

    pool = [threading.Thread(target=client, args=((i / threads) * (interval or 0),)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def _run(port, method, path, body, headers, clients, seconds, interval) -> dict:
    end = time.monotonic() + seconds
    per = [clients // PROCESSES + (1 if i < clients % PROCESSES else 0) for i in range(PROCESSES)]
    with multiprocessing.get_context("fork").Pool(PROCESSES) as pool:
        started = time.monotonic()
        parts = pool.map(_client_process, [(port, method, path, body, headers, n, end, interval) for n in per])
        elapsed = time.monotonic() - started
    results = [r for part in parts for r in part]
    ok = sorted(lat for lat, status in results if 200 <= status < 300)
    errors = sum(1 for _, status in results if not 200 <= status < 300)

    def pct(q):
        return 1000 * ok[min(len(ok) - 1, int(q * len(ok)))] if ok else float("nan")

    return {"n": len(results), "errors": errors, "rps": len(ok) / elapsed, "p50": pct(0.50), "p95": pct(0.95),
            "p99": pct(0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--interval", type=float, default=1.0, help="paced: seconds between a client's requests")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wedscale-bench-load-"))
    url = f"sqlite:///{work / 'wedscale.db'}"
    port = _free_port()
    password, token = _prepare(url, work)
    log = open(work / "gunicorn.log", "w")
    proc = _start(url, work, port, log)
    try:
        deadline = time.monotonic() + 120
        while not _listening(port):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"gunicorn did not start; see {work / 'gunicorn.log'}")
            time.sleep(0.2)
        cookie = _sign_in(port, password)
        since = int(time.time()) - 60
        targets = {
            "healthz": ("GET", "/healthz", None, {}),
            "api": ("GET", f"/api/scalability/metrics/realtime?services=api,database&since={since}", None,
                    {"Authorization": f"Bearer {token}"}),
            "dash": ("POST", "/_dash-update-component", _live_tick_body(port, cookie),
                     {"Cookie": cookie, "Content-Type": "application/json"}),
        }
        for name, (method, path, body, headers) in targets.items():  # warm every worker's code paths
            _run(port, method, path, body, headers, 6, 1.0, 0)
        rows = []
        for shape, interval in (("paced", args.interval), ("saturated", 0.0)):
            for name, (method, path, body, headers) in targets.items():
                stats = _run(port, method, path, body, headers, args.clients, args.seconds, interval)
                rows.append({"target": name, "shape": shape, **stats})
        _report(rows, args)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _report(rows: list[dict], args) -> None:
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{args.clients} clients, {args.seconds:.0f} s per target, gunicorn 3 workers × 4 threads, SQLite")
    print(f"{'shape':10} {'target':8} {'requests':>9} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'p95/base':>8}")
    for shape in ("paced", "saturated"):
        base = next(r for r in rows if r["shape"] == shape and r["target"] == "healthz")["p95"]
        for r in (r for r in rows if r["shape"] == shape):
            print(f"{shape:10} {r['target']:8} {r['n']:9d} {r['errors']:6d} {r['rps']:7.0f} {r['p50']:8.1f} "
                  f"{r['p95']:8.1f} {r['p99']:8.1f} {r['p95'] / base:8.2f}")


if __name__ == "__main__":
    main()
