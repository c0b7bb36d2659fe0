"""With WEDSCALE_REDIS_URL set, two engines (two workers) share the live data in Redis."""

from __future__ import annotations

import uuid

import pytest

from engine.bootstrap import build_engine
from tests.conftest import make_settings, port_open


@pytest.fixture
def redis_settings(tmp_path, db_url):
    if not port_open("127.0.0.1", 6379):
        pytest.skip("no Redis server listens on 127.0.0.1:6379")
    prefix = f"wedscale-test-{uuid.uuid4().hex}:"
    settings = make_settings(tmp_path, db_url, redis_url="redis://127.0.0.1:6379/0",
                             redis_prefix=prefix)
    yield settings
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)


def test_a_follower_reads_what_the_leader_collected(redis_settings, clock):
    leader = build_engine(redis_settings, clock=clock)
    follower = build_engine(redis_settings, clock=clock)
    assert type(leader.store).__name__ == "RedisMetricStore"
    for _ in range(3):
        clock.advance(seconds=5)
        leader.collect_metrics()
    written = leader.store.series("api", "cpu_pct", 0, resolution="raw")
    read = follower.store.series("api", "cpu_pct", 0, resolution="raw")
    assert len(written[0]) == 3
    assert list(read[0]) == list(written[0]) and list(read[1]) == list(written[1])
    assert follower.data_age_s() == leader.data_age_s()
