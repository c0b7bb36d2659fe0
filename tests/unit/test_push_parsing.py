"""Push parsing: JSON and Prometheus text into a SampleBatch, every validation error, all or nothing."""

import math

import numpy as np
import pytest

from engine.errors import InvalidInput
from engine.services import METRIC_IDS
from engine.sources.push import (MAX_FUTURE_S, MAX_PAST_S, MAX_REPORTED_PROBLEMS, MAX_SAMPLES, TooManySamples,
                                 parse_json_samples, parse_prometheus_text)

NOW = 1_781_359_200.0  # 2026-06-13 14:00:00 UTC
SERVICES = ["api", "database", "real-time"]


def sample(**overrides):
    row = {"service": "api", "metric": "cpu_pct", "ts": NOW - 10, "value": 42.5}
    row.update(overrides)
    return {k: v for k, v in row.items() if v is not DROP}


DROP = object()


def parse(payload):
    return parse_json_samples(payload, services=SERVICES, now_s=NOW)


def parse_text(text):
    return parse_prometheus_text(text, services=SERVICES, now_s=NOW)


def rejection(call, payload) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        call(payload)
    return info.value


# ---------------------------------------------------------------- JSON: accepted forms
def test_a_list_and_a_samples_object_give_the_same_batch():
    rows = [sample(), sample(service="database", metric="memory_pct", ts=NOW - 5, value=7)]
    as_list, as_object = parse(rows), parse({"samples": rows})
    expected = [("api", "cpu_pct", NOW - 10, 42.5), ("database", "memory_pct", NOW - 5, 7.0)]
    assert as_list.rows() == expected and as_object.rows() == expected
    assert as_list.ts.dtype == np.float64 and as_list.value.dtype == np.float64


@pytest.mark.parametrize("ts, expected", [
    (NOW - 60, NOW - 60),                                   # integer-valued float seconds
    (int(NOW) - 60, NOW - 60),                               # int seconds
    (NOW - 0.25, NOW - 0.25),                                # sub-second
    ("2026-06-13T13:59:00Z", NOW - 60),                      # ISO 8601, Z
    ("2026-06-13T15:59:00+02:00", NOW - 60),                 # ISO 8601, offset
    ("2026-06-13T13:59:00.500+00:00", NOW - 59.5),           # fractional seconds
    ("2026-06-13 13:59:00Z", NOW - 60),                      # space separator
    ("20260613T135900Z", NOW - 60),                          # basic format
])
def test_timestamps_in_epoch_seconds_or_iso_8601_with_a_zone(ts, expected):
    assert parse([sample(ts=ts)]).ts.tolist() == [expected]


def test_repeated_iso_strings_and_mixed_timestamp_kinds_in_one_batch():
    rows = [sample(ts="2026-06-13T13:59:00Z", metric=m) for m in METRIC_IDS] + [sample(ts=NOW - 1)]
    batch = parse(rows)
    assert batch.ts.tolist() == [NOW - 60] * len(METRIC_IDS) + [NOW - 1]
    assert batch.metric.tolist() == list(METRIC_IDS) + ["cpu_pct"]


def test_an_empty_batch_is_valid_and_empty():
    assert len(parse([])) == 0 and len(parse({"samples": []})) == 0


def test_window_edges_are_inclusive():
    batch = parse([sample(ts=NOW + MAX_FUTURE_S), sample(ts=NOW - MAX_PAST_S)])
    assert batch.ts.tolist() == [NOW + MAX_FUTURE_S, NOW - MAX_PAST_S]


def test_extra_keys_in_a_sample_are_ignored():
    assert parse([{**sample(), "unit": "%"}]).rows() == [("api", "cpu_pct", NOW - 10, 42.5)]


# ---------------------------------------------------------------- JSON: every validation error
@pytest.mark.parametrize("overrides, field, words", [
    ({"service": "ghost"}, "service", "'ghost' is unknown"),
    ({"service": 7}, "service", "must be text"),
    ({"service": ["api"]}, "service", "must be text, got a list"),
    ({"service": DROP}, "service", "is missing"),
    ({"service": None}, "service", "is missing"),
    ({"metric": "cpu"}, "metric", "'cpu' is unknown"),
    ({"metric": DROP}, "metric", "is missing"),
    ({"value": float("nan")}, "value", "not a finite number"),
    ({"value": float("inf")}, "value", "not a finite number"),
    ({"value": -float("inf")}, "value", "not a finite number"),
    ({"value": 10 ** 400}, "value", "not a finite number"),
    ({"value": "42"}, "value", "must be a number, got text"),
    ({"value": True}, "value", "must be a number, got a boolean"),
    ({"value": DROP}, "value", "is missing"),
    ({"value": None}, "value", "is missing"),
    ({"ts": DROP}, "ts", "is missing"),
    ({"ts": "yesterday"}, "ts", "neither a number of Unix seconds nor ISO 8601"),
    ({"ts": "1781359200"}, "ts", "neither a number of Unix seconds nor ISO 8601"),
    ({"ts": "2026-06-13T13:59:00"}, "ts", "has no zone"),
    ({"ts": "2026-06-13"}, "ts", "has no zone"),
    ({"ts": False}, "ts", "got a boolean"),
    ({"ts": {"s": 1}}, "ts", "got an object"),
    ({"ts": float("nan")}, "ts", "not a finite number"),
    ({"ts": NOW + MAX_FUTURE_S + 1}, "ts", "in the future"),
    ({"ts": NOW * 1000}, "ts", "milliseconds sent as seconds?"),
    ({"ts": NOW - MAX_PAST_S - 1}, "ts", "days old"),
    ({"ts": "2026-06-01T00:00:00Z"}, "ts", "12.6 days old"),
    ({"ts": "2026-06-13T15:00:00+00:00"}, "ts", "3600 s in the future"),
])
def test_each_invalid_field_is_named_with_the_sample_index(overrides, field, words):
    rows = [sample(), sample(), sample(**overrides)]
    error = rejection(parse, rows)
    assert error.message.startswith(f"sample 2: {field} ") and words in error.message
    assert "whole batch was rejected" in error.message
    problem = error.details["problems"][0]
    assert problem["index"] == 2 and problem["field"] == field and words in problem["problem"]
    assert error.details["problem_count"] == 1 and error.details["invalid_sample_count"] == 1
    assert error.details["sample_count"] == 3


@pytest.mark.parametrize("item, words", [(5, "got int"), ("api", "got text"), (None, "got NoneType"),
                                         ([1, 2], "got a list")])
def test_a_sample_that_is_not_an_object_is_one_problem(item, words):
    error = rejection(parse, [sample(), item])
    assert error.message.startswith("sample 1: must be an object") and words in error.message
    assert error.details["problems"] == [{"index": 1, "field": "sample", "problem": error.details["problems"][0]
                                          ["problem"]}]


@pytest.mark.parametrize("payload", [{"rows": []}, {"samples": {"a": 1}}, "samples", 42, None])
def test_a_payload_of_the_wrong_shape_is_refused(payload):
    error = rejection(parse, payload)
    assert "list of samples" in error.message and not isinstance(error, TooManySamples)


def test_more_than_the_limit_is_a_distinct_error_and_the_limit_itself_is_fine():
    rows = [sample()] * MAX_SAMPLES
    assert len(parse(rows)) == MAX_SAMPLES
    for payload in (rows + [sample()], {"samples": rows + [sample()]}):
        with pytest.raises(TooManySamples) as info:
            parse(payload)
        assert info.value.code == "payload_too_large"
        assert info.value.details == {"sample_count": MAX_SAMPLES + 1, "limit": MAX_SAMPLES}


def test_too_many_invalid_samples_still_answer_413_not_422():
    with pytest.raises(TooManySamples):
        parse([{"junk": 1}] * (MAX_SAMPLES + 1))


def test_all_or_nothing_one_bad_sample_rejects_the_batch():
    rows = [sample(ts=NOW - i) for i in range(500)]
    rows[321] = sample(service="ghost")
    error = rejection(parse, rows)
    assert "sample 321" in error.message and error.details["invalid_sample_count"] == 1


def test_problems_are_ordered_by_sample_then_field_capped_and_counted():
    rows = [sample() for _ in range(40)]
    for i in range(5, 40):
        rows[i] = sample(service="ghost", value=float("nan"))
    rows[2] = sample(ts="nope")
    error = rejection(parse, rows)
    problems = error.details["problems"]
    assert len(problems) == MAX_REPORTED_PROBLEMS
    assert [(p["index"], p["field"]) for p in problems[:3]] == [(2, "ts"), (5, "service"), (5, "value")]
    assert error.details["problem_count"] == 1 + 35 * 2 and error.details["invalid_sample_count"] == 36
    assert error.message.startswith("sample 2: ts ") and "(and 70 more problem(s) in 36 sample(s))" in error.message


def test_every_problem_of_one_sample_is_reported():
    error = rejection(parse, [{"service": "x", "ts": "bad", "value": "y"}])
    assert [p["field"] for p in error.details["problems"]] == ["service", "metric", "ts", "value"]


def test_a_missing_field_among_good_samples_does_not_disturb_the_others():
    rows = [sample(), {"service": "api", "metric": "cpu_pct", "value": 1.0}, sample(value=float("inf"))]
    error = rejection(parse, rows)
    assert [(p["index"], p["field"]) for p in error.details["problems"]] == [(1, "ts"), (2, "value")]


def test_services_are_configurable_and_metric_ids_are_the_default():
    batch = parse_json_samples([sample(service="billing")], services=["billing"], now_s=NOW)
    assert batch.service.tolist() == ["billing"]
    error = rejection(lambda p: parse_json_samples(p, services=["billing"], now_s=NOW), [sample()])
    assert "expected one of: billing" in error.message


# ---------------------------------------------------------------- Prometheus text
EXPOSITION = """# HELP cpu_pct CPU utilisation, percent.
# TYPE cpu_pct gauge
cpu_pct{service="api"} 42.5 1781359190000
cpu_pct{service="database"} 7 1781359195000

   # an indented comment
memory_pct{ service = "api" , } 1.5e1 1781359199999
request_rate{service="real-time"} -0 1781359200000
queue_depth{service="api"} 3
"""


def test_text_exposition_with_comments_blank_lines_and_optional_timestamps():
    batch = parse_text(EXPOSITION)
    assert batch.rows() == [
        ("api", "cpu_pct", NOW - 10, 42.5),
        ("database", "cpu_pct", NOW - 5, 7.0),
        ("api", "memory_pct", NOW - 0.001, 15.0),
        ("real-time", "request_rate", NOW, 0.0),
        ("api", "queue_depth", NOW, 3.0),                  # no timestamp: stamped now
    ]


def test_text_with_crlf_line_ends_and_no_trailing_newline():
    assert len(parse_text('cpu_pct{service="api"} 1 1781359190000\r\ncpu_pct{service="api"} 2 1781359195000')) == 2


def test_text_label_values_are_unescaped():
    error = rejection(parse_text, 'cpu_pct{service="a\\"pi\\\\"} 1 1781359190000')
    assert "'a\"pi\\\\' is unknown" in error.message


def test_comments_only_and_empty_text_are_empty_batches():
    assert len(parse_text("")) == 0 and len(parse_text("# HELP cpu_pct x\n\n# TYPE cpu_pct gauge\n")) == 0


@pytest.mark.parametrize("line, field, words", [
    ('cpu_pct{service="ghost"} 1 1781359190000', "service", "'ghost' is unknown"),
    ('process_cpu_seconds_total{service="api"} 1 1781359190000', "metric", "is unknown"),
    ('cpu_pct 1 1781359190000', "service", "is missing"),
    ('cpu_pct{} 1 1781359190000', "service", "is missing"),
    ('cpu_pct{service="api",pod="x-1"} 1 1781359190000', "labels", "pod not accepted"),
    ('cpu_pct{service="api",service="db"} 1 1781359190000', "labels", "malformed"),
    ('cpu_pct{service="api" pod="x"} 1 1781359190000', "labels", "malformed"),
    ('cpu_pct{service=api} 1 1781359190000', "labels", "malformed"),
    ('cpu_pct{service="api"} NaN 1781359190000', "value", "not a finite number"),
    ('cpu_pct{service="api"} +Inf 1781359190000', "value", "not a finite number"),
    ('cpu_pct{service="api"} abc 1781359190000', "value", "is not a number: 'abc'"),
    ('cpu_pct{service="api"} 1 1781359190000.5', "ts", "must be integer milliseconds"),
    ('cpu_pct{service="api"} 1 1781359200', "ts", "days old"),              # seconds sent as ms
    ('cpu_pct{service="api"} 1 1781359900000', "ts", "in the future"),
    ('cpu_pct{service="api"} 1 1781359190000 extra', "line", "is not `metric_id"),
    ('cpu_pct{service="api" 1 1781359190000', "line", "is not `metric_id"),
    ('{service="api"} 1 1781359190000', "line", "is not `metric_id"),
    ('cpu_pct{service="api"}', "line", "is not `metric_id"),
])
def test_each_invalid_line_is_named_with_index_and_line_number(line, field, words):
    text = "# TYPE cpu_pct gauge\ncpu_pct{service=\"api\"} 1 1781359190000\n\n" + line + "\n"
    error = rejection(parse_text, text)
    assert error.message.startswith("sample 1 (line 4): ") and words in error.message
    problem = error.details["problems"][0]
    assert (problem["index"], problem["line"], problem["field"]) == (1, 4, field)
    assert words in problem["problem"] and error.details["invalid_sample_count"] == 1


def test_a_malformed_line_is_one_problem_not_five():
    error = rejection(parse_text, "this is not a sample at all\n")
    assert error.details["problem_count"] == 1 and error.details["problems"][0]["field"] == "line"


def test_text_is_all_or_nothing_and_reports_every_bad_line():
    good = 'cpu_pct{service="api"} 1 1781359190000'
    lines = [good] * 10
    lines[3] = 'cpu_pct{service="ghost"} 1 1781359190000'
    lines[7] = 'bogus{service="api"} 1 1781359190000'
    error = rejection(parse_text, "# HELP x\n" + "\n".join(lines))
    assert [(p["index"], p["line"], p["field"]) for p in error.details["problems"]] == [
        (3, 5, "service"), (7, 9, "metric")]


def test_too_many_text_lines_is_the_distinct_error_and_comments_do_not_count():
    line = 'cpu_pct{service="api"} 1 1781359190000\n'
    assert len(parse_text("# c\n" * 50 + line * MAX_SAMPLES)) == MAX_SAMPLES
    with pytest.raises(TooManySamples):
        parse_text(line * (MAX_SAMPLES + 1))


def test_json_and_text_agree_on_the_same_samples():
    rows = [sample(service=s, metric=m, ts=NOW - 5 * k, value=k * 1.5)
            for k, (s, m) in enumerate((s, m) for s in SERVICES for m in METRIC_IDS)]
    text = "\n".join(f'{r["metric"]}{{service="{r["service"]}"}} {r["value"]!r} {int(round(r["ts"] * 1000))}'
                     for r in rows)
    assert parse(rows).rows() == parse_text(text).rows()
    assert all(math.isfinite(v) for v in parse(rows).value)
