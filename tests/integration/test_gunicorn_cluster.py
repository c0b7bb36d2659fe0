"""Production shape: gunicorn with 3 workers on PostgreSQL + Redis, one leader, a killed leader.

Starts the Procfile's gunicorn (``gunicorn.conf.py``, ``app.wsgi:server``) on a free loopback
port against a fresh migrated database and a per-run Redis key prefix, with the demo engine
jobs on short intervals, and shows:

- exactly one worker holds the PostgreSQL advisory lock and says it leads;
- every worker answers the live API with the same data, and a browser session signed in once
  is honoured by every worker;
- SIGKILL of the leader: another worker holds the lock within 30 s and the jobs continue;
- the job ledger has at most one run per job and interval slot, and each job's runs come from
  the old leader, then the new one, never interleaved.

Bounded at 90 s; every wait polls an observable condition against a deadline.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from engine.jobs.leader import ADVISORY_LOCK_KEY
from engine.security.permissions import Role
from engine.storage.db import Database
from engine.storage.schema import upgrade
from tests.conftest import TEST_ACTOR, TEST_SECRET, csrf_of, port_open

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"
BUDGET_S = 90.0
TAKEOVER_S = 30.0
JOBS = ("collect_metrics", "evaluate_alerts", "autoscale", "check_health")
REALTIME = "/api/scalability/metrics/realtime"

pytestmark = pytest.mark.postgres


class Deadline:
    """The test's time budget; ``wait`` polls a condition until it holds or time is up."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def wait(self, predicate, what: str, limit_s: float | None = None):
        end = min(self.end, time.monotonic() + limit_s) if limit_s else self.end
        while time.monotonic() < end:
            value = predicate()
            if value:
                print(f"{BUDGET_S - self.left():6.1f} s  {what}")
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def redis_prefix():
    if not port_open("127.0.0.1", 6379):
        pytest.skip("no Redis server listens on 127.0.0.1:6379")
    import redis

    prefix = f"wedscale-test-{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin_and_token(pg_url: str, tmp_path) -> tuple[str, str]:
    """Create an admin user and an API token in the fresh database; return (password, token)."""
    from engine.bootstrap import build_engine
    from tests.conftest import create_user, make_settings

    engine = build_engine(make_settings(tmp_path, pg_url))
    try:
        password = create_user(engine, "admin", Role.SCALABILITY_ADMIN)
        with engine.db.session() as session:
            _, token = engine.tokens.create(session, engine.accounts.get(session, "admin"), [], None, TEST_ACTOR)
        return password, token
    finally:
        engine.db.dispose()


def _start_gunicorn(pg_url: str, prefix: str, port: int, tmp_path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WEDSCALE_DATABASE_URL": pg_url,
           "WEDSCALE_SECRET_KEY": TEST_SECRET, "WEDSCALE_REDIS_URL": REDIS_URL, "WEDSCALE_REDIS_PREFIX": prefix,
           "WEDSCALE_VAR_DIR": str(tmp_path / "var"), "WEDSCALE_BACKFILL_DAYS": "1",
           "WEDSCALE_COLLECT_INTERVAL_S": "1",
           "WEDSCALE_JOB_INTERVALS": "evaluate_alerts=2,autoscale=3,check_health=2",
           "WEDSCALE_RATE_LIMITS": "monitoring=100000/minute,health=100000/minute",
           "WEDSCALE_WORKER_HEADER": "1", "WEB_CONCURRENCY": "3",
           "WEDSCALE_SESSION_COOKIE_SECURE": "0"}  # plain http on loopback
    log = open(tmp_path / "gunicorn.log", "w")
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                             "--bind", f"127.0.0.1:{port}", "app.wsgi:server"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _lock_holders(db: Database) -> list[int]:
    """Worker pids holding the leader lock in this database (from the lock connection's name)."""
    with db.engine.connect() as conn:
        names = conn.execute(text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :key "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
            {"key": ADVISORY_LOCK_KEY & 0xFFFFFFFF}).scalars().all()
    return [int(n.rsplit("-", 1)[1]) for n in names]


def _runs(db: Database) -> list[tuple[str, int, int, datetime]]:
    """The job ledger: (job, slot, worker pid, started_at), oldest first."""
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT job, slot, worker, started_at FROM job_runs ORDER BY started_at, id")).all()
    # Raw SQL gives the stored naive UTC; tag it so it compares with the test's clock.
    return [(job, slot, int(worker.rsplit(":", 1)[1]), started.replace(tzinfo=timezone.utc))
            for job, slot, worker, started in rows]


def _get(base: str, path: str, **kwargs) -> requests.Response:
    # A new connection per request (no keep-alive), so the kernel spreads them over the workers.
    headers = {"Connection": "close", **kwargs.pop("headers", {})}
    return requests.get(base + path, headers=headers, timeout=10, **kwargs)


def _by_worker(base: str, path: str, want: set[int] | int, deadline: Deadline, **kwargs) -> dict[int, requests.Response]:
    """Request ``path`` until every wanted worker (or that many distinct ones) answered 200."""
    seen: dict[int, requests.Response] = {}

    def enough():
        response = _get(base, path, **kwargs)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        seen.setdefault(int(response.headers["X-Wedscale-Worker"]), response)
        return set(seen) >= want if isinstance(want, set) else len(seen) >= want

    deadline.wait(enough, f"{want} workers to answer {path}")
    return seen


def _points_until(body: dict, cutoff: float) -> dict:
    return {service: {metric: [p for p in s["points"] if p[0] <= cutoff]
                      for metric, s in entry["series"].items()}
            for service, entry in body["services"].items()}


def _assert_same_live_data(base: str, token: str, workers: set[int], deadline: Deadline) -> None:
    """Every worker returns the same points (up to a cutoff already stored) for one ``since``."""
    auth = {"Authorization": f"Bearer {token}"}
    first = _get(base, REALTIME, headers=auth).json()
    cutoff = max(p[0] for p in first["services"]["api"]["series"]["cpu_pct"]["points"])
    since = cutoff - 600
    answers = _by_worker(base, f"{REALTIME}?since={since}", workers, deadline, headers=auth)
    reference = None
    for pid, response in answers.items():
        points = _points_until(response.json(), cutoff)
        assert points["api"]["cpu_pct"], f"worker {pid} has no points"
        if reference is None:
            reference = points
        assert points == reference, f"worker {pid} serves other live data"


def _sign_in(base: str, password: str) -> requests.cookies.RequestsCookieJar:
    with requests.Session() as browser:
        page = browser.get(base + "/login", timeout=10)
        response = browser.post(base + "/login", data={"username": "admin", "password": password,
                                                        "csrf_token": csrf_of(page.text), "next": "/"},
                                allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:300]
        return browser.cookies


def test_three_workers_one_leader_takeover_and_shared_state(pg_url, redis_prefix, tmp_path):
    deadline = Deadline(BUDGET_S)
    upgrade(pg_url)
    password, token = _admin_and_token(pg_url, tmp_path)
    db = Database(pg_url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start_gunicorn(pg_url, redis_prefix, port, tmp_path)
    try:
        # 1. Exactly one leader: one lock holder, and it is the worker that ran the jobs.
        deadline.wait(lambda: port_open("127.0.0.1", port), "gunicorn to listen")
        holders = deadline.wait(lambda: _lock_holders(db), "a leader")
        assert len(holders) == 1, holders
        leader = holders[0]
        deadline.wait(lambda: {j for j, _, w, _ in _runs(db) if w == leader} >= set(JOBS),
                      "the leader to run every job")
        health = _by_worker(base, "/healthz", 3, deadline)
        workers = set(health)
        roles = {pid: r.json()["components"]["scheduler"]["role"] for pid, r in health.items()}
        assert [pid for pid, role in roles.items() if role == "leader"] == [leader], roles
        assert {w for _, _, w, _ in _runs(db)} == {leader}

        # 2. Every worker serves the same live data; a session signed in once works on every worker.
        _assert_same_live_data(base, token, workers, deadline)
        cookies = _sign_in(base, password)
        _by_worker(base, "/api/scalability/status", workers, deadline, cookies=cookies)

        # 3. Kill the leader: another worker takes the lock within 30 s and the jobs continue.
        killed_at = datetime.now(timezone.utc)
        killed = time.monotonic()
        os.kill(leader, signal.SIGKILL)
        new_holders = deadline.wait(lambda: [p for p in _lock_holders(db) if p != leader], "a new leader",
                                    limit_s=TAKEOVER_S)
        assert time.monotonic() - killed <= TAKEOVER_S
        assert len(new_holders) == 1 and leader not in _lock_holders(db)
        successor = new_holders[0]
        deadline.wait(lambda: {j for j, _, w, started in _runs(db) if w == successor and started > killed_at}
                      >= set(JOBS), "the jobs to continue under the new leader")

        # 4. No job ran twice in one interval; per job, runs move from one leader to the next once.
        runs = _runs(db)
        slots = [(job, slot) for job, slot, _, _ in runs]
        assert len(slots) == len(set(slots)), "a job ran twice in one interval slot"
        for job in JOBS:
            sequence = [w for j, _, w, _ in runs if j == job]
            changes = [(a, b) for a, b in zip(sequence, sequence[1:]) if a != b]
            assert changes == [(leader, successor)], (job, changes)
        assert all(started <= killed_at for _, _, w, started in runs if w == leader)

        # 5. The survivors and the worker gunicorn started in place of the killed one agree.
        survivors = _by_worker(base, "/healthz", 3, deadline)
        assert leader not in survivors
        _assert_same_live_data(base, token, set(survivors), deadline)
        _by_worker(base, "/api/scalability/status", set(survivors), deadline, cookies=cookies)
    finally:
        _stop(proc)
        db.dispose()
