"""Leader election and the real APScheduler: one leader, takeover, fenced jobs."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time

import pytest

from engine.clock import SystemClock
from engine.jobs.leader import FileLeaderLock, PostgresLeaderLock
from engine.jobs.runner import EngineRunner, JobSpec
from engine.storage.models import JobRun
from tests.conftest import port_open


def wait_until(predicate, timeout_s: float = 15.0) -> bool:
    """Poll ``predicate`` until true or the deadline (an observable condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_file_lock_has_one_holder(tmp_path):
    first, second = FileLeaderLock(tmp_path / "e.lock"), FileLeaderLock(tmp_path / "e.lock")
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def test_file_lock_is_freed_when_the_holder_process_dies(tmp_path):
    path = tmp_path / "e.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from engine.jobs.leader import FileLeaderLock; "
         f"l = FileLeaderLock({str(path)!r}); assert l.try_acquire(); print('held', flush=True); "
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        ours = FileLeaderLock(path)
        assert not ours.try_acquire()
        holder.kill()
        holder.wait(timeout=10)
        assert ours.try_acquire()
        ours.release()
    finally:
        holder.kill()


@pytest.fixture
def pg_dsn():
    if not port_open("127.0.0.1", 5432):
        pytest.skip("no PostgreSQL server listens on 127.0.0.1:5432")
    return "postgresql://postgres@127.0.0.1:5432/test"


def test_postgres_advisory_lock_has_one_holder(pg_dsn):
    key = random.randint(1, 2**30)  # own key per run: parallel runs never collide
    first, second = PostgresLeaderLock(pg_dsn, key), PostgresLeaderLock(pg_dsn, key)
    try:
        assert first.try_acquire() and first.holds()
        assert not second.try_acquire() and not second.holds()
        first.release()
        assert not first.holds()
        # The server frees the lock when it notices the closed session: a moment, not at once.
        assert wait_until(second.try_acquire, timeout_s=10) and second.holds()
    finally:
        first.release()
        second.release()


def test_runner_starts_jobs_only_as_leader_and_hands_over(engine, tmp_path):
    ran = {"a": threading.Event(), "b": threading.Event()}
    lock_path = tmp_path / "engine.lock"
    # The real APScheduler fires on wall time, so the slots are counted on wall time too.
    first = EngineRunner(engine, FileLeaderLock(lock_path), [JobSpec("tick", 0.2, ran["a"].set)],
                         clock=SystemClock())
    second = EngineRunner(engine, FileLeaderLock(lock_path), [JobSpec("tick", 0.2, ran["b"].set)],
                          clock=SystemClock())
    try:
        first.start()
        assert ran["a"].wait(timeout=15), "the leader never ran its job"
        second.start()
        assert first.is_leader and not second.is_leader
        first.stop()
        assert ran["b"].wait(timeout=15), "the follower did not take over"
        assert second.is_leader
    finally:
        first.stop()
        second.stop()

    def recorded() -> int:  # a run is recorded just after its job returns
        with engine.db.session() as session:
            return session.query(JobRun).filter_by(job="tick", ok=True).count()

    assert wait_until(lambda: recorded() >= 2)


def test_fenced_job_does_not_run_without_the_lock(engine, tmp_path):
    calls = []
    lock = FileLeaderLock(tmp_path / "engine.lock")
    runner = EngineRunner(engine, lock, [JobSpec("tick", 5, lambda: calls.append(1))])
    assert runner.run_job(runner.jobs[0]) is False and calls == []
    lock.try_acquire()
    assert runner.run_job(runner.jobs[0]) is True and calls == [1]
    lock.release()


def test_failing_job_is_recorded_and_reported(engine, tmp_path):
    lock = FileLeaderLock(tmp_path / "engine.lock")
    lock.try_acquire()

    def boom():
        raise RuntimeError("source down")

    runner = EngineRunner(engine, lock, [JobSpec("collect_metrics", 5, boom)])
    assert runner.run_job(runner.jobs[0]) is False
    assert "source down" in runner.last_errors["collect_metrics"]
    with engine.db.session() as session:
        run = session.query(JobRun).one()
    assert run.ok is False and "source down" in run.message
    lock.release()
