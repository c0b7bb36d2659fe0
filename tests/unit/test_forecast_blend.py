"""Load forecaster on short histories: the adaptive hour-of-day prior pools flat hours, and
the harmonic opinion (trend + smooth cycles) is blended in only where validation wants it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.forecast import profile as profile_module
from engine.forecast.harmonic import fit_harmonic, harmonic_design
from engine.forecast.model import LoadForecaster

START = pd.Timestamp("2025-04-01 00:00:00")


def _square_wave(days: int, seed: int) -> pd.Series:
    """Quiet nights at 240, busy days 09:00-18:00 at 950, 1.5 % iid multiplicative noise."""
    idx = pd.date_range(START, periods=24 * days, freq="h")
    hour = idx.hour.to_numpy()
    level = np.where((hour >= 9) & (hour < 18), 950.0, 240.0)
    return pd.Series(level * np.exp(np.random.default_rng(seed).normal(0, 0.015, len(idx))), index=idx)


def _mae_on_next_day(series: pd.Series, days: int) -> tuple[float, float]:
    """MAE of the forecaster and of the per-hour mean of past days, on day ``days + 1``."""
    history, truth = series.iloc[:24 * days], series.iloc[24 * days:24 * (days + 1)]
    forecast = LoadForecaster().fit(history).predict(truth.index[0], 24)["yhat"].to_numpy()
    hour_means = history.to_numpy().reshape(days, 24).mean(axis=0)
    return float(np.mean(np.abs(forecast - truth))), float(np.mean(np.abs(hour_means - truth)))


def test_flat_hours_are_pooled_so_the_forecast_beats_per_hour_means():
    ours, means = zip(*(_mae_on_next_day(_square_wave(11, seed), 10) for seed in range(4)))
    # 20 of the 24 hours sit on two plateaus: pooling them all but removes the estimation
    # error of a 10-day mean, which is about 5 % of the error (sqrt(1 + 1/10))
    assert np.mean(ours) < 0.975 * np.mean(means)


def test_without_the_adaptive_reweighting_flat_hours_are_not_pooled(monkeypatch):
    monkeypatch.setattr(profile_module, "ADAPT_ROUNDS", 0)
    ours, means = zip(*(_mae_on_next_day(_square_wave(11, seed), 10) for seed in range(4)))
    assert np.mean(ours) > 0.975 * np.mean(means)


def _sliding(days: int) -> pd.Series:
    """A daily cycle whose level falls 4 % a day, with 10 % noise."""
    idx = pd.date_range(START, periods=24 * days, freq="h")
    t = np.arange(len(idx)) / 24.0
    cycle = 1000 + 500 * np.sin(2 * np.pi * (idx.hour.to_numpy() - 8) / 24)
    noise = np.exp(np.random.default_rng(3).normal(0, 0.1, len(idx)))
    return pd.Series(cycle * np.exp(-0.04 * t) * noise, index=idx)


def test_short_history_with_a_sliding_level_takes_the_harmonic_opinion():
    series = _sliding(13)
    model = LoadForecaster().fit(series.iloc[:24 * 12])
    assert model.blend_weight_ > 0
    truth = series.iloc[24 * 12:]
    blended = model.predict(truth.index[0], 24)["yhat"].to_numpy()
    model.blend_weight_ = 0.0
    profile_only = model.predict(truth.index[0], 24)["yhat"].to_numpy()
    assert np.mean(np.abs(blended - truth)) < np.mean(np.abs(profile_only - truth))


def test_three_weeks_of_history_use_the_profile_alone():
    assert LoadForecaster().fit(_sliding(30)).blend_weight_ == 0.0


def test_harmonic_has_no_opinion_under_a_week():
    n = 24 * 6
    hours = np.arange(n)
    design = harmonic_design(hours, (hours // 24) % 7, hours % 24)
    fit = fit_harmonic(np.zeros(n), np.ones(n), design, robust_k=None)
    assert fit.coef is None
    assert np.isnan(fit.forecast(design[:3])).all()
