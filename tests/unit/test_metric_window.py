"""Ranges pick resolutions; rollup windows hold complete buckets only; CSV export."""

import numpy as np
import pytest

from engine.metrics.memory_store import RingBufferStore
from engine.metrics.window import max_points, read_window, resolution_of, window_csv
from engine.sources.base import SampleBatch

T = 1_781_359_200.0  # a whole hour


@pytest.mark.parametrize("range_key, resolution", [("15m", "raw"), ("1h", "raw"), ("6h", "raw"),
                                                   ("24h", "1m"), ("7d", "1m"), ("30d", "1h")])
def test_ranges_choose_their_resolution(range_key, resolution):
    assert resolution_of(range_key) == resolution


def _store_with_minutes(n_points: int) -> RingBufferStore:
    store = RingBufferStore(["api"], ["cpu_pct"])
    ts = T + 5.0 * np.arange(n_points)
    store.ingest(SampleBatch(np.array(["api"] * n_points, dtype=object), np.array(["cpu_pct"] * n_points, dtype=object),
                             ts, np.arange(n_points, dtype=float)))
    return store


def test_rollup_window_has_complete_buckets_with_their_band():
    store = _store_with_minutes(30)  # 2.5 minutes of 5 s points: two closed minutes, one open
    now = T + 150
    window = read_window(store, "api", ["cpu_pct"], "1m", T - 3600, now)
    s = window.series["cpu_pct"]
    assert list(s.ts) == [T, T + 60]
    assert list(s.low) == [0.0, 12.0] and list(s.high) == [11.0, 23.0] and list(s.mean) == [5.5, 17.5]


def test_raw_window_reads_every_point_after_since():
    store = _store_with_minutes(4)
    window = read_window(store, "api", ["cpu_pct"], "raw", T + 5 + 1e-6, T + 20)
    assert list(window.series["cpu_pct"].ts) == [T + 10, T + 15] and window.series["cpu_pct"].low is None
    assert window.newest_ts == T + 15


def test_csv_has_one_row_per_point():
    store = _store_with_minutes(30)
    text = window_csv(read_window(store, "api", ["cpu_pct"], "1m", T - 3600, T + 150))
    lines = text.strip().split("\n")
    assert lines[0] == "timestamp_utc,service,metric,resolution,mean,min,max"
    assert lines[1] == "2026-06-13T14:00:00Z,api,cpu_pct,1m,5.5,0,11"
    assert len(lines) == 3


def test_max_points_cover_the_range():
    assert max_points("15m") >= 180 and max_points("7d") >= 7 * 1440
