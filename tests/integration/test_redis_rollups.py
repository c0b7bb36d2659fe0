"""RedisMetricStore rollups (count, mean, min, max, p95) against RingBufferStore's, on the real Redis.

Every test and every hypothesis example writes under its own key prefix, deleted afterwards.
"""

from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager

import numpy as np
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.metrics.memory_store import ROLLUP_FIELDS, RingBufferStore
from engine.metrics.redis_store import RedisMetricStore
from engine.services import METRIC_IDS
from engine.sources.base import SampleBatch
from tests.conftest import port_open

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
T0 = 1_781_359_200.0  # 2026-06-13 14:00 UTC, a multiple of 1 h
SERVICES = ["api", "database"]
METRICS = list(METRIC_IDS)
FIELDS = ("ts",) + ROLLUP_FIELDS

pytestmark = pytest.mark.skipif(not port_open(REDIS_HOST, REDIS_PORT),
                                reason=f"nothing listens on {REDIS_HOST}:{REDIS_PORT} (no Redis server)")


@pytest.fixture
def client():
    r = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5)
    yield r
    r.close()


@contextmanager
def fresh_prefix(client):
    """A key prefix of its own, deleted on exit (hypothesis examples cannot share a fixture's)."""
    prefix = f"wedscale-test-{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def prefix(client):
    with fresh_prefix(client) as p:
        yield p


def redis_store(client, prefix, **capacities) -> RedisMetricStore:
    return RedisMetricStore(client, SERVICES, METRICS, prefix=prefix, **capacities)


def batch(ts, values, service="api", metric="cpu_pct") -> SampleBatch:
    ts = np.asarray(ts, dtype=float)
    return SampleBatch([service] * len(ts), [metric] * len(ts), ts, np.asarray(values, dtype=float))


def point_reference(ts: np.ndarray, values: np.ndarray, width: float) -> dict[str, np.ndarray]:
    """Rollups of in-order data the slow, obvious way: samples → 5 s point means → bucket statistics."""
    b5 = np.floor(ts / 5.0)
    points = np.unique(b5)
    means = np.array([values[b5 == b].mean() for b in points])
    buckets = np.floor(points * 5.0 / width)
    out = {k: [] for k in FIELDS}
    for b in np.unique(buckets):
        v = means[buckets == b]
        for key, x in zip(FIELDS, (b * width, len(v), v.mean(), v.min(), v.max(), np.percentile(v, 95))):
            out[key].append(x)
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def assert_same(got: dict, expected: dict, where: str = "") -> None:
    assert set(got) == set(FIELDS), where
    np.testing.assert_array_equal(got["ts"], expected["ts"], err_msg=f"{where} ts")
    for key in ROLLUP_FIELDS:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-9, atol=1e-9, err_msg=f"{where} {key}")


def assert_same_rollups(memory, shared, since=0.0, until=None, resolutions=("raw", "1m", "1h", "auto")):
    for resolution in resolutions:
        assert_same(shared.rollup("api", "cpu_pct", resolution, since, until),
                    memory.rollup("api", "cpu_pct", resolution, since, until), resolution)


def feed(stores, batches) -> None:
    for part in batches:
        kept = {store.ingest(part) for store in stores}
        assert len(kept) == 1, kept                      # every store keeps the same samples


def chunks(ts, values, order, n_chunks):
    return [batch(ts[c], values[c]) for c in np.array_split(np.asarray(order, dtype=int), n_chunks) if len(c)]


# ---------------------------------------------------------------- same answers as RingBufferStore
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2200), st.floats(0, 4.99), st.floats(-1e3, 1e3)), min_size=1, max_size=160),
       st.integers(1, 9), st.randoms())
def test_rollups_match_ring_buffer_store_for_late_duplicate_and_out_of_order_samples(client, samples, n_chunks,
                                                                                    random):
    # Three hours at most, inside the raw retention: several samples per 5 s point arrive in
    # different batches in any order, so stored points change after their buckets were rolled up.
    ts = np.array([T0 + 5.0 * step + frac for step, frac, _ in samples])
    values = np.array([v for _, _, v in samples])
    order = list(range(len(ts)))
    random.shuffle(order)
    with fresh_prefix(client) as prefix:
        memory, shared = RingBufferStore(SERVICES, METRICS), redis_store(client, prefix)
        feed((memory, shared), chunks(ts, values, order, n_chunks))
        assert_same_rollups(memory, shared)
        for width, level in ((60.0, "1m"), (3600.0, "1h")):      # and both equal in-order data
            assert_same(shared.rollup("api", "cpu_pct", level, 0), point_reference(ts, values, width), level)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sets(st.integers(0, 8 * 720), min_size=1, max_size=200), st.integers(1, 9), st.randoms())
def test_rollups_match_ring_buffer_store_with_small_rings_and_samples_older_than_raw(client, steps, n_chunks, random):
    # Two minutes of raw, 90 minutes of minutes, six hours: late samples land beyond raw (merged
    # into the rollups), beyond the minutes, or nowhere; rollup buckets straddle raw's oldest edge.
    # One sample per 5 s point: the stores differ only when a stored point changes (next test).
    ts = T0 + 5.0 * np.asarray(sorted(steps), dtype=float)
    values = np.cos(ts / 11.0) * 100.0 + (ts % 7)
    order = list(range(len(ts)))
    random.shuffle(order)
    capacities = {"raw_capacity": 24, "minute_capacity": 90, "hour_capacity": 6}
    with fresh_prefix(client) as prefix:
        memory, shared = RingBufferStore(SERVICES, METRICS, **capacities), redis_store(client, prefix, **capacities)
        feed((memory, shared), chunks(ts, values, order, n_chunks))
        assert_same_rollups(memory, shared)
        assert_same_rollups(memory, shared, since=ts[-1] - 3 * 3600, until=ts[-1] - 600)


def test_a_late_sample_that_lowers_the_max_point_lowers_the_bucket_max(client, prefix):
    memory, shared = RingBufferStore(SERVICES, METRICS), redis_store(client, prefix)
    ts = T0 + 5.0 * np.arange(24)
    values = np.full(24, 10.0)
    values[3] = 50.0
    feed((memory, shared), [batch(ts, values), batch([ts[3] + 1.0], [0.0])])   # point 3: (50 + 0) / 2
    minute0 = shared.rollup("api", "cpu_pct", "1m", T0, T0)
    assert minute0["max"].tolist() == [25.0] and minute0["min"].tolist() == [10.0]
    assert minute0["count"].tolist() == [12.0]
    assert minute0["p95"][0] == pytest.approx(np.percentile(np.r_[np.full(11, 10.0), 25.0], 95))
    assert_same_rollups(memory, shared)


def test_where_raw_no_longer_covers_a_bucket_a_changed_point_keeps_the_band_conservative(client, prefix):
    # Raw keeps 100 points (500 s): the hour is merged, not recomputed. A late sample lowers the
    # point that was the hour's max: mean and count stay exact, the band keeps the old max.
    shared = redis_store(client, prefix, raw_capacity=100)
    ts = T0 + 5.0 * np.arange(600)
    values = np.full(600, 10.0)
    values[590] = 90.0
    shared.ingest(batch(ts, values))
    shared.ingest(batch([ts[590] + 1.0], [-70.0]))                       # point 590: (90 − 70) / 2 = 10
    hour = shared.rollup("api", "cpu_pct", "1h", T0, T0)
    assert hour["count"].tolist() == [600.0]
    assert hour["mean"][0] == pytest.approx(10.0)                          # exact
    assert hour["min"][0] == 10.0 and hour["max"][0] == 90.0               # never narrower than the data
    assert 10.0 <= hour["p95"][0] <= 90.0
    minute = shared.rollup("api", "cpu_pct", "1m", ts[588], ts[588])      # raw covers this minute: exact
    assert minute["max"].tolist() == [10.0]


def test_raw_rollups_are_the_points_themselves(client, prefix):
    memory, shared = RingBufferStore(SERVICES, METRICS), redis_store(client, prefix)
    feed((memory, shared), [batch([T0, T0 + 1, T0 + 6], [1.0, 3.0, 7.0])])
    raw = shared.rollup("api", "cpu_pct", "raw", 0)
    assert raw["count"].tolist() == [2.0, 1.0] and raw["max"].tolist() == [2.0, 7.0]
    assert_same_rollups(memory, shared)
    assert all(shared.rollup(s, m, "1m", 0)["ts"].size == 0 for s, m in (("ghost", "cpu_pct"), ("api", "x")))
    with pytest.raises(ValueError):
        shared.rollup("api", "cpu_pct", "5m", 0)


# ---------------------------------------------------------------- restore
def test_restore_rollups_then_rollup_round_trips(client, prefix):
    rng = np.random.default_rng(5)
    ts = T0 - 2 * 86400 + 300.0 * np.arange(2 * 288) + rng.uniform(0, 299, 2 * 288)
    values = rng.gamma(2.0, 20.0, len(ts))
    source = redis_store(client, prefix, minute_capacity=1440)
    source.ingest(batch(ts, values))
    with fresh_prefix(client) as other:
        restored, memory = redis_store(client, other, minute_capacity=1440), RingBufferStore(
            SERVICES, METRICS, minute_capacity=1440)
        for level in ("1m", "1h"):
            out = source.rollup("api", "cpu_pct", level, 0)
            fields = {f: out[f] for f in ROLLUP_FIELDS}
            assert restored.restore_rollups("api", "cpu_pct", level, out["ts"], fields) == len(out["ts"])
            memory.restore_rollups("api", "cpu_pct", level, out["ts"], fields)
            assert_same(restored.rollup("api", "cpu_pct", level, 0), out, level)
            assert_same(restored.rollup("api", "cpu_pct", level, 0), memory.rollup("api", "cpu_pct", level, 0), level)
        # Restored history is not live data: no raw point, no ingest time, as RingBufferStore.
        assert restored.last_ingest_ts() is None and restored.latest("api") == {}
        assert restored.rollup("api", "cpu_pct", "raw", 0)["ts"].size == 0
        assert len(out["ts"]) == 48                                              # two days of hours
        # Live samples after the restore carry on from the restored buckets.
        later = batch(ts[-1] + 3600 + 5.0 * np.arange(24), np.arange(24.0))
        feed((restored, memory), [later])
        assert_same_rollups(memory, restored, resolutions=("1m", "1h"))


def test_restore_refuses_buckets_past_retention_and_keeps_the_last_of_duplicates(client, prefix):
    shared = redis_store(client, prefix, hour_capacity=4)
    memory = RingBufferStore(SERVICES, METRICS, hour_capacity=4)
    hours = T0 + 3600.0 * np.array([0, 1, 2, 3, 4, 5])
    fields = {f: np.arange(6.0) + 1 for f in ROLLUP_FIELDS}
    assert shared.restore_rollups("api", "cpu_pct", "1h", hours, fields) == 4          # the newest four
    assert memory.restore_rollups("api", "cpu_pct", "1h", hours, fields) == 4
    assert_same(shared.rollup("api", "cpu_pct", "1h", 0), memory.rollup("api", "cpu_pct", "1h", 0))
    twice = {f: np.array([7.0, 8.0]) for f in ROLLUP_FIELDS}
    assert shared.restore_rollups("api", "cpu_pct", "1h", np.array([hours[5], hours[5]]), twice) == 1
    assert shared.rollup("api", "cpu_pct", "1h", hours[5])["max"].tolist() == [8.0]
    assert shared.restore_rollups("ghost", "cpu_pct", "1h", hours, fields) == 0
    with pytest.raises(ValueError, match="1m"):
        shared.restore_rollups("api", "cpu_pct", "raw", hours, fields)


# ---------------------------------------------------------------- several writers
def test_concurrent_writers_converge_to_the_ring_buffer_store_rollups(client, prefix):
    # Three leaders for a moment, each with its own late, duplicated, shuffled batches over two
    # hours: retried transactions must leave exactly what one store fed every batch holds.
    rng = np.random.default_rng(17)
    work = []
    for _ in range(3):
        ts = T0 + rng.uniform(0, 7200, 400)
        work.append([batch(ts[c], rng.normal(50, 20, len(c))) for c in np.array_split(rng.permutation(400), 8)])
    errors = []

    def write(batches):
        store = RedisMetricStore(redis.Redis(host=REDIS_HOST, port=REDIS_PORT), SERVICES, METRICS, prefix=prefix)
        try:
            for part in batches:
                store.ingest(part)
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(b,)) for b in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    memory = RingBufferStore(SERVICES, METRICS)
    for part in (p for batches in work for p in batches):
        memory.ingest(part)
    assert_same_rollups(memory, redis_store(client, prefix), resolutions=("raw", "1m", "1h"))


# ---------------------------------------------------------------- layout
def test_rollup_records_are_forty_bytes_with_the_band(client, prefix):
    shared = redis_store(client, prefix, minute_capacity=100)
    shared.ingest(batch([T0, T0 + 5, T0 + 10], [4.0, 8.0, 6.0]))
    minute = int(T0 // 60)
    slot = minute % 100
    record = client.getrange(f"{prefix}1m:api:cpu_pct", slot * 40, slot * 40 + 39)
    assert np.frombuffer(record, dtype="<f8").tolist() == [T0, 6.0, 4.0, 8.0, np.percentile([4, 6, 8], 95)]
    assert np.frombuffer(client.getrange(f"{prefix}1m:api:cpu_pct:n", slot * 8, slot * 8 + 7), "<f8")[0] == 3.0


def test_keys_of_the_earlier_layout_without_bands_are_refused_with_a_way_out(client, prefix):
    client.set(f"{prefix}layout", "raw=5s*17280 1m=60s*43200 1h=3600s*8760")    # what the earlier version wrote
    shared = redis_store(client, prefix)
    for call in (lambda: shared.ingest(batch([T0], [1.0])), lambda: shared.rollup("api", "cpu_pct", "1m", 0),
                 lambda: shared.series("api", "cpu_pct", 0)):
        with pytest.raises(ValueError, match="no min/max/p95.*Delete the keys"):
            call()
    assert client.get(f"{prefix}raw:api:cpu_pct:h") is None                    # nothing was written
