"""Contract tests of the streaming anomaly detector and the ``wedscale detect`` runner."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.detect.anomaly import StreamingAnomalyDetector, to_epoch_seconds
from engine.detect.batch import detect_path, read_series

START_S = 1_396_310_400.0     # 2014-04-01 00:00:00 UTC
STEP_S = 300.0                # 5-minute samples
DAY = 288                     # samples per day


def make_series(n_days: int = 6, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """A daily cycle with noise: what a request-rate metric looks like."""
    rng = np.random.default_rng(seed)
    n = n_days * DAY
    t = START_S + STEP_S * np.arange(n)
    phase = 2 * np.pi * np.arange(n) / DAY
    values = 100 + 40 * np.sin(phase) + rng.normal(0, 3, n)
    return t, values


def run_detector(times, values, **params) -> tuple[list[float], list[bool]]:
    return StreamingAnomalyDetector(**params).fit().score_stream(times, values)


def write_csv(path: Path, times, values) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["timestamp", "value"])
        for t, v in zip(times, values):
            stamp = np.datetime64(int(t), "s").astype(str).replace("T", " ")
            out.writerow([stamp, repr(float(v))])


# -- estimator manners -------------------------------------------------------------------

def test_init_stores_parameters_and_learns_nothing():
    detector = StreamingAnomalyDetector(threshold=6.0, refractory=10)
    assert detector.get_params()["threshold"] == 6.0
    assert detector.get_params()["refractory"] == 10
    learned = [name for name in vars(detector) if name.endswith("_") and not name.startswith("__")]
    assert learned == []


def test_init_does_not_validate_but_fit_does():
    detector = StreamingAnomalyDetector(threshold=-1.0)  # no error yet: __init__ only stores
    with pytest.raises(ValueError, match="threshold"):
        detector.fit()


def test_fit_returns_self_and_learns_from_history():
    times, values = make_series(n_days=2)
    detector = StreamingAnomalyDetector()
    assert detector.fit(list(zip(times, values))) is detector
    assert detector.n_seen_ == len(values)
    assert detector.interval_s_ == STEP_S
    assert detector.threshold_ == 0.5


def test_set_params_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown parameter"):
        StreamingAnomalyDetector().set_params(window=3)


def test_fit_then_update_equals_one_stream():
    times, values = make_series(n_days=3)
    half = len(values) // 2
    whole, _ = run_detector(times, values)
    detector = StreamingAnomalyDetector().fit(list(zip(times[:half], values[:half])))
    rest = [detector.update(t, v) for t, v in zip(times[half:], values[half:])]
    assert rest == whole[half:]


def test_same_data_gives_same_output():
    # The detector draws no random numbers, so it has no seed: two fresh instances fed the
    # same (seeded) data must agree exactly.
    times, values = make_series(seed=3)
    assert run_detector(times, values) == run_detector(times, values)
    assert "seed" not in StreamingAnomalyDetector().get_params()


# -- causality ---------------------------------------------------------------------------

@settings(max_examples=8, deadline=None)
@given(cut=st.integers(min_value=1, max_value=4 * DAY - 1), seed=st.integers(0, 10_000))
def test_changing_the_future_leaves_the_past_unchanged(cut, seed):
    times, values = make_series(n_days=4)
    changed = values.copy()
    changed[cut:] = np.random.default_rng(seed).normal(500, 200, len(values) - cut)
    before, _ = run_detector(times, values)
    after, _ = run_detector(times, changed)
    assert before[:cut] == after[:cut]


def test_batch_output_rows_before_the_cut_are_byte_identical(tmp_path):
    times, values = make_series(n_days=4)
    cut = int(len(values) * 0.6)
    changed = values.copy()
    changed[cut:] = np.abs(np.random.default_rng(1).normal(values.mean(), 3 * values.std(), len(values) - cut))
    write_csv(tmp_path / "a" / "m.csv", times, values)
    write_csv(tmp_path / "b" / "m.csv", times, changed)
    out_a = detect_path(tmp_path / "a" / "m.csv", tmp_path / "out_a")[0].read_text().splitlines()
    out_b = detect_path(tmp_path / "b" / "m.csv", tmp_path / "out_b")[0].read_text().splitlines()
    assert out_a[:cut + 1] == out_b[:cut + 1]  # header + rows before the cut
    assert out_a[cut + 1:] != out_b[cut + 1:]


# -- detection ---------------------------------------------------------------------------

def test_labelled_spike_is_detected_and_quiet_data_is_not():
    times, values = make_series(n_days=6)
    spike = 5 * DAY + 100
    values[spike] += 60  # 20 noise standard deviations
    scores, alerts = run_detector(times, values)
    assert any(alerts[spike:spike + 3])
    assert max(scores[spike:spike + 3]) >= 0.5
    warm = StreamingAnomalyDetector().warmup
    assert sum(alerts[warm:spike]) <= 1  # five days of ordinary cycles: at most one false alarm


def test_missed_daily_peak_is_detected_through_the_seasonal_baseline():
    times, values = make_series(n_days=6)
    peak_day = slice(5 * DAY + 50, 5 * DAY + 100)  # the morning rise does not come
    values[peak_day] = 100 + np.random.default_rng(0).normal(0, 3, 50)
    _, alerts = run_detector(times, values)
    assert any(alerts[peak_day])


def test_one_incident_gives_one_alert():
    times, values = make_series(n_days=6)
    values[5 * DAY:5 * DAY + 60] += 150  # an hour-long outage-sized excursion
    _, alerts = run_detector(times, values)
    assert sum(alerts[5 * DAY:5 * DAY + 60]) == 1


def test_a_much_larger_incident_escalates_through_the_refractory_period():
    times, values = make_series(n_days=6)
    first, second = 5 * DAY + 100, 5 * DAY + 140
    values[first] += 30
    values[second] += 3000
    detector = StreamingAnomalyDetector().fit()
    _, alerts = detector.score_stream(times, values)
    assert second - first < detector.refractory
    assert alerts[first] and alerts[second]


def test_flat_series_gives_no_alerts_and_finite_scores():
    times = START_S + STEP_S * np.arange(3 * DAY)
    scores, alerts = run_detector(times, np.full(len(times), 45.0))
    assert not any(alerts)
    assert all(score == 0.0 for score in scores)


def test_missing_value_is_skipped():
    times, values = make_series(n_days=1)
    detector = StreamingAnomalyDetector().fit(list(zip(times[:-1], values[:-1])))
    seen = detector.n_seen_
    assert detector.update(times[-1], math.nan) == 0.0
    assert detector.n_seen_ == seen and not detector.is_anomaly_


@pytest.mark.parametrize("stamp", ["2014-04-01 00:00:00", "2014-04-01T00:00:00Z",
                                   "2014-04-01T02:00:00+02:00", np.datetime64("2014-04-01"),
                                   START_S])
def test_timestamps_in_every_accepted_form(stamp):
    assert to_epoch_seconds(stamp) == START_S


# -- the batch runner ------------------------------------------------------------------------

def test_folder_input_mirrors_relative_paths_and_keeps_rows(tmp_path):
    times, values = make_series(n_days=2)
    write_csv(tmp_path / "in" / "cat" / "deep" / "s1.csv", times, values)
    write_csv(tmp_path / "in" / "s2.csv", times[:50], values[:50])
    written = detect_path(tmp_path / "in", tmp_path / "new" / "out")
    assert sorted(p.relative_to(tmp_path / "new" / "out").as_posix() for p in written) == [
        "cat/deep/s1.csv", "s2.csv"]
    with open(tmp_path / "new" / "out" / "cat" / "deep" / "s1.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    source = read_series(tmp_path / "in" / "cat" / "deep" / "s1.csv")
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "is_anomaly"]
    assert [r["timestamp"] for r in rows] == list(source.timestamps)
    assert [r["value"] for r in rows] == list(source.values)
    for row in rows:
        assert 0.0 <= float(row["anomaly_score"]) <= 1.0
        assert row["is_anomaly"] in ("0", "1")
        assert (row["is_anomaly"] == "1") == (float(row["anomaly_score"]) >= 0.5)


def test_file_input_writes_dir_slash_file_name(tmp_path):
    times, values = make_series(n_days=1)
    write_csv(tmp_path / "x" / "cpu.csv", times, values)
    assert detect_path(tmp_path / "x" / "cpu.csv", tmp_path / "o") == [tmp_path / "o" / "cpu.csv"]


@pytest.mark.parametrize("content, message", [
    ("", "empty file"),
    ("timestamp,value\n", "no data rows"),
    ("time,value\n2014-04-01 00:00:00,1\n", "line 1: missing column(s) timestamp"),
    ("timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,abc\n", "line 3: value 'abc'"),
    ("timestamp,value\n2014-04-01 00:00:00,nan\n", "line 2: value 'nan'"),
    ("timestamp,value\nyesterday,1\n", "line 2: timestamp 'yesterday'"),
    ("timestamp,value\n2014-04-01 00:00:00\n", "line 2: expected 2 columns"),
])
def test_bad_csv_raises_one_line_naming_file_and_row(tmp_path, content, message):
    path = tmp_path / "in" / "bad.csv"
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(ValueError) as caught:
        detect_path(path.parent, tmp_path / "out")
    text = str(caught.value)
    assert message in text and str(path) in text and "\n" not in text
    assert not (tmp_path / "out" / "bad.csv").exists()


def test_missing_input_and_empty_folder_raise(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        detect_path(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no .csv files"):
        detect_path(tmp_path / "empty", tmp_path / "out")
