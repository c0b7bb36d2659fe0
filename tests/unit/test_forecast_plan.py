"""Capacity planning from forecasts, pure: instances, peaks, pre-scale timeline, cost, accuracy."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from engine.forecast.accuracy import Accuracy, is_reliable, pool, score_forecast
from engine.forecast.plan import (cost_by_day, find_peak_periods, hourly_cost, plan_prescale,
                                  recommend_instances, standard_steps)
from engine.forecast.requests import parse_prediction_request
from engine.errors import InvalidInput
from engine.services import ServiceSpec
from engine.weddings import Wedding

UTC = timezone.utc
DAY = datetime(2026, 6, 13, tzinfo=UTC)
HOURS = [DAY + timedelta(hours=i) for i in range(24)]
API = ServiceSpec("api", 2, 40, 100.0, 0.5, 120.0, 300.0, True)


def _wedding(hour: int = 14, wid: int = 1) -> Wedding:
    ceremony = DAY + timedelta(hours=hour)
    return Wedding(wid, "A & B", "Europe/London", ceremony, ceremony + timedelta(hours=1),
                   ceremony + timedelta(hours=5), 150)


@pytest.mark.parametrize("p50, p90, expected, why", [
    (140.0, 150.0, 2, "p50 at 70 % of 100 needs 2; p90 fits in 2"),
    (70.0, 250.0, 3, "the p90 needs 3 at 100 %"),
    (0.0, 0.0, 2, "never below the minimum"),
    (1e6, 1e6, 40, "never above the maximum"),
    (210.0, 210.0, 3, "exactly 3 instances' worth stays 3"),
])
def test_recommend_instances_table(p50, p90, expected, why):
    got = recommend_instances(np.array([p50]), np.array([p90]), 100.0, 2, 40)
    assert got.tolist() == [expected], why


def test_peak_periods_are_runs_near_the_maximum():
    p50 = np.array([10.0] * 24)
    p50[14:16] = [95, 100]
    p50[19] = 90
    peaks = find_peak_periods("api", HOURS, p50)
    assert [(p.start.hour, p.end.hour, p.peak_at.hour) for p in peaks] == [(14, 16, 15), (19, 20, 19)]


@pytest.mark.parametrize("current, target, steps", [(4, 4, 0), (4, 6, 1), (4, 9, 2), (1, 2, 1), (2, 40, 8)])
def test_standard_steps(current, target, steps):
    assert standard_steps(current, target) == steps


def test_prescale_orders_before_each_phase_by_the_provisioning_time():
    recommended = np.full(24, 4)
    recommended[12:14] = 6     # preparation (12:00-14:00)
    recommended[14:15] = 12    # ceremony
    recommended[15:19] = 9     # reception: less than the ceremony, no order
    steps = plan_prescale(API, HOURS, recommended, [_wedding()], provisioning_s=120.0, current=4)
    assert [(s.phase, s.from_instances, s.to_instances) for s in steps] == [("preparation", 4, 6),
                                                                          ("ceremony", 6, 12)]
    first = steps[0]
    assert first.order_at == DAY + timedelta(hours=12) - timedelta(seconds=120) - timedelta(minutes=15)
    assert first.ready_by == first.order_at + timedelta(seconds=120) < first.phase_start
    assert steps[1].standard_steps == 2


def test_prescale_merges_phases_that_start_together():
    recommended = np.full(24, 4)
    recommended[12:20] = 10
    steps = plan_prescale(API, HOURS, recommended, [_wedding(wid=1), _wedding(wid=2)], provisioning_s=60, current=4)
    assert len(steps) == 1 and steps[0].phase == "preparation"


def test_cost_and_wedding_day_budget():
    cost = hourly_cost({"api": np.full(24, 4)}, [API])
    assert cost.tolist() == [2.0] * 24
    quiet, busy = (cost_by_day(HOURS, cost, weddings, daily_budget=40.0) for weddings in ([], [_wedding()]))
    assert (quiet[0].cost, quiet[0].budget, quiet[0].within_budget) == (48.0, 40.0, False)
    assert (busy[0].budget, busy[0].wedding_day, busy[0].within_budget) == (100.0, True, True)
    assert busy[0].day == date(2026, 6, 13)


def test_accuracy_scores_mape_and_coverage():
    actual = np.array([100.0, 200.0, np.nan, 0.0])
    p50 = np.array([110.0, 150.0, 5.0, 1.0])
    p10, p90 = p50 * 0.8, p50 * 1.2
    result = score_forecast(actual, p10, p50, p90)
    assert result.n_points == 3                                  # the NaN hour is left out
    assert result.mape == pytest.approx((0.1 + 0.25) / 2)        # zero actuals are left out of MAPE
    assert result.coverage == pytest.approx(1 / 3)               # only 100 lies in [88, 132]
    assert score_forecast(np.array([np.nan]), p10[:1], p50[:1], p90[:1]) is None


@pytest.mark.parametrize("recent, reliable", [
    (None, True),
    (Accuracy(0.9, 0.1, 10), True),        # too few hours to judge
    (Accuracy(0.1, 0.8, 48), True),
    (Accuracy(0.45, 0.8, 48), False),      # MAPE too high
    (Accuracy(0.1, 0.4, 48), False),       # intervals too narrow
])
def test_reliability_table(recent, reliable):
    assert is_reliable(recent) is reliable


def test_pool_weights_by_hours():
    pooled = pool([Accuracy(0.1, 1.0, 10), Accuracy(0.4, 0.0, 30)])
    assert (pooled.mape, pooled.coverage, pooled.n_points) == (pytest.approx(0.325), 0.25, 40)


@pytest.mark.parametrize("body, field", [
    ({"timeHorizonHours": 0}, "timeHorizonHours"),
    ({"timeHorizonHours": 169}, "timeHorizonHours"),
    ({"timeHorizonHours": "24"}, "timeHorizonHours"),
    ({"timeHorizonHours": True}, "timeHorizonHours"),
    ({"includeWeddingContext": "yes"}, "includeWeddingContext"),
    ({"includeCostEstimates": 1}, "includeCostEstimates"),
    ({"weddingId": -3}, "weddingId"),
    ({"services": "api"}, "services"),
    ({"services": ["api", "mainframe"]}, "services"),
    ({"start": "next tuesday"}, "start"),
    ({"horizon": 24}, "horizon"),
])
def test_prediction_request_names_the_bad_field(body, field):
    with pytest.raises(InvalidInput) as raised:
        parse_prediction_request(body, ["api", "database"])
    assert raised.value.details["field"] == field


def test_prediction_request_defaults():
    request = parse_prediction_request({}, ["api"])
    assert (request.horizon_hours, request.include_weddings, request.include_costs,
            request.wedding_id, request.services, request.start) == (24, True, True, None, (), None)
    dated = parse_prediction_request({"start": "2026-06-13", "services": ["api"]}, ["api"])
    assert dated.start == DAY and dated.services == ("api",)
