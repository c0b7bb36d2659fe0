"""Metric store: sample batches, the time ring, rollups against numpy, resolutions, late data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.metrics.memory_store import RingBufferStore
from engine.metrics.ring import TimeRing
from engine.metrics.store import pick_resolution
from engine.services import METRIC_IDS
from engine.sources.base import SampleBatch

T0 = 1_781_359_200.0  # 2026-06-13 14:00 UTC, a multiple of 1 h
SERVICES = ["api", "database"]


def batch(ts, values, service="api", metric="cpu_pct") -> SampleBatch:
    ts = np.asarray(ts, dtype=float)
    return SampleBatch([service] * len(ts), [metric] * len(ts), ts, np.asarray(values, dtype=float))


def store(**capacities) -> RingBufferStore:
    return RingBufferStore(SERVICES, list(METRIC_IDS), **capacities)


def reference(ts: np.ndarray, values: np.ndarray, width: float) -> dict[str, np.ndarray]:
    """Per-bucket statistics computed the slow, obvious way."""
    buckets = np.floor(ts / width)
    out = {k: [] for k in ("ts", "count", "min", "mean", "max", "p95")}
    for b in np.unique(buckets):
        v = values[buckets == b]
        out["ts"].append(b * width)
        out["count"].append(len(v))
        out["min"].append(v.min())
        out["mean"].append(v.mean())
        out["max"].append(v.max())
        out["p95"].append(np.percentile(v, 95))
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def assert_rollup(got: dict, expected: dict) -> None:
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=1e-9, err_msg=key)


# ---------------------------------------------------------------- SampleBatch
def test_sample_batch_from_rows_concat_and_len():
    a = SampleBatch.from_rows([("api", "cpu_pct", T0, 50), {"service": "api", "metric": "memory_pct",
                                                           "ts": T0 + 5, "value": 60.5}])
    b = SampleBatch(["database"], ["cpu_pct"], np.array([T0]), np.array([10.0]))
    both = SampleBatch.concat([a, SampleBatch.empty(), b])
    assert len(a) == 2 and len(both) == 3
    assert both.rows()[1] == ("api", "memory_pct", T0 + 5, 60.5)
    assert both.select(service="database").rows() == [("database", "cpu_pct", T0, 10.0)]
    assert both.ts.dtype == np.float64


def test_sample_batch_rejects_ragged_columns():
    with pytest.raises(ValueError):
        SampleBatch(["api"], ["cpu_pct", "memory_pct"], np.array([T0]), np.array([1.0]))


# ---------------------------------------------------------------- TimeRing
def test_ring_wraps_around_and_refuses_buckets_older_than_its_capacity():
    ring = TimeRing(n_series=2, capacity=10, step_s=5.0, fields=("mean",))
    series = np.zeros(25, dtype=np.int64)
    ring.write(series, np.arange(25), {"mean": np.arange(25.0)})
    buckets, values = ring.read(0, 0, 100)
    np.testing.assert_array_equal(buckets, np.arange(15, 25))
    np.testing.assert_array_equal(values["mean"], np.arange(15.0, 25.0))
    kept = ring.write(np.array([0, 0]), np.array([12, 20]), {"mean": np.array([-1.0, -2.0])})
    assert kept.tolist() == [False, True]          # bucket 12's slot belongs to bucket 22 now
    assert ring.read(0, 20, 20)[1]["mean"].tolist() == [-2.0]
    assert ring.read(1, 0, 100)[0].size == 0       # the other series is untouched


def test_ring_gaps_leave_no_stale_values():
    ring = TimeRing(n_series=1, capacity=10, step_s=60.0, fields=("mean",))
    ring.write(np.zeros(3, dtype=np.int64), np.array([1, 2, 3]), {"mean": np.array([1.0, 2.0, 3.0])})
    ring.write(np.zeros(1, dtype=np.int64), np.array([15]), {"mean": np.array([15.0])})
    buckets, values = ring.read(0, 0, 100)
    assert buckets.tolist() == [15] and values["mean"].tolist() == [15.0]
    ts, _ = ring.read_range(0, since=0.0)
    assert ts.tolist() == [900.0]


def test_store_raw_ring_keeps_the_newest_points_and_rollups_keep_the_rest():
    s = store(raw_capacity=100)
    ts = T0 + 5.0 * np.arange(250)
    assert s.ingest(batch(ts, np.arange(250.0))) == 250
    raw_ts, raw_v = s.series("api", "cpu_pct", 0, resolution="raw")
    np.testing.assert_array_equal(raw_ts, ts[-100:])
    np.testing.assert_array_equal(raw_v, np.arange(150.0, 250.0))
    minute = s.rollup("api", "cpu_pct", "1m", 0)
    assert minute["count"].sum() == 250 and minute["ts"][0] == T0


# ---------------------------------------------------------------- rollups
def test_rollups_match_numpy_for_shuffled_chunked_input():
    rng = np.random.default_rng(3)
    ts = T0 + 5.0 * np.arange(3 * 720)            # three hours of 5 s points
    values = rng.gamma(2.0, 20.0, len(ts))
    order = rng.permutation(len(ts))
    s = store()
    for chunk in np.array_split(order, 37):
        s.ingest(batch(ts[chunk], values[chunk]))
    assert_rollup(s.rollup("api", "cpu_pct", "1m", 0), reference(ts, values, 60.0))
    assert_rollup(s.rollup("api", "cpu_pct", "1h", 0), reference(ts, values, 3600.0))
    got_ts, got_v = s.series("api", "cpu_pct", 0, resolution="raw")
    np.testing.assert_array_equal(got_ts, ts)
    np.testing.assert_array_equal(got_v, values)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 400), min_size=1, max_size=200), st.integers(1, 8), st.randoms())
def test_rollups_do_not_depend_on_arrival_order_within_raw_retention(steps, n_chunks, random):
    ts = T0 + 5.0 * np.asarray(sorted(set(steps)), dtype=float)
    values = np.sin(ts / 7.0) * 100.0
    order = list(range(len(ts)))
    random.shuffle(order)
    s = store()
    for chunk in np.array_split(np.asarray(order, dtype=int), n_chunks):
        s.ingest(batch(ts[chunk], values[chunk]))
    assert_rollup(s.rollup("api", "cpu_pct", "1m", 0), reference(ts, values, 60.0))
    assert_rollup(s.rollup("api", "cpu_pct", "1h", 0), reference(ts, values, 3600.0))


def test_five_minute_history_lands_in_both_rollups_and_raw_only_for_the_last_day():
    ts = T0 - 40 * 86400 + 300.0 * np.arange(40 * 288)
    values = np.arange(len(ts), dtype=float) % 97
    s = store()
    s.ingest(batch(ts, values))
    hour = s.rollup("api", "cpu_pct", "1h", 0)
    assert len(hour["ts"]) == 40 * 24 and np.all(hour["count"] == 12)
    assert_rollup(hour, reference(ts, values, 3600.0))
    minute_ts, _ = s.series("api", "cpu_pct", 0, resolution="1m")
    assert len(minute_ts) == 30 * 288 and minute_ts[0] >= ts[-1] - 30 * 86400
    raw_ts, _ = s.series("api", "cpu_pct", 0, resolution="raw")
    assert len(raw_ts) == 288 and raw_ts[0] > ts[-1] - 86400
    thirty_days, _ = s.series("api", "cpu_pct", ts[-1] - 30 * 86400)
    assert len(thirty_days) == 30 * 24                            # auto → 1h, and it has data


# ---------------------------------------------------------------- late samples
def test_a_late_sample_inside_raw_retention_is_merged_exactly():
    s = store()
    ts = T0 + 5.0 * np.arange(24)
    s.ingest(batch(ts, np.full(24, 10.0)))
    s.ingest(batch([T0 + 5.0 * 3 + 1.0], [30.0]))                # late, into an existing 5 s point
    raw_ts, raw_v = s.series("api", "cpu_pct", T0, T0 + 20, resolution="raw")
    assert raw_v.tolist() == [10.0, 10.0, 10.0, 20.0, 10.0]       # mean of the two samples
    first_minute = s.rollup("api", "cpu_pct", "1m", T0, T0)
    assert first_minute["max"].tolist() == [20.0]
    assert first_minute["mean"][0] == pytest.approx((11 * 10.0 + 20.0) / 12)
    assert first_minute["count"].tolist() == [12.0]


def test_a_sample_older_than_raw_retention_merges_into_the_rollups():
    s = store(raw_capacity=12)                                     # one minute of raw points
    ts = T0 + 5.0 * np.arange(36)
    s.ingest(batch(ts, np.arange(36.0)))
    s.ingest(batch([T0 + 7.0], [100.0]))                           # minute 0 is out of raw now
    minute0 = s.rollup("api", "cpu_pct", "1m", T0, T0)
    assert minute0["count"].tolist() == [13.0]
    assert minute0["mean"][0] == pytest.approx((np.arange(12.0).sum() + 100.0) / 13)
    assert minute0["min"][0] == 0.0 and minute0["max"][0] == 100.0
    assert minute0["p95"][0] == 100.0                              # max of the two p95s: an upper bound
    assert s.series("api", "cpu_pct", T0, T0 + 10, resolution="raw")[0].size == 0


def test_samples_older_than_every_level_are_dropped():
    s = store(raw_capacity=12, minute_capacity=5, hour_capacity=2)
    s.ingest(batch([T0 + 3 * 3600.0], [1.0]))
    assert s.ingest(batch([T0 - 3600.0], [2.0])) == 0
    assert s.ingest(batch([T0 + 2 * 3600.0], [3.0])) == 1         # still fits the hour ring


# ---------------------------------------------------------------- reads
@pytest.mark.parametrize("span_s, expected", [
    (60, "raw"), (6 * 3600, "raw"), (6 * 3600 + 1, "1m"), (7 * 86400, "1m"), (7 * 86400 + 1, "1h"),
])
def test_pick_resolution(span_s, expected):
    assert pick_resolution(span_s) == expected


def test_auto_resolution_by_span_and_coverage():
    s = store()
    ts = T0 - 10 * 86400 + 300.0 * np.arange(10 * 288)
    s.ingest(batch(ts, np.ones(len(ts))))
    newest = ts[-1]
    assert s.resolution_for("api", "cpu_pct", newest - 3600) == "raw"
    assert s.resolution_for("api", "cpu_pct", newest - 2 * 86400) == "1m"
    assert s.resolution_for("api", "cpu_pct", newest - 9 * 86400) == "1h"
    # Five hours, but 30 h ago: raw no longer covers it, 1-minute buckets do.
    assert s.resolution_for("api", "cpu_pct", newest - 30 * 3600, newest - 25 * 3600) == "1m"
    ts_1m, _ = s.series("api", "cpu_pct", newest - 2 * 86400)
    assert np.all(np.diff(ts_1m) % 60 == 0)


def test_auto_measures_the_span_from_the_oldest_data():
    s = store()
    s.ingest(batch(T0 + 5.0 * np.arange(4), [1.0, 2.0, 3.0, 4.0]))
    ts, values = s.series("api", "cpu_pct", 0)                     # since the epoch: still raw
    assert ts.tolist() == [T0, T0 + 5, T0 + 10, T0 + 15] and values[-1] == 4.0


def test_series_until_bounds_and_unknown_names():
    s = store()
    s.ingest(batch(T0 + 5.0 * np.arange(10), np.arange(10.0)))
    ts, _ = s.series("api", "cpu_pct", T0 + 10, T0 + 20, resolution="raw")
    assert ts.tolist() == [T0 + 10, T0 + 15, T0 + 20]
    assert s.series("nope", "cpu_pct", 0)[0].size == 0
    assert s.series("api", "nope", 0)[0].size == 0
    with pytest.raises(ValueError):
        s.series("api", "cpu_pct", 0, resolution="5m")


def test_series_returns_copies():
    s = store()
    s.ingest(batch([T0], [1.0]))
    _, values = s.series("api", "cpu_pct", 0, resolution="raw")
    values[0] = 99.0
    assert s.series("api", "cpu_pct", 0, resolution="raw")[1].tolist() == [1.0]


def test_latest_and_last_ingest_ts():
    s = store()
    assert s.last_ingest_ts() is None and s.latest("api") == {}
    s.ingest(SampleBatch.from_rows([("api", "cpu_pct", T0, 40.0), ("api", "cpu_pct", T0 + 5, 41.0),
                                    ("api", "memory_pct", T0, 55.0), ("database", "cpu_pct", T0 + 9, 7.0)]))
    assert s.latest("api") == {"cpu_pct": (T0 + 5, 41.0), "memory_pct": (T0, 55.0)}
    assert s.latest("database") == {"cpu_pct": (T0 + 5, 7.0)}      # the start of its 5 s bucket
    assert s.last_ingest_ts() == T0 + 9
    s.ingest(batch([T0 - 60], [1.0]))                              # a late sample moves nothing
    assert s.last_ingest_ts() == T0 + 9 and s.latest("api")["cpu_pct"] == (T0 + 5, 41.0)
    assert s.latest("nope") == {}


def test_invalid_samples_are_dropped_and_not_counted():
    s = store()
    mixed = SampleBatch.from_rows([
        ("api", "cpu_pct", T0, 1.0),
        ("ghost", "cpu_pct", T0, 1.0),              # unknown service
        ("api", "made_up", T0, 1.0),                # unknown metric
        ("api", "cpu_pct", T0 + 5, float("nan")),   # not a number
        ("api", "cpu_pct", T0 * 1000, 1.0),         # milliseconds sent as seconds
    ])
    assert s.ingest(mixed) == 1
    assert s.last_ingest_ts() == T0


def test_interleaved_batches_group_by_series():
    s = store()
    n = 120
    ts = np.repeat(T0 + 5.0 * np.arange(n), 4)
    services = np.tile(np.array(["api", "api", "database", "database"], dtype=object), n)
    metrics = np.tile(np.array(["cpu_pct", "memory_pct"] * 2, dtype=object), n)
    values = np.arange(4 * n, dtype=float)
    assert s.ingest(SampleBatch(services, metrics, ts, values)) == 4 * n
    np.testing.assert_array_equal(s.series("database", "memory_pct", 0, resolution="raw")[1], values[3::4])
    # numpy unicode columns go through the same path
    s2 = store()
    s2.ingest(SampleBatch(services.astype(str), metrics.astype(str), ts, values))
    np.testing.assert_array_equal(s2.series("api", "memory_pct", 0, resolution="raw")[1], values[1::4])
