"""Coarser buckets from finer ones: aligned edges, weighted means, the min of mins and max of maxes."""

import numpy as np
import pytest

from engine.metrics.buckets import coarsen

T = 1_781_359_200.0  # a whole hour, so a multiple of every step below


def test_buckets_start_on_multiples_of_the_step():
    ts = T + 60 * np.arange(3, 25)  # minutes 3 … 24
    b = coarsen(ts, np.ones(len(ts)), 600.0)
    assert list(b.ts) == [T, T + 600, T + 1200] and all(t % 600 == 0 for t in b.ts)


def test_min_of_mins_and_max_of_maxes_are_kept():
    ts = T + 60 * np.arange(10)
    mean = np.full(10, 50.0)
    low, high = mean - 5, mean + 5
    low[3], high[7] = 1.0, 99.0
    b = coarsen(ts, mean, 600.0, low=low, high=high)
    assert (b.low[0], b.mean[0], b.high[0]) == (1.0, 50.0, 99.0)


def test_a_spike_inside_a_bucket_stays_visible_in_the_band():
    ts = T + 5 * np.arange(720)  # an hour of raw 5 s points
    values = np.full(720, 20.0)
    values[437] = 95.0  # one 5 s spike
    b = coarsen(ts, values, 300.0)
    spiked = int((ts[437] - T) // 300)
    assert b.high[spiked] == 95.0 and b.mean[spiked] == pytest.approx(20 + 75 / 60)
    assert np.delete(b.high, spiked).max() == 20.0


def test_the_mean_is_weighted_by_count():
    b = coarsen(T + np.array([0.0, 60.0]), np.array([10.0, 40.0]), 600.0, count=np.array([3.0, 1.0]))
    assert b.mean[0] == pytest.approx(17.5)


def test_empty_buckets_are_absent_not_zero():
    ts = T + np.array([0.0, 60.0, 1260.0])  # nothing in the second 10 min bucket
    b = coarsen(ts, np.array([1.0, 3.0, 5.0]), 600.0)
    assert list(b.ts) == [T, T + 1200] and list(b.mean) == [2.0, 5.0]


@pytest.mark.parametrize("n_points, step_s", [(10_080, 600.0), (10_080, 300.0), (43_200, 3600.0)])
def test_point_count_is_bounded_by_the_span(n_points, step_s):
    ts = T + 60 * np.arange(n_points)
    b = coarsen(ts, np.random.default_rng(1).normal(50, 10, n_points), step_s)
    assert len(b.ts) == int(np.ceil(n_points * 60 / step_s))


def test_no_points_give_no_buckets():
    assert len(coarsen(np.empty(0), np.empty(0), 600.0).ts) == 0
