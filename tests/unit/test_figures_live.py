"""The live figures are plain functions: check what they draw without a browser."""

import json

import numpy as np

from app.figures_live import graph_config, live_figure, sparkline
from app.live_series import BAND_INDEX, LIVE_TRACES, extend_grid_payload, extend_payload, round_significant
from engine.chart_marks import AlertMark, ChartMarks, DecisionMark, PhaseMark
from engine.detect.thresholds import thresholds_for
from engine.metrics.window import MetricWindow, SeriesWindow

T = 1_781_359_200.0  # 2026-06-13 14:00 UTC
NO_MARKS = ChartMarks(False, thresholds_for(False))


def _raw(values: dict) -> MetricWindow:
    return MetricWindow("api", "raw", {m: SeriesWindow(np.array([T, T + 5]), np.array(v, dtype=float))
                                       for m, v in values.items()})


def _rollup() -> MetricWindow:
    ts = T + 60 * np.arange(3)
    return MetricWindow("api", "1m", {m: SeriesWindow(ts, np.array([40.0, 50, 45]), np.array([30.0, 41, 44]),
                                                      np.array([52.0, 61, 47])) for m in LIVE_TRACES})


def test_mean_traces_come_first_in_metric_order_then_bands():
    fig = live_figure(_raw({"cpu_pct": [40.0, 42.0]}), NO_MARKS, span=(T - 900, T + 10))
    assert [t.name for t in fig.data[:len(LIVE_TRACES)]] == list(LIVE_TRACES)
    assert list(fig.data[0].y) == [40.0, 42.0]
    assert list(fig.data[0].x) == [T * 1000, (T + 5) * 1000]  # Unix ms on a date axis
    assert len(fig.data[1].y) == 0  # memory absent: an empty trace keeps the indices stable
    lo, hi = BAND_INDEX["cpu_pct"]
    assert fig.data[lo].name == "cpu_pct min" and fig.data[hi].fill == "tonexty"
    assert len(fig.data[hi].y) == 0  # no band at raw 5 s
    assert fig.layout.hovermode == "x unified" and fig.layout.xaxis.showspikes
    assert fig.layout.meta["resolution"] == "raw"


def test_rollup_figure_draws_the_min_max_band_and_says_so():
    fig = live_figure(_rollup(), NO_MARKS, span=(T - 7 * 86400, T + 200))
    lo, hi = BAND_INDEX["latency_p95_ms"]
    assert list(fig.data[lo].y) == [30.0, 41.0, 44.0] and list(fig.data[hi].y) == [52.0, 61.0, 47.0]
    labels = [a.text for a in fig.layout.annotations]
    assert any("1 min rollup" in t for t in labels)
    assert fig.layout.meta["resolution"] == "1m"


def test_bucketed_traces_share_one_grid_instead_of_x_arrays():
    fig = live_figure(_rollup(), NO_MARKS, span=(T - 7 * 86400, T + 200))
    data = fig.data[:len(LIVE_TRACES) + 2 * len(BAND_INDEX)]
    assert all(t.x is None and t.x0 == T * 1000 and t.dx == 60_000 and len(t.y) == 3 for t in data)
    assert fig.data[-1].name == "scaling"  # the decisions keep their own times


def test_a_missing_bucket_is_a_gap_on_the_grid():
    ts = T + 600 * np.array([0, 1, 3])  # no data in the third 10 min bucket
    window = MetricWindow("api", "10m", {"cpu_pct": SeriesWindow(ts, np.array([1.0, 2, 4]), np.array([0.5, 1, 3]),
                                                                 np.array([9.0, 3, 5]))})
    fig = live_figure(window, NO_MARKS, span=(T - 7 * 86400, T + 2400))
    lo, hi = BAND_INDEX["cpu_pct"]
    assert list(fig.data[0].y) == [1.0, 2.0, None, 4.0] and list(fig.data[hi].y) == [9.0, 3.0, None, 5.0]
    assert list(fig.data[1].y) == [None] * 4  # memory absent: still on the grid, so ticks stay aligned
    assert any("10 min buckets of 1 min rollups" in a.text for a in fig.layout.annotations)
    assert "NaN" not in fig.to_json()


def test_grid_ticks_continue_after_the_last_drawn_bucket_with_gaps_filled():
    ts = T + 600 * np.array([2, 3])
    window = MetricWindow("api", "10m", {m: SeriesWindow(ts, np.array([5.0, 6]), np.array([4.0, 5]),
                                                         np.array([7.0, 8])) for m in LIVE_TRACES})
    update, indices = extend_grid_payload(window, last_drawn_s=T)
    assert set(update) == {"y"} and indices[:2] == [0, 1] and BAND_INDEX["cpu_pct"][1] in indices
    assert update["y"][0] == [None, 5.0, 6.0]  # bucket T + 600 had no data
    assert extend_grid_payload(window, last_drawn_s=T + 1800) is None


def test_values_are_sent_with_four_significant_digits():
    values = np.array([45.12345, 1234.567, 0.0123456, 98765.4, 0.0, -3.14159, np.nan])
    rounded = round_significant(values)
    assert rounded[:6].tolist() == [45.12, 1235.0, 0.01235, 98770.0, 0.0, -3.142] and np.isnan(rounded[6])
    assert json.dumps(rounded[:6].tolist()) == "[45.12, 1235.0, 0.01235, 98770.0, 0.0, -3.142]"


def test_threshold_lines_are_the_wedding_day_values_when_asked():
    fig = live_figure(_raw({"cpu_pct": [40.0, 42.0]}), ChartMarks(True, thresholds_for(True)),
                      span=(T - 900, T + 10))
    levels = {a.text for a in fig.layout.annotations}
    assert {"warning 70", "critical 85", "warning 500", "critical 1000"} <= levels
    normal = {a.text for a in live_figure(_raw({}), NO_MARKS, span=(T - 900, T + 10)).layout.annotations}
    assert {"warning 85", "critical 95"} <= normal


def test_alerts_decisions_and_phases_inside_the_range_are_marked():
    marks = ChartMarks(False, thresholds_for(False),
                       alerts=(AlertMark(T, "critical", "latency_p95_ms", "firing", "p95 high"),
                               AlertMark(T - 10 * 86400, "warning", "cpu_pct", "resolved", "old")),
                       decisions=(DecisionMark(T + 5, 4, 6, "autoscaler", "executed", "cpu"),),
                       phases=(PhaseMark("ceremony", T - 3600, T + 1800, "Ana & Ben"),))
    fig = live_figure(_raw({"cpu_pct": [40.0, 42.0]}), marks, span=(T - 900, T + 10))
    shapes = [s for s in fig.layout.shapes if s.name.startswith(("wedding", "alert"))]
    assert [s.name for s in shapes] == ["wedding ceremony", "alert critical"]  # the old alert is out of range
    assert shapes[0].x0 == (T - 900) * 1000 and shapes[0].x1 == (T + 10) * 1000  # clipped to the range
    assert any(a.text == "⚠ critical (firing)" for a in fig.layout.annotations)
    decisions = fig.data[-1]
    assert decisions.name == "scaling" and list(decisions.y) == [6]
    assert decisions.marker.symbol == ("triangle-up",)


def test_extend_payload_targets_the_right_traces():
    window = MetricWindow("api", "raw", {"latency_p95_ms": SeriesWindow(np.array([10.0]), np.array([250.0])),
                                         "instances_ready": SeriesWindow(np.array([10.0]), np.array([4.0]))})
    update, indices, max_points = extend_payload(window, 300)
    assert indices == [LIVE_TRACES.index("latency_p95_ms"), LIVE_TRACES.index("instances_ready")]
    assert update["y"] == [[250.0], [4.0]] and update["x"] == [[10_000], [10_000]]
    assert max_points == 300


def test_extend_payload_extends_the_band_at_rollups():
    update, indices, _ = extend_payload(_rollup(), 100)
    lo, hi = BAND_INDEX["cpu_pct"]
    assert indices[:3] == [0, lo, hi]
    assert update["y"][1] == [30.0, 41.0, 44.0] and update["y"][2] == [52.0, 61.0, 47.0]


def test_extend_payload_is_none_without_new_points():
    assert extend_payload(MetricWindow("api", "raw", {}), 300) is None


def test_figures_send_plain_arrays_the_browser_can_extend():
    # plotly encodes numpy arrays as typed arrays ("bdata"); extendTraces refuses those.
    assert '"bdata"' not in live_figure(_rollup(), NO_MARKS, span=(T - 900, T + 200)).to_json()
    assert '"bdata"' not in sparkline(np.array([T]), np.array([1.0]), colour="#3fb950").to_json()


def test_empty_window_says_there_is_no_data():
    fig = live_figure(MetricWindow("api", "raw", {}), NO_MARKS, span=(T - 900, T))
    assert any(a.text == "No data in this range yet" for a in fig.layout.annotations)


def test_light_theme_uses_the_light_template():
    dark = live_figure(_raw({}), NO_MARKS, span=(T - 900, T))
    light = live_figure(_raw({}), NO_MARKS, span=(T - 900, T), theme="light")
    assert dark.layout.template.layout.paper_bgcolor != light.layout.template.layout.paper_bgcolor


def test_png_export_stays_in_the_modebar():
    config = graph_config("wedscale-live")
    assert config["displayModeBar"] is True and "toImage" not in config["modeBarButtonsToRemove"]
    assert config["toImageButtonOptions"]["format"] == "png"
    json.dumps(config)
