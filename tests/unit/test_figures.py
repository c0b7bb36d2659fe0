"""Figures are plain functions: check what they draw without a browser."""

import numpy as np

from app.figures import LIVE_TRACES, extend_payload, live_figure


def test_live_figure_has_one_trace_per_metric_in_order():
    series = {"cpu_pct": (np.array([0.0, 5.0]), np.array([40.0, 42.0]))}
    fig = live_figure(series)
    assert [t.name for t in fig.data] == list(LIVE_TRACES)
    assert list(fig.data[0].y) == [40.0, 42.0]
    assert len(fig.data[1].y) == 0  # memory absent: an empty trace keeps the indices stable
    assert fig.layout.hovermode == "x unified"


def test_extend_payload_targets_the_right_traces():
    series = {"latency_p95_ms": (np.array([10.0]), np.array([250.0])),
              "instances_ready": (np.array([10.0]), np.array([4.0]))}
    update, indices, max_points = extend_payload(series, 300)
    assert indices == [LIVE_TRACES.index("latency_p95_ms"), LIVE_TRACES.index("instances_ready")]
    assert update["y"] == [[250.0], [4.0]]
    assert max_points == 300


def test_extend_payload_is_none_without_new_points():
    assert extend_payload({}, 300) is None


def test_live_figure_sends_plain_arrays_the_browser_can_extend():
    # plotly encodes numpy arrays as typed arrays ("bdata"); extendTraces refuses those.
    series = {m: (np.array([0.0, 5.0]), np.array([1.0, 2.0])) for m in LIVE_TRACES}
    assert '"bdata"' not in live_figure(series).to_json()
