"""Load forecaster and rolling-origin backtest: estimator manners, accuracy on known
patterns, wedding effects, intervals, no look-ahead, and input validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.forecast import backtest as backtest_module
from engine.forecast.backtest import backtest_origins, read_hourly_series, run_backtest
from engine.forecast.calendar_io import normalize_calendar, read_calendar_csv
from engine.forecast.features import calendar_features, lag_features, wedding_exposure
from engine.forecast.model import LoadForecaster
from engine.forecast.shrinkage import PenaltyGroup, fit_group_ridge

START = pd.Timestamp("2025-04-01 00:00:00")  # a Tuesday


def _daily_series(days: int, *, noise: float = 0.03, seed: int = 0) -> pd.Series:
    """Hourly load with a daily cycle, busier weekends and multiplicative noise."""
    idx = pd.date_range(START, periods=24 * days, freq="h")
    rng = np.random.default_rng(seed)
    cycle = 1000 + 600 * np.sin(2 * np.pi * (idx.hour.to_numpy() - 8) / 24)
    weekend = np.where(idx.day_of_week.to_numpy() >= 5, 1.3, 1.0)
    return pd.Series(cycle * weekend * np.exp(rng.normal(0, noise, len(idx))), index=idx)


def _calendar(dates: list[str], start_time: str = "14:00", peak: float = 3000.0) -> pd.DataFrame:
    return pd.DataFrame({"date": dates, "start_time": start_time, "guest_count": 150,
                         "expected_peak_rps": peak})


def _with_weddings(series: pd.Series, calendar: pd.DataFrame) -> pd.Series:
    """Add a wedding-shaped excess (ramp, ceremony spike, reception plateau) per wedding."""
    cal = normalize_calendar(calendar)
    minutes = pd.date_range(series.index[0], series.index[-1] + pd.Timedelta(minutes=59), freq="min")
    excess = np.zeros(len(minutes))
    for start, peak in zip(cal["start"], cal["expected_peak_rps"]):
        tau = (minutes - start) / pd.Timedelta(minutes=1)
        shape = np.select([(tau >= -90) & (tau < 0), (tau >= 0) & (tau < 45), (tau >= 45) & (tau < 360)],
                          [0.15, 1.0, 0.4], 0.0)
        excess += peak * shape
    hourly = pd.Series(excess, index=minutes).resample("h").sum()
    return series + hourly.reindex(series.index).to_numpy()


# -- estimator manners ------------------------------------------------------------------------

def test_init_stores_parameters_and_learns_nothing():
    model = LoadForecaster(half_life_days=7.0, calibration_days=5)
    assert model.half_life_days == 7.0 and model.calibration_days == 5
    assert [name for name in vars(model) if name.endswith("_")] == []
    with pytest.raises(ValueError, match="not fitted"):
        model.predict(START, 24)


def test_fit_returns_self_and_sets_learned_state():
    model = LoadForecaster()
    assert model.fit(_daily_series(10)) is model
    assert {"profile_", "kernel_", "offset_", "calibration_"} <= set(vars(model))


def test_same_data_same_output():
    # the forecaster has no randomness at all: two fits give byte-identical forecasts
    history, calendar = _daily_series(15), _calendar(["2025-04-12"])
    first = LoadForecaster().fit(history, calendar).predict("2025-04-16", 48)
    second = LoadForecaster().fit(history.copy(), calendar.copy()).predict("2025-04-16", 48)
    pd.testing.assert_frame_equal(first, second, check_exact=True)


# -- what it forecasts ------------------------------------------------------------------------

def test_learns_daily_cycle_and_weekend():
    series = _daily_series(29, noise=0.02)
    history, future = series[:-48], series[-48:]          # forecast a Sunday and a Monday
    forecast = LoadForecaster().fit(history).predict(future.index[0], 48)
    rel_err = np.abs(forecast["yhat"] - future) / future
    assert forecast.index.equals(future.index)
    assert rel_err.mean() < 0.04


def test_wedding_calendar_lifts_the_wedding_day():
    # weddings on varying days, times and sizes: only the calendar can tell when the next is
    calendar = pd.DataFrame({"date": ["2025-04-05", "2025-04-11", "2025-04-19", "2025-04-24"],
                             "start_time": ["14:00", "12:30", "16:00", "13:00"],
                             "guest_count": [150, 90, 200, 120],
                             "expected_peak_rps": [3000.0, 2000.0, 4000.0, 2500.0]})
    series = _with_weddings(_daily_series(26, noise=0.02), calendar)
    history, day = series[series.index < "2025-04-24"], series["2025-04-24"]
    with_cal = LoadForecaster().fit(history, calendar).predict("2025-04-24", 24)
    without = LoadForecaster().fit(history).predict("2025-04-24", 24)
    err_with = np.abs(with_cal["yhat"] - day).mean()
    err_without = np.abs(without["yhat"] - day).mean()
    assert err_with < 0.3 * err_without
    peak_hour = day.idxmax()
    assert abs(with_cal.loc[peak_hour, "yhat"] - day[peak_hour]) < 0.15 * day[peak_hour]


def test_first_wedding_of_the_season_uses_the_prior_kernel():
    calendar = _calendar(["2025-04-12"], start_time="15:00", peak=2000.0)
    series = _with_weddings(_daily_series(12, noise=0.02), calendar)
    history, day = series[series.index < "2025-04-12"], series["2025-04-12"]
    forecast = LoadForecaster().fit(history, calendar).predict("2025-04-12", 24)
    ceremony = pd.Timestamp("2025-04-12 15:00")
    assert forecast.loc[ceremony, "yhat"] > 0.5 * day[ceremony]        # no wedding seen yet
    assert forecast.loc[ceremony, "p10"] < day[ceremony] < forecast.loc[ceremony, "p90"]


def test_predict_with_a_newly_booked_wedding_without_peak():
    calendar = _calendar(["2025-04-05", "2025-04-12"])
    series = _with_weddings(_daily_series(16, noise=0.02), calendar)
    model = LoadForecaster().fit(series, calendar)
    booked = pd.DataFrame({"start": [pd.Timestamp("2025-04-19 14:00", tz="UTC")], "guest_count": [150]})
    forecast = model.predict("2025-04-19", 24, calendar=booked)
    assert np.isfinite(forecast.to_numpy()).all()
    assert forecast.loc["2025-04-19 14:00", "yhat"] > 20 * forecast.loc["2025-04-19 08:00", "yhat"]


def test_intervals_are_ordered_and_cover_about_80_percent():
    series = _daily_series(40, noise=0.1, seed=3)
    inside = []
    for days_back in range(1, 11):
        origin = series.index[-24 * days_back]
        forecast = LoadForecaster().fit(series[series.index < origin]).predict(origin, 24)
        actual = series.reindex(forecast.index)
        assert (forecast["p10"] <= forecast["yhat"]).all() and (forecast["yhat"] <= forecast["p90"]).all()
        inside.append(((forecast["p10"] <= actual) & (actual <= forecast["p90"])).mean())
    assert 0.65 <= np.mean(inside) <= 0.95


def test_aware_utc_history_matches_naive():
    naive = _daily_series(10)
    aware = naive.tz_localize("UTC").tz_convert("Europe/Berlin")
    a = LoadForecaster().fit(naive).predict(pd.Timestamp("2025-04-11"), 24)
    b = LoadForecaster().fit(aware).predict(pd.Timestamp("2025-04-11", tz="UTC"), 24)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


@pytest.mark.parametrize("history, message", [
    (pd.Series([1.0, 2.0]), "indexed by timestamps"),
    ([1.0, 2.0], "pandas Series"),
    (_daily_series(1), "at least 48"),
    (_daily_series(5).iloc[::-1], "strictly increasing"),
    (_daily_series(5).replace(_daily_series(5).iloc[7], np.inf), "infinite"),
])
def test_fit_rejects_bad_history(history, message):
    with pytest.raises(ValueError, match=message):
        LoadForecaster().fit(history)


# -- features and shrinkage -------------------------------------------------------------------

def test_wedding_exposure_spreads_each_bin_over_its_hours():
    idx = pd.date_range("2025-05-03", periods=48, freq="h")
    cal = normalize_calendar(_calendar(["2025-05-03"], start_time="14:15", peak=100.0))
    x = wedding_exposure(idx, cal, "expected_peak_rps", lead_min=180, tail_min=900, bin_min=30)
    np.testing.assert_allclose(x.sum(axis=0), 100.0 * 30 / 60)   # each bin: amplitude x half an hour
    assert x[:11].sum() == 0 and x[11].sum() > 0                 # nothing before 14:15 - 3 h


def test_calendar_features_phases_and_counts():
    idx = pd.date_range("2025-05-03 10:00", periods=12, freq="h")
    feats = calendar_features(idx, normalize_calendar(_calendar(["2025-05-03"], start_time="14:00")))
    phase = dict(zip(feats.index.hour, feats["wedding_phase"]))
    assert (phase[11], phase[12], phase[14], phase[16], phase[19], phase[20]) == (
        "", "preparation", "ceremony", "reception", "wind-down", "")
    assert feats.loc["2025-05-03 14:00", "weddings_in_progress"] == 1
    assert feats.loc["2025-05-03 10:00", "hours_to_ceremony"] == 4
    assert feats["season"].iloc[0] == "spring"


def test_lag_features_use_only_the_past():
    series = _daily_series(3)
    lags = lag_features(series, (1, 24))
    assert np.isnan(lags["lag_24"].iloc[23]) and lags["lag_24"].iloc[24] == series.iloc[0]
    assert lags["lag_1"].iloc[5] == series.iloc[4]


def test_group_ridge_shrinks_noise_and_keeps_signal():
    rng = np.random.default_rng(1)
    n, groups = 2000, [PenaltyGroup(slice(1, 11), np.eye(10)), PenaltyGroup(slice(11, 21), np.eye(10))]
    x = np.hstack([np.ones((n, 1)), np.eye(10)[rng.integers(0, 10, n)], np.eye(10)[rng.integers(0, 10, n)]])
    signal = np.linspace(-2, 2, 10)
    z = x[:, 1:11] @ signal + rng.normal(0, 1, n)
    fit = fit_group_ridge(x.T @ x, x.T @ z, float(z @ z), float(n), groups)
    assert np.abs(fit.coef[11:]).max() < 0.05                 # a group of pure noise: ~0
    np.testing.assert_allclose(fit.coef[1:11] - fit.coef[1:11].mean(), signal, atol=0.15)


# -- backtest ---------------------------------------------------------------------------------

def _write_inputs(tmp_path, series: pd.Series, calendar: pd.DataFrame | None):
    path = tmp_path / "series.csv"
    pd.DataFrame({"timestamp": series.index.strftime("%Y-%m-%d %H:%M:%S"),
                  "value": series.to_numpy()}).to_csv(path, index=False)
    cal_path = None
    if calendar is not None:
        cal_path = tmp_path / "calendar.csv"
        calendar.to_csv(cal_path, index=False)
    return path, cal_path


def test_backtest_writes_the_protocol_format(tmp_path):
    series = _daily_series(12)
    path, _ = _write_inputs(tmp_path, series, None)
    rows = run_backtest(path, tmp_path / "out" / "bt.csv", horizon_hours=24, n_origins=3)
    out = pd.read_csv(tmp_path / "out" / "bt.csv", parse_dates=["origin", "timestamp"])
    assert rows == len(out) == 72
    assert list(out.columns) == ["origin", "timestamp", "actual", "yhat", "p10", "p90"]
    assert sorted(out["origin"].unique()) == list(pd.to_datetime(["2025-04-10", "2025-04-11", "2025-04-12"]))
    assert ((out["timestamp"] - out["origin"]) / pd.Timedelta(hours=1)).tolist() == list(range(24)) * 3
    np.testing.assert_allclose(out["actual"], series.reindex(out["timestamp"]).to_numpy())
    assert np.isfinite(out[["yhat", "p10", "p90"]].to_numpy()).all()
    assert (out["p10"] <= out["p90"]).all()


def _perturbed_from(series: pd.Series, cut: pd.Timestamp) -> pd.Series:
    rng = np.random.default_rng(7)
    out = series.copy()
    late = out.index >= cut
    out[late] = np.abs(rng.normal(series.mean(), 3 * series.std() + 1, late.sum()))
    return out


def _origin_rows(path, last_origin: str) -> list[str]:
    lines = path.read_text().splitlines()
    return [line for line in lines[1:] if line.split(",")[0] <= last_origin]


@pytest.mark.parametrize("leak", [False, True])
def test_backtest_has_no_look_ahead(tmp_path, monkeypatch, leak):
    """Perturb every row at/after an origin: that origin's forecast must be byte-identical.

    The ``leak=True`` case feeds the whole series to the forecaster and shows that this test
    does catch a backtest that peeks at the future.
    """
    calendar = _calendar(["2025-04-05", "2025-04-12", "2025-04-19"])
    series = _with_weddings(_daily_series(20), calendar)
    origin = "2025-04-18 00:00:00"
    if leak:
        real_fit = LoadForecaster.fit
        monkeypatch.setattr(backtest_module, "forecast_origin",
                            lambda s, o, h, c: real_fit(LoadForecaster(), s, c).predict(o, h))
    outputs = []
    for tag, data in (("orig", series), ("pert", _perturbed_from(series, pd.Timestamp(origin)))):
        (tmp_path / tag).mkdir()
        path, cal_path = _write_inputs(tmp_path / tag, data, calendar)
        run_backtest(path, tmp_path / tag / "bt.csv", horizon_hours=24, n_origins=4, calendar_csv=cal_path)
        outputs.append(_origin_rows(tmp_path / tag / "bt.csv", origin))
    before_cut = [[",".join(r.split(",")[:2] + r.split(",")[3:]) for r in rows] for rows in outputs]
    assert len(before_cut[0]) == 24 * 2
    assert (before_cut[0] == before_cut[1]) is (not leak)


@pytest.mark.parametrize("text, message", [
    ("time,value\n2025-01-01 00:00:00,1\n", "expected header"),
    ("timestamp,value\n2025-01-01 00:00:00,abc\n", "non-numeric"),
    ("timestamp,value\n2025-01-01 00:00:00,1\n2025-01-01 02:00:00,1\n", "not hourly"),
    ("timestamp,value\n2025-01-01 01:00:00,1\n2025-01-01 00:00:00,1\n", "strictly increasing"),
    ("", "not a readable CSV"),
])
def test_backtest_rejects_bad_series(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        run_backtest(path, tmp_path / "out.csv", horizon_hours=24, n_origins=1)


def test_backtest_rejects_too_few_days_and_bad_calendar(tmp_path):
    path, _ = _write_inputs(tmp_path, _daily_series(5), None)
    with pytest.raises(ValueError, match="too short for 10 origins"):
        run_backtest(path, tmp_path / "out.csv", horizon_hours=24, n_origins=10)
    bad_cal = tmp_path / "cal.csv"
    bad_cal.write_text("date,guest_count\n2025-04-05,100\n")
    with pytest.raises(ValueError, match="missing column"):
        run_backtest(path, tmp_path / "out.csv", horizon_hours=24, n_origins=1, calendar_csv=bad_cal)
    assert not (tmp_path / "out.csv").exists()


def test_origins_are_the_last_full_midnights():
    idx = pd.date_range("2025-04-01", "2025-04-10 22:00", freq="h")    # last day incomplete
    origins = backtest_origins(idx, 2, 24)
    assert origins == [pd.Timestamp("2025-04-08"), pd.Timestamp("2025-04-09")]


def test_read_calendar_csv(tmp_path):
    path = tmp_path / "cal.csv"
    _calendar(["2025-05-03"], start_time="14:30").to_csv(path, index=False)
    cal = read_calendar_csv(path)
    assert cal.loc[0, "start"] == pd.Timestamp("2025-05-03 14:30")
    assert cal.loc[0, "reception_end"] == pd.Timestamp("2025-05-03 19:30")


def test_calendar_from_product_weddings_is_naive_utc():
    from datetime import datetime, timezone

    from engine.forecast.calendar_io import calendar_from_weddings
    from engine.weddings import Wedding

    utc = timezone.utc
    wedding = Wedding(id=1, name="A & B", timezone="Europe/Berlin",
                      ceremony_start=datetime(2025, 6, 7, 12, 0, tzinfo=utc),
                      reception_start=datetime(2025, 6, 7, 14, 0, tzinfo=utc),
                      reception_end=datetime(2025, 6, 7, 20, 0, tzinfo=utc), guest_count=180)
    cal = calendar_from_weddings([wedding])
    assert cal.loc[0, "start"] == pd.Timestamp("2025-06-07 12:00")
    assert cal.loc[0, "reception_end"] == pd.Timestamp("2025-06-07 20:00")
    assert np.isnan(cal.loc[0, "expected_peak_rps"])


def test_read_hourly_series_roundtrip(tmp_path):
    series = _daily_series(3)
    path, _ = _write_inputs(tmp_path, series, None)
    np.testing.assert_allclose(read_hourly_series(path).to_numpy(), series.to_numpy())
