"""Ranges pick resolutions; rollup windows hold complete buckets only; coarser chart buckets
keep the band; CSV export."""

import numpy as np
import pytest

from engine.metrics.memory_store import RingBufferStore
from engine.metrics.window import (MAX_CHART_POINTS, RANGES_S, grid_limit, max_points, read_window, resolution_of,
                                   storage_resolution_of, window_csv)
from engine.sources.base import SampleBatch

T = 1_781_359_200.0  # a whole hour


@pytest.mark.parametrize("range_key, stored, drawn", [("15m", "raw", "raw"), ("1h", "raw", "raw"),
                                                      ("6h", "raw", "15s"), ("24h", "1m", "1m"),
                                                      ("7d", "1m", "10m"), ("30d", "1h", "1h")])
def test_ranges_choose_their_resolutions(range_key, stored, drawn):
    assert storage_resolution_of(range_key) == stored and resolution_of(range_key) == drawn


@pytest.mark.parametrize("range_key", list(RANGES_S))
def test_no_range_draws_more_points_than_a_screen_shows(range_key):
    assert max_points(range_key) - 12 <= MAX_CHART_POINTS
    assert max_points(range_key) <= grid_limit(range_key) <= 1.06 * max_points(range_key)


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
    assert max_points("15m") >= 180 and max_points("7d") >= 7 * 144


def _store_with_minute_rollups(minutes: int, step_s: float = 5.0) -> RingBufferStore:
    """A store with ``minutes`` of cpu samples at ``step_s``: value = minute of the hour, plus a spike."""
    store = RingBufferStore(["api"], ["cpu_pct"])
    ts = T + step_s * np.arange(int(minutes * 60 / step_s))
    values = np.floor((ts - T) / 60) % 60
    values[np.searchsorted(ts, T + 17 * 60 + 30)] = 500.0  # one spike in the second 10 min bucket
    n = len(ts)
    store.ingest(SampleBatch(np.array(["api"] * n, dtype=object), np.array(["cpu_pct"] * n, dtype=object), ts, values))
    return store


def test_ten_minute_buckets_are_aligned_complete_and_keep_the_spike():
    store = _store_with_minute_rollups(35)
    now = T + 35 * 60 + 20  # buckets at T, T+600, T+1200 are closed; T+1800 is still filling
    window = read_window(store, "api", ["cpu_pct"], "10m", T - 3 * 60, now)
    s = window.series["cpu_pct"]
    assert list(s.ts) == [T, T + 600, T + 1200] and window.step_s == 600
    assert list(s.low) == [0, 10, 20] and list(s.high) == [9, 500, 29]  # the spike reaches the band's top
    # Mean of every 5 s point, as a 10 min rollup would be: the spike adds (500 - 17) / 120.
    assert s.mean[0] == pytest.approx(4.5) and s.mean[1] == pytest.approx(14.5 + 483 / 120)


def test_a_window_starting_inside_a_bucket_begins_at_the_next_edge():
    store = _store_with_minute_rollups(35)
    window = read_window(store, "api", ["cpu_pct"], "10m", T + 60, T + 35 * 60)
    assert list(window.series["cpu_pct"].ts) == [T + 600, T + 1200]


def test_a_tick_after_the_last_bucket_gets_only_newly_closed_buckets():
    store = _store_with_minute_rollups(35)
    assert read_window(store, "api", ["cpu_pct"], "10m", T + 1200 + 1e-6, T + 35 * 60).n_points == 0
    assert list(read_window(store, "api", ["cpu_pct"], "10m", T + 1200 + 1e-6, T + 40 * 60).series["cpu_pct"].ts) \
        == [T + 1800]


def test_fifteen_second_buckets_of_raw_points_carry_a_band():
    store = _store_with_minutes(12)  # values 0, 1, 2, … at 5 s
    s = read_window(store, "api", ["cpu_pct"], "15s", T, T + 60).series["cpu_pct"]
    assert list(s.ts) == [T, T + 15, T + 30, T + 45]  # T + 60 has not closed
    assert list(s.low) == [0, 3, 6, 9] and list(s.high) == [2, 5, 8, 11] and list(s.mean) == [1, 4, 7, 10]


def test_seven_days_of_minutes_fit_a_screen():
    store = _store_with_minute_rollups(7 * 1440, step_s=60.0)
    now = T + 7 * 86_400
    window = read_window(store, "api", ["cpu_pct"], resolution_of("7d"), now - RANGES_S["7d"], now)
    s = window.series["cpu_pct"]
    assert len(s.ts) <= MAX_CHART_POINTS and len(s.ts) == 7 * 144  # the last bucket closed at `now`
    assert s.high.max() == 500 and s.low.min() == 0


def test_csv_exports_the_stored_resolution_in_full():
    store = _store_with_minute_rollups(35)
    window = read_window(store, "api", ["cpu_pct"], storage_resolution_of("7d"), T - 60, T + 35 * 60)
    lines = window_csv(window).strip().split("\n")
    assert len(lines) == 1 + 35 and all(",1m," in line for line in lines[1:])
