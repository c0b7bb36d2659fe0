"""Rollup persistence: a restarted engine shows the history its predecessor collected."""

from __future__ import annotations

import uuid
from datetime import timedelta

import numpy as np
import pytest
import redis

from engine.bootstrap import build_engine
from engine.clock import ManualClock, to_epoch_s
from engine.storage.models import MetricRollup
from engine.storage.schema import upgrade
from tests.conftest import make_settings, port_open

FIELDS = ("count", "mean", "min", "max", "p95")


def _collect(engine, clock, minutes: int) -> None:
    for _ in range(minutes * 12):
        clock.advance(seconds=5)
        engine.collect_metrics()


def _history(engine, service, metric, level, since, until):
    return engine.store.rollup(service, metric, level, since, until)


def _restart_keeps_history(url, tmp_path, clock, a_overrides=None, b_overrides=None):
    a = build_engine(make_settings(tmp_path, url, **(a_overrides or {})), clock=clock)
    assert type(a.store).__name__ == ("RedisMetricStore" if a_overrides else "RingBufferStore")
    a.size_simulated_cluster()
    assert a.restore_history() is None  # nothing archived yet
    a.backfill_history(3)
    _collect(a, clock, 10)
    written = a.flush_rollups()
    assert written > 0
    assert a.flush_rollups() == 0  # nothing new is complete: nothing written twice
    now_s = to_epoch_s(clock.now())
    completed_until = np.floor(now_s / 3600) * 3600 - 3600  # the last complete hour's start

    b = build_engine(make_settings(tmp_path, url, **(b_overrides or {})), clock=ManualClock(clock.now()))
    restored = b.restore_history()
    assert restored == completed_until + 3600
    for service in ("api", "database"):
        for metric in ("cpu_pct", "request_rate", "latency_p95_ms"):
            for level, since in (("1h", now_s - 3 * 86_400), ("1m", now_s - 86_400)):
                before = _history(a, service, metric, level, since, completed_until)
                after = _history(b, service, metric, level, since, completed_until)
                assert len(before["ts"]) > (60 if level == "1h" else 250)
                np.testing.assert_array_equal(before["ts"], after["ts"])
                for field in FIELDS:
                    np.testing.assert_allclose(after[field], before[field], rtol=1e-12)
    # B then backfills only what the archive does not cover and carries on collecting.
    b.backfill_history(3)
    joined = _history(b, "api", "cpu_pct", "1h", now_s - 3 * 86_400, None)
    assert np.all(np.diff(joined["ts"]) == 3600)  # no gap and no duplicate at the seam
    a.db.dispose()
    b.db.dispose()


def test_restart_keeps_rollup_history_sqlite(tmp_path, db_url, clock):
    _restart_keeps_history(db_url, tmp_path, clock)


def test_restart_keeps_rollup_history_postgresql(tmp_path, pg_url, clock):
    upgrade(pg_url)
    _restart_keeps_history(pg_url, tmp_path, clock)


def test_archive_warms_an_empty_redis_store(tmp_path, db_url, clock):
    # A's Redis store flushes to SQL; B's prefix is empty, as after a Redis flush: it is warmed.
    if not port_open("127.0.0.1", 6379):
        pytest.skip("nothing listens on 127.0.0.1:6379 (no Redis server)")
    prefixes = [f"wedscale-test-{uuid.uuid4().hex}:" for _ in range(2)]
    try:
        _restart_keeps_history(db_url, tmp_path, clock,
                               *({"redis_url": "redis://127.0.0.1:6379/0", "redis_prefix": p} for p in prefixes))
    finally:
        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        keys = [k for p in prefixes for k in client.scan_iter(match=p + "*")]
        if keys:
            client.delete(*keys)


def test_a_new_leader_warms_an_empty_shared_store_from_the_archive(tmp_path, db_url, clock):
    if not port_open("127.0.0.1", 6379):
        pytest.skip("nothing listens on 127.0.0.1:6379 (no Redis server)")
    prefixes = [f"wedscale-test-{uuid.uuid4().hex}:" for _ in range(2)]
    a, b = (build_engine(make_settings(tmp_path, db_url, redis_url="redis://127.0.0.1:6379/0", redis_prefix=p),
                         clock=ManualClock(clock.now())) for p in prefixes)
    try:
        a.size_simulated_cluster()
        assert a.warm_live_store(3) > 0          # nothing archived yet: backfill only
        assert a.flush_rollups() > 0
        before = _history(a, "api", "cpu_pct", "1h", to_epoch_s(clock.now()) - 3 * 86_400, None)
        b.size_simulated_cluster()
        assert b.warm_live_store(3) > 0          # B's prefix is empty, as after a Redis flush
        assert b.state["restored_until_s"] is not None   # the archive came first
        after = _history(b, "api", "cpu_pct", "1h", to_epoch_s(clock.now()) - 3 * 86_400, None)
        np.testing.assert_array_equal(after["ts"], before["ts"])
        np.testing.assert_allclose(after["max"], before["max"], rtol=1e-12)
        assert b.warm_live_store(3) == 0         # a filled shared store is left alone
    finally:
        a.db.dispose()
        b.db.dispose()
        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        keys = [k for p in prefixes for k in client.scan_iter(match=p + "*")]
        if keys:
            client.delete(*keys)


def test_old_rollups_are_pruned(tmp_path, db_url, clock):
    engine = build_engine(make_settings(tmp_path, db_url), clock=clock)
    with engine.db.session() as session:
        old = to_epoch_s(clock.now() - timedelta(days=40))
        session.add_all([MetricRollup(service="api", metric="cpu_pct", resolution=r, bucket_ts=int(old),
                                      count=1, mean=1, min=1, max=1, p95=1) for r in ("1m", "1h")])
    engine.flush_rollups()
    with engine.db.session() as session:
        assert [r.resolution for r in session.query(MetricRollup)] == ["1h"]  # minutes keep 30 days
