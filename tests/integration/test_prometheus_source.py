"""PrometheusSource against a local fake server speaking the Prometheus HTTP API (query_range)."""

from __future__ import annotations

import json
import math
import socket
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from engine.clock import ManualClock
from engine.sources.prometheus import MAX_POINTS, PrometheusSource

T0 = datetime(2026, 6, 13, 14, 0, 2, tzinfo=timezone.utc)  # 2 s past a 5 s step
T0_S = T0.timestamp()
GRID_END = T0_S - 2.0


def value_at(ts: float) -> float:
    """What the fake server's ``up_series`` evaluates to at ``ts``."""
    return ts % 1000 + 0.5


def _matrix(*series: list) -> dict:
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"pod": f"p{i}"}, "values": values} for i, values in enumerate(series)]}}


def _answer(query: str, start: float, end: float, step: float) -> tuple[int, str, str]:
    """Return ``(status, content_type, body)`` for a query, as Prometheus would."""
    grid = [start + k * step for k in range(int(math.floor((end - start) / step)) + 1)]
    if query == "up_series":
        return 200, "application/json", json.dumps(_matrix([[t, repr(value_at(t))] for t in grid]))
    if query == "two_pods":  # summed; NaN, +Inf and -Inf points skipped; gaps allowed
        a = [[t, "1"] for t in grid]
        b = [[t, ("NaN", "+Inf", "-Inf", "2")[k % 4]] for k, t in enumerate(grid)]
        return 200, "application/json", json.dumps(_matrix(a, b[1:]))
    if query == "empty":
        return 200, "application/json", json.dumps(_matrix())
    if query == "bad(":
        return 400, "application/json", json.dumps({"status": "error", "errorType": "bad_data",
                                                    "error": "1:5: parse error: unclosed left parenthesis"})
    if query == "boom":
        return 500, "text/plain", "internal server error"
    if query == "overloaded":
        return 503, "application/json", json.dumps({"status": "error", "errorType": "unavailable",
                                                    "error": "too many queries"})
    if query == "vector":
        return 200, "application/json", json.dumps({"status": "success",
                                                    "data": {"resultType": "vector", "result": []}})
    if query == "garbage":
        return 200, "text/html", "<html>proxy login</html>"
    return 404, "text/plain", "404 page not found"


class FakePrometheus:
    """A ThreadingHTTPServer on 127.0.0.1 that answers ``/api/v1/query_range``; records requests."""

    def __init__(self):
        self.requests: list[dict[str, str]] = []
        self.release = threading.Event()  # "slow" queries wait for this (or 5 s)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 — http.server's naming
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append(params)
                if url.path != "/api/v1/query_range":
                    status, ctype, body = 404, "text/plain", "404 page not found"
                elif params.get("query") == "slow":
                    fake.release.wait(5)
                    status, ctype, body = _answer("up_series", *self._range(params))
                else:
                    status, ctype, body = _answer(params["query"], *self._range(params))
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            @staticmethod
            def _range(params):
                return float(params["start"]), float(params["end"]), float(params["step"])

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def asked(self, query: str) -> list[dict[str, str]]:
        return [r for r in self.requests if r.get("query") == query]


@pytest.fixture
def prom():
    with FakePrometheus() as server:
        yield server


def source(prom, queries, **kw) -> PrometheusSource:
    return PrometheusSource(prom.url + "/", queries, **kw)


def test_first_collect_reads_the_last_five_minutes_on_the_step_grid(prom):
    src = source(prom, {("api", "cpu_pct"): "up_series", ("database", "cpu_pct"): "up_series"})
    batch = src.collect(T0)
    asked = prom.asked("up_series")[0]
    assert float(asked["start"]) == GRID_END - 300 and float(asked["end"]) == GRID_END
    assert asked["step"] == "5"
    api = batch.select(service="api", metric="cpu_pct")
    np.testing.assert_array_equal(api.ts, GRID_END - 300 + 5.0 * np.arange(61))
    np.testing.assert_array_equal(api.value, [value_at(t) for t in api.ts])
    assert len(batch) == 122 and batch.service[:61].tolist() == ["api"] * 61     # series-major
    assert src.last_success_ts == T0_S and src.last_error is None and src.query_errors == {}


def test_each_point_is_returned_once_across_collects(prom):
    clock = ManualClock(T0)
    src = source(prom, {("api", "request_rate"): "up_series"})
    first = src.collect(clock.now())
    assert len(src.collect(clock.now())) == 0                 # nothing new on the grid
    assert len(prom.asked("up_series")) == 1                  # and nothing asked
    clock.advance(seconds=31)
    second = src.collect(clock.now())
    asked = prom.asked("up_series")[-1]
    assert float(asked["start"]) == GRID_END + 5 and float(asked["end"]) == GRID_END + 30
    np.testing.assert_array_equal(second.ts, GRID_END + 5.0 * np.arange(1, 7))
    assert not set(first.ts) & set(second.ts)


def test_several_series_are_summed_and_non_finite_points_skipped(prom):
    batch = source(prom, {("api", "request_rate"): "two_pods"}).collect(T0)
    grid = GRID_END - 300 + 5.0 * np.arange(61)
    np.testing.assert_array_equal(batch.ts, grid)
    # series b starts one step later and is NaN, +Inf, -Inf, 2, ... from its second point on
    expected = [1.0] + [1.0 + (2.0 if k % 4 == 3 else 0.0) for k in range(1, 61)]
    np.testing.assert_array_equal(batch.value, expected)


def test_an_error_answer_is_recorded_and_the_other_queries_still_deliver(prom):
    src = source(prom, {("api", "cpu_pct"): "up_series", ("api", "memory_pct"): "bad("})
    batch = src.collect(T0)
    assert len(batch) == 61 and set(batch.metric) == {"cpu_pct"}
    assert src.query_errors == {("api", "memory_pct"): "HTTP 400: bad_data: 1:5: parse error: unclosed left parenthesis"}
    assert src.last_error.startswith("1 of 2 queries failed; api/memory_pct: HTTP 400: bad_data")
    assert src.last_success_ts == T0_S


@pytest.mark.parametrize("query, words", [
    ("boom", "HTTP 500: not a Prometheus API answer: 'internal server error'"),
    ("overloaded", "HTTP 503: unavailable: too many queries"),
    ("vector", "expected a matrix result, got 'vector'"),
    ("garbage", "HTTP 200: not a Prometheus API answer"),
])
def test_bad_answers_never_raise(prom, query, words):
    src = source(prom, {("api", "cpu_pct"): query})
    assert len(src.collect(T0)) == 0
    assert words in src.last_error and src.last_success_ts is None


def test_an_empty_result_is_a_success_with_no_samples(prom):
    src = source(prom, {("api", "queue_depth"): "empty"})
    assert len(src.collect(T0)) == 0
    assert src.last_success_ts == T0_S and src.last_error is None
    src.collect(T0 + timedelta(seconds=10))
    assert float(prom.asked("empty")[-1]["start"]) == GRID_END + 5    # the window moved on


def test_a_failed_query_is_asked_again_from_where_it_stopped(prom):
    src = source(prom, {("api", "cpu_pct"): "boom"})
    src.collect(T0)
    src.collect(T0 + timedelta(seconds=60))
    first, second = prom.asked("boom")
    assert second["start"] == first["start"] and float(second["end"]) == GRID_END + 60


def test_a_recovering_source_clears_its_error(prom):
    queries = {("api", "cpu_pct"): "boom"}
    src = source(prom, queries)
    src.collect(T0)
    assert src.last_error
    queries_ok = {("api", "cpu_pct"): "up_series"}
    src.queries = queries_ok                                  # the operator fixed the query
    batch = src.collect(T0 + timedelta(seconds=20))
    assert src.last_error is None and src.query_errors == {}
    assert batch.ts[0] == GRID_END - 300 and batch.ts[-1] == GRID_END + 20     # no hole


def test_a_timeout_ends_the_round_and_the_rest_is_asked_next_time(prom):
    queries = {("api", "memory_pct"): "up_series", ("api", "cpu_pct"): "slow", ("api", "queue_depth"): "empty"}
    src = source(prom, queries, timeout_s=0.3)
    batch = src.collect(T0)
    assert set(batch.metric) == {"memory_pct"}                    # answered before the timeout
    assert src.query_errors == {("api", "cpu_pct"): "timed out",
                                ("api", "queue_depth"): "not asked: the server is unreachable (timed out)"}
    assert prom.asked("empty") == [] and src.last_error.startswith("2 of 3 queries failed; api/cpu_pct: timed out")
    prom.release.set()                                            # the server recovers
    src.collect(T0 + timedelta(seconds=5))
    assert src.last_error is None and float(prom.asked("empty")[0]["start"]) == GRID_END - 300


def test_nothing_listening_is_an_error_not_an_exception():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]                          # closed again: nothing listens
    src = PrometheusSource(f"http://127.0.0.1:{port}", {("api", "cpu_pct"): "up_series",
                                                         ("api", "memory_pct"): "up_series"}, timeout_s=1)
    assert len(src.collect(T0)) == 0
    assert "URLError" in src.last_error and "refused" in src.last_error.lower()
    assert src.last_error.startswith("2 of 2 queries failed") and src.last_success_ts is None


def test_a_long_outage_catches_up_at_most_max_points(prom):
    src = source(prom, {("api", "cpu_pct"): "up_series"})
    src.collect(T0)
    batch = src.collect(T0 + timedelta(days=2))
    asked = prom.asked("up_series")[-1]
    end = float(asked["end"])
    assert end == GRID_END + 2 * 86400 and float(asked["start"]) == end - (MAX_POINTS - 1) * 5
    assert len(batch) == MAX_POINTS


def test_an_injected_http_get_sees_the_url_and_timeout():
    calls = []

    def fake_get(url, timeout_s):
        calls.append((url, timeout_s))
        return 200, json.dumps(_matrix([[GRID_END, "7"]])).encode()

    src = PrometheusSource("http://prom:9090/", {("api", "cpu_pct"): 'sum(rate(x{job="api"}[1m]))'},
                           step_s=15, timeout_s=2.5, http_get=fake_get)
    batch = src.collect(T0)
    url, timeout_s = calls[0]
    params = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    assert url.startswith("http://prom:9090/api/v1/query_range?") and timeout_s == 2.5
    assert params["query"] == 'sum(rate(x{job="api"}[1m]))' and params["step"] == "15"
    assert float(params["end"]) % 15 == 0 and batch.rows() == [("api", "cpu_pct", GRID_END, 7.0)]
