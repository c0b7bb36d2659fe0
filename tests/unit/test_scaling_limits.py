"""Table tests of the pure limit helpers: clamp, step limits, stabilisation."""

from __future__ import annotations

import pytest

from engine.scaling.limits import (clamp_instances, is_standard_step, limit_step, recent_peak,
                                   remember_recommendation, stabilise_scale_down, step_bounds)


@pytest.mark.parametrize("instances, lo, hi, expected", [
    (5, 2, 10, 5),
    (1, 2, 10, 2),
    (11, 2, 10, 10),
    (2, 2, 2, 2),
    (-3, 0, 4, 0),
])
def test_clamp_instances(instances, lo, hi, expected):
    assert clamp_instances(instances, lo, hi) == expected


def test_clamp_rejects_inverted_bounds():
    with pytest.raises(ValueError, match="exceeds"):
        clamp_instances(3, 5, 4)


@pytest.mark.parametrize("current, expected", [
    (10, (7, 15)),      # −30 % / +50 % exactly
    (5, (4, 7)),        # 3.5 rounds up (never below −30 %), 7.5 rounds down (never above +50 %)
    (2, (1, 3)),        # one instance is always allowed
    (1, (0, 2)),
    (0, (0, 1)),
    (100, (70, 150)),
    (3, (2, 4)),
])
def test_step_bounds(current, expected):
    assert step_bounds(current) == expected


@pytest.mark.parametrize("current, proposed, expected", [
    (10, 40, 15),       # capped at +50 %
    (10, 12, 12),
    (10, 1, 7),         # capped at −30 %
    (10, 8, 8),
    (10, 10, 10),
    (4, 100, 6),
    (2, 3, 3),
])
def test_limit_step(current, proposed, expected):
    assert limit_step(current, proposed) == expected


def test_limit_step_custom_fractions():
    assert limit_step(10, 40, up_frac=1.0, down_frac=0.5) == 20
    assert limit_step(10, 1, up_frac=1.0, down_frac=0.5) == 5


@pytest.mark.parametrize("current, proposed, lo, hi, standard", [
    (10, 15, 2, 40, True),
    (10, 16, 2, 40, False),   # +60 %: large
    (10, 7, 2, 40, True),
    (10, 6, 2, 40, False),    # −40 %: large
    (10, 45, 2, 40, False),   # over max
    (3, 1, 2, 40, False),     # under min
])
def test_is_standard_step(current, proposed, lo, hi, standard):
    assert is_standard_step(current, proposed, lo, hi) is standard


@pytest.mark.parametrize("recs, now_s, window_s, expected", [
    ((), 1000.0, 300.0, None),
    (((800.0, 9), (900.0, 4)), 1000.0, 300.0, 9),
    (((700.0, 9), (900.0, 4)), 1000.0, 300.0, 4),   # 700 is exactly 300 s old: out
    (((990.0, 3), (1000.0, 5)), 1000.0, 300.0, 5),
    (((1100.0, 50),), 1000.0, 300.0, None),          # from the future: ignored
])
def test_recent_peak(recs, now_s, window_s, expected):
    assert recent_peak(recs, now_s, window_s) == expected


@pytest.mark.parametrize("current, proposed, peak, expected, why", [
    (10, 12, 12, "up", "scale-ups are not stabilised"),
    (10, 6, 9, 9, "held at the window's peak"),
    (10, 6, 12, 10, "never above current by stabilisation"),
    (10, 6, None, 6, "no history"),
    (10, 6, 6, 6, "peak equals proposal"),
])
def test_stabilise_scale_down(current, proposed, peak, expected, why):
    got = stabilise_scale_down(current, proposed, peak)
    assert got == (proposed if expected == "up" else expected), why


def test_remember_recommendation_drops_expired_and_keeps_order():
    recs = ()
    for t, n in ((0.0, 5), (100.0, 7), (250.0, 3)):
        recs = remember_recommendation(recs, t, n, window_s=300.0)
    assert recs == ((0.0, 5), (100.0, 7), (250.0, 3))
    recs = remember_recommendation(recs, 320.0, 4, window_s=300.0)
    assert recs == ((100.0, 7), (250.0, 3), (320.0, 4))
    assert remember_recommendation(recs, 1000.0, 2, window_s=300.0) == ((1000.0, 2),)


def test_cooldown_follows_from_stabilisation():
    """After a scale-up to 20 at t=0, nothing goes below 20 until the 300 s have passed."""
    recs = remember_recommendation((), 0.0, 20)
    for t in (15.0, 150.0, 285.0):
        recs = remember_recommendation(recs, t, 5)
        assert stabilise_scale_down(20, 5, recent_peak(recs, t)) == 20
    recs = remember_recommendation(recs, 300.0, 5)
    assert stabilise_scale_down(20, 5, recent_peak(recs, 300.0)) == 5
