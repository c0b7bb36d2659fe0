"""Parse and validate pushed metric batches (``POST /api/scalability/metrics``) into a ``SampleBatch``.

Two wire formats:

- JSON, already decoded: a list of samples or ``{"samples": [...]}``; a sample is
  ``{"service", "metric", "ts", "value"}`` with ``ts`` in Unix seconds (a number) or an ISO 8601
  string with a zone (``"2026-06-13T14:00:00Z"``, ``"...+02:00"``); ``value`` a number;
- Prometheus text exposition (``text/plain; version=0.0.4``): one sample a line,
  ``cpu_pct{service="api"} 42.5 1781359200000`` — the metric id as the name, exactly one label
  ``service``, the value, and a timestamp in integer milliseconds. ``# HELP``/``# TYPE`` and
  other comment lines and blank lines are skipped.

**All or nothing.** A batch is accepted only when every sample is valid; otherwise
``InvalidInput`` is raised and nothing of the batch may be stored, so a client can fix and resend
the whole batch without creating duplicates. Its message names the first offending sample (index
counted from 0 over samples; for text also the 1-based line number) and the problem; ``details``
holds ``problems`` (the first ``MAX_REPORTED_PROBLEMS`` as ``{index, field, problem}``, plus
``line`` for text, ordered by sample then field), ``problem_count``, ``invalid_sample_count`` and
``sample_count``. More than ``MAX_SAMPLES`` samples raise ``TooManySamples`` (HTTP 413) before
anything is validated.

A sample is invalid when a field is missing or null, the service or metric is unknown, the value
is not a finite number (strings such as ``"42"`` and booleans are refused), or the timestamp is
not a number / ISO 8601 text with a zone, is not finite, lies more than ``MAX_FUTURE_S`` ahead of
``now_s`` or more than ``MAX_PAST_S`` behind it. Choices DESIGN.md leaves open:

- an empty batch is valid and yields an empty ``SampleBatch``;
- a Prometheus line without a timestamp is stamped ``now_s`` (the exposition format's "time of
  ingestion"); labels other than ``service`` are refused rather than ignored, because two series
  differing only by an ignored label would silently be averaged into one.
"""

from __future__ import annotations

import re
from datetime import datetime
from operator import itemgetter
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from engine.errors import InvalidInput
from engine.services import METRIC_IDS
from engine.sources.base import SampleBatch
from engine.sources.push_checks import (MAX_FUTURE_S, MAX_PAST_S, MAX_REPORTED_PROBLEMS, MAX_SAMPLES, MISSING,
                                        SKIPPED, Findings, TooManySamples, checked_batch, kind)

__all__ = ["FIELDS", "MAX_FUTURE_S", "MAX_PAST_S", "MAX_REPORTED_PROBLEMS", "MAX_SAMPLES", "TooManySamples",
           "parse_json_samples", "parse_prometheus_text"]

FIELDS = ("service", "metric", "ts", "value")

_GET_FIELDS = itemgetter(*FIELDS)
_NUMBER_TYPES = frozenset({int, float})
# "Unrolled" label block (runs of plain characters between quoted strings): 5x faster than an
# alternation per character, and a "}" inside a quoted label value does not end the block.
_LINE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)[ \t]*(?:\{([^"}]*(?:"[^"\\]*(?:\\.[^"\\]*)*"[^"}]*)*)\})?'
                   r'[ \t]+(\S+)(?:[ \t]+(\S+))?')
_LABEL = re.compile(r'[ \t]*([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=[ \t]*"((?:[^"\\]|\\.)*)"[ \t]*(,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


# ---------------------------------------------------------------------------------- JSON
def parse_json_samples(payload: Any, *, services: Sequence[str], now_s: float,
                       metrics: Sequence[str] = METRIC_IDS) -> SampleBatch:
    """Return the samples of a decoded JSON push as a ``SampleBatch`` (all or nothing).

    Parameters
    ----------
    payload : list or dict
        A list of sample objects, or ``{"samples": [...]}``.
    services : sequence of str
        Known service ids.
    now_s : float
        The receive time, Unix seconds: bounds the accepted timestamps.
    metrics : sequence of str, default ``METRIC_IDS``
        Known metric ids.

    Returns
    -------
    SampleBatch
        In the order received; ``ts`` in Unix seconds.

    Raises
    ------
    TooManySamples
        More than ``MAX_SAMPLES`` samples.
    InvalidInput
        The payload has the wrong shape, or any sample is invalid (see the module notes).
    """
    samples = _sample_list(payload)
    n = len(samples)
    if n == 0:
        return SampleBatch.empty()
    findings = Findings(n)
    try:
        service, metric, ts, value = zip(*map(_GET_FIELDS, samples))
    except (KeyError, TypeError):
        service, metric, ts, value = _columns_slowly(samples, findings)
    ts_s = _numbers(ts, "ts", findings, _parse_iso)
    values = _numbers(value, "value", findings, None)
    return checked_batch(findings, service, metric, ts_s, values, services, metrics, now_s, None)


def _sample_list(payload: Any) -> Sequence[Any]:
    samples = payload.get("samples", MISSING) if isinstance(payload, Mapping) else payload
    if not isinstance(samples, (list, tuple)):
        raise InvalidInput('the body must be a JSON list of samples or {"samples": [...]}',
                           {"field": "samples"})
    if len(samples) > MAX_SAMPLES:
        raise TooManySamples(f"{len(samples)} samples in one request; at most {MAX_SAMPLES} are accepted",
                             {"sample_count": len(samples), "limit": MAX_SAMPLES})
    return samples


def _columns_slowly(samples: Sequence[Any], findings: Findings) -> tuple[list, list, list, list]:
    """Return the four columns, marking non-objects and absent or null fields."""
    columns: tuple[list, list, list, list] = ([], [], [], [])
    not_object = np.zeros(len(samples), dtype=bool)
    for i, sample in enumerate(samples):
        if not isinstance(sample, Mapping):
            not_object[i] = True
            for column in columns:
                column.append(SKIPPED)
            continue
        for column, name in zip(columns, FIELDS):
            item = sample.get(name)
            column.append(MISSING if item is None else item)
    findings.add("sample", not_object, lambda i: (f"must be an object with {', '.join(FIELDS)}, "
                                                 f"got {kind(samples[i])}"))
    return columns


def _numbers(column: Sequence[Any], field: str, findings: Findings,
             parse_text: Callable[[str], float | str] | None) -> np.ndarray:
    """Return ``column`` as float64; unusable items become NaN and are recorded as problems.

    ``parse_text`` turns a string into a number or a problem text; None refuses strings.
    """
    if set(map(type, column)) <= _NUMBER_TYPES:
        try:
            return np.array(column, dtype=np.float64)
        except OverflowError:  # an integer beyond float range: described below
            pass
    out = np.full(len(column), np.nan)
    problems: dict[int, str] = {}
    parsed: dict[str, float | str] = {}  # time-major batches repeat each timestamp string
    for i, item in enumerate(column):
        if item is SKIPPED:
            continue
        if item is MISSING or item is None:
            problems[i] = "is missing"
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            try:
                out[i] = float(item)
            except OverflowError:
                problems[i] = "is not a finite number"
        elif isinstance(item, str) and parse_text is not None:
            result = parsed[item] if item in parsed else parsed.setdefault(item, parse_text(item))
            if isinstance(result, str):
                problems[i] = result
            else:
                out[i] = result
        else:
            expected = "a number (Unix seconds) or ISO 8601 text" if parse_text else "a number"
            problems[i] = f"must be {expected}, got {kind(item)}"
    bad = np.zeros(len(column), dtype=bool)
    bad[list(problems)] = True
    findings.add(field, bad, problems.__getitem__)
    return out


def _parse_iso(text: str) -> float | str:
    """Return Unix seconds of ISO 8601 ``text`` with a zone, or the problem as text."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return f"is neither a number of Unix seconds nor ISO 8601 text: {text[:40]!r}"
    if when.tzinfo is None:
        return f"has no zone: {text[:40]!r} (append Z or an offset such as +00:00)"
    return when.timestamp()


# ---------------------------------------------------------------------------------- Prometheus text
def parse_prometheus_text(text: str, *, services: Sequence[str], now_s: float,
                          metrics: Sequence[str] = METRIC_IDS) -> SampleBatch:
    """Return the samples of a Prometheus text exposition (version 0.0.4) push (all or nothing).

    Each sample line is ``metric_id{service="api"} value [timestamp_ms]``; comments (``#``)
    and blank lines are skipped. A line without a timestamp is stamped ``now_s``.

    Parameters
    ----------
    text : str
        The request body.
    services : sequence of str
        Known service ids.
    now_s : float
        The receive time, Unix seconds.
    metrics : sequence of str, default ``METRIC_IDS``
        Known metric ids (the accepted metric names).

    Returns
    -------
    SampleBatch
        In line order; ``ts`` in Unix seconds.

    Raises
    ------
    TooManySamples
        More than ``MAX_SAMPLES`` sample lines.
    InvalidInput
        Any line is malformed or any sample invalid; problems carry ``index`` (sample number
        from 0) and ``line`` (line number from 1).
    """
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)]
    lines = [(number, line) for number, line in lines if line and not line.startswith("#")]
    if len(lines) > MAX_SAMPLES:
        raise TooManySamples(f"{len(lines)} samples in one request; at most {MAX_SAMPLES} are accepted",
                             {"sample_count": len(lines), "limit": MAX_SAMPLES})
    if not lines:
        return SampleBatch.empty()
    n = len(lines)
    findings = Findings(n)
    names: list[Any] = [SKIPPED] * n
    service: list[Any] = [SKIPPED] * n
    value_texts: list[str] = ["nan"] * n
    ts_texts: list[str | None] = [None] * n
    problems: dict[str, dict[int, str]] = {f: {} for f in ("line", "labels", "ts", "value")}
    label_sets: dict[str | None, tuple[Any, str | None]] = {}  # label blocks repeat: parse each once
    for i, match in enumerate(map(_LINE.fullmatch, [line for _, line in lines])):
        if match is None:
            problems["line"][i] = f'is not `metric_id{{service="..."}} value [timestamp_ms]`: {lines[i][1][:80]!r}'
            continue
        names[i], block, value_texts[i], ts_texts[i] = match.groups()
        label = label_sets.get(block) or label_sets.setdefault(block, _service_label(block))
        service[i] = label[0]
        if label[1]:
            problems["labels"][i] = label[1]
    values = _text_numbers(value_texts, np.float64, problems["value"], "is not a number:")
    stamped = np.fromiter((t is None for t in ts_texts), dtype=bool, count=n)
    ts_s = _text_numbers(["0" if t is None else t for t in ts_texts], np.int64, problems["ts"],
                         "must be integer milliseconds, got") / 1000.0
    ts_s[stamped] = now_s
    for field, found in problems.items():
        mask = np.zeros(n, dtype=bool)
        mask[list(found)] = True
        findings.add(field, mask, found.__getitem__)
    return checked_batch(findings, service, names, ts_s, values, services, metrics, now_s,
                         [number for number, _ in lines])


def _text_numbers(texts: list[Any], dtype: type, problems: dict[int, str], complaint: str) -> np.ndarray:
    """Return ``texts`` converted to ``dtype`` (as float64); unparsable ones become NaN problems."""
    try:
        return np.array(texts, dtype=dtype).astype(np.float64)
    except (ValueError, OverflowError):
        pass
    out = np.full(len(texts), np.nan)
    for i, text in enumerate(texts):
        try:
            out[i] = float(dtype(text))
        except (ValueError, OverflowError):
            problems[i] = f"{complaint} {str(text)[:40]!r}"
    return out


def _service_label(block: str | None) -> tuple[Any, str | None]:
    """Return ``(service or MISSING, problem or None)`` of a label block."""
    labels = _labels(block)
    if labels is None:
        return SKIPPED, f"are malformed: {{{(block or '')[:80]}}}"
    extra = sorted(set(labels) - {"service"})
    return labels.get("service", MISSING), (f"{', '.join(extra)} not accepted; only service is" if extra else None)


def _labels(block: str | None) -> dict[str, str] | None:
    """Return the labels of a ``{...}`` block's inside, or None when it is malformed."""
    labels: dict[str, str] = {}
    if not block or not block.strip():
        return labels
    pos = 0
    while pos < len(block):
        match = _LABEL.match(block, pos)
        if match is None or match.group(1) in labels:
            return None
        labels[match.group(1)] = re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m.group(0)], match.group(2))
        pos = match.end()
        if not match.group(3) or not block[pos:].strip():  # the end, or a trailing comma
            break
    return labels
