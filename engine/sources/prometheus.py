"""Metrics from a Prometheus server: one PromQL range query per service and metric.

Each ``collect(now)`` asks ``GET {base_url}/api/v1/query_range`` for every configured query,
from where that query's previous answer ended to ``now``, on a grid of ``step_s`` seconds
aligned to multiples of ``step_s`` (so points fall on the store's 5 s buckets and no point is
returned twice). The first call reaches back ``lookback_s`` (5 minutes).

Choices DESIGN.md leaves open:

- several series in one answer (a query without ``sum(...)``) are **summed** per timestamp:
  a query configured for a service and metric is expected to describe the whole service, and
  request rates, queue depths and instance counts add up across pods. Write the aggregation
  into the PromQL (``avg(...)``, ``max(...)``) where a sum is wrong, e.g. for CPU %;
- ``NaN`` and ``±Inf`` points are skipped (before summing), as are native-histogram series;
- a query that fails keeps its position and is asked again from there at the next call, so a
  short outage leaves no hole; the catch-up reaches back at most ``MAX_POINTS - 1`` steps
  (Prometheus answers at most 11,000 points per series);
- ``collect`` never raises: HTTP errors, timeouts, ``"status": "error"`` answers and malformed
  bodies are recorded per query in ``query_errors`` and summarised in ``last_error``, and the
  samples of the queries that did answer are returned;
- a transport failure (connection refused, timeout, hang-up) ends the round: the remaining
  queries are not asked until the next call, so a dead server costs one timeout per
  ``collect``, not one per query, and the engine's tick is not held up for minutes. An error
  *answer* concerns one query only, and the round goes on.

``timeout_s`` bounds the connection and each read of the default HTTP client, not the whole
request; a query is evaluated by Prometheus at each grid point using its usual 5-minute
look-back, so a late scrape is only visible in points evaluated after it arrived.
"""

from __future__ import annotations

import http.client
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any, Callable, Mapping

import numpy as np

from engine.clock import to_epoch_s
from engine.sources.base import SampleBatch

HttpGet = Callable[[str, float], tuple[int, bytes]]
SeriesKey = tuple[str, str]

MAX_POINTS = 11_000
_BODY_EXCERPT = 200


class PrometheusError(Exception):
    """A query failed: the HTTP request, or Prometheus's answer (message is one line)."""


def urllib_get(url: str, timeout_s: float) -> tuple[int, bytes]:
    """Return ``(status, body)`` of ``GET url`` with the standard library.

    HTTP error statuses are returned, not raised (Prometheus puts its error JSON in them).

    Raises
    ------
    OSError
        On connection failures and timeouts (``urllib.error.URLError``, ``TimeoutError``);
        ``http.client.HTTPException`` when the server hangs up mid-answer.
    """
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read()
        except OSError:
            body = b""
        finally:
            exc.close()
        return exc.code, body


class PrometheusSource:
    """``MetricSource`` polling Prometheus's HTTP API with one PromQL query per series.

    Parameters
    ----------
    base_url : str
        Prometheus root, e.g. ``"http://prometheus:9090"``.
    queries : dict of (service, metric) to str
        The PromQL expression giving each series.
    step_s : float, default 5
        Query resolution, seconds.
    timeout_s : float, default 5
        Per-request timeout handed to ``http_get``, seconds.
    http_get : callable, optional
        ``http_get(url, timeout_s) -> (status, body_bytes)``, raising ``OSError`` on transport
        failures; ``urllib_get`` by default.
    lookback_s : float, default 300
        How far back the first call reaches, seconds.

    Attributes
    ----------
    last_success_ts : float or None
        Unix seconds of the latest ``collect`` in which at least one query answered.
    last_error : str or None
        Summary of the failures of the latest ``collect`` that asked anything; None once a
        ``collect`` answered every query it asked.
    query_errors : dict of (service, metric) to str
        The queries failing at the latest ``collect``, with their error.
    """

    name = "prometheus"

    def __init__(self, base_url: str, queries: Mapping[SeriesKey, str], *, step_s: float = 5.0,
                 timeout_s: float = 5.0, http_get: HttpGet | None = None, lookback_s: float = 300.0):
        self.base_url = base_url.rstrip("/")
        self.queries = dict(queries)
        self.step_s = float(step_s)
        self.timeout_s = float(timeout_s)
        self.lookback_s = float(lookback_s)
        self._http_get = http_get or urllib_get
        self._next_start_s: dict[SeriesKey, float] = {}
        self.last_success_ts: float | None = None
        self.last_error: str | None = None
        self.query_errors: dict[SeriesKey, str] = {}

    def collect(self, now: datetime) -> SampleBatch:
        """Return the points of every query since its previous answer, up to ``now`` (never raises)."""
        now_s = to_epoch_s(now)
        end_s = math.floor(now_s / self.step_s) * self.step_s
        batches, errors, answered, unreachable = [], {}, 0, None
        for (service, metric), promql in self.queries.items():
            start_s = self._start_for((service, metric), end_s)
            if start_s > end_s:
                continue  # no new grid point since the previous answer
            if unreachable is not None:
                errors[(service, metric)] = f"not asked: the server is unreachable ({unreachable})"
                continue
            try:
                ts, values = self.query_range(promql, start_s, end_s)
            except Exception as exc:  # noqa: BLE001 — collect never raises; the error is recorded
                errors[(service, metric)] = _describe(exc)
                if isinstance(exc, (OSError, http.client.HTTPException)):
                    unreachable = errors[(service, metric)]  # don't wait one timeout per query
                continue
            answered += 1
            self._next_start_s[(service, metric)] = end_s + self.step_s
            batches.append(SampleBatch(np.full(len(ts), service, dtype=object),
                                       np.full(len(ts), metric, dtype=object), ts, values))
        self._record_health(now_s, answered, errors)
        return SampleBatch.concat(batches)

    def query_range(self, promql: str, start_s: float, end_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(ts, value)`` of ``promql`` evaluated every ``step_s`` from ``start_s`` to ``end_s``.

        Series are summed per timestamp; non-finite points are skipped. ``ts`` is sorted.

        Raises
        ------
        PrometheusError
            For an error status, a ``"status": "error"`` answer or a malformed body.
        OSError
            When ``http_get`` cannot reach the server (including timeouts).
        """
        params = {"query": promql, "start": _seconds(start_s), "end": _seconds(end_s),
                  "step": _seconds(self.step_s)}
        status, body = self._http_get(f"{self.base_url}/api/v1/query_range?{urllib.parse.urlencode(params)}",
                                      self.timeout_s)
        return sum_matrix(_answer_data(status, body))

    def _start_for(self, key: SeriesKey, end_s: float) -> float:
        if key not in self._next_start_s:  # the first attempt fixes where the query starts
            self._next_start_s[key] = math.ceil((end_s - self.lookback_s) / self.step_s) * self.step_s
        return max(self._next_start_s[key], end_s - (MAX_POINTS - 1) * self.step_s)

    def _record_health(self, now_s: float, answered: int, errors: dict[SeriesKey, str]) -> None:
        self.query_errors = errors
        if answered:
            self.last_success_ts = now_s
        if errors:
            (service, metric), first = next(iter(errors.items()))
            self.last_error = (f"{len(errors)} of {len(errors) + answered} queries failed; "
                               f"{service}/{metric}: {first}")
        elif answered:
            self.last_error = None


def _answer_data(status: int, body: bytes) -> Mapping[str, Any]:
    """Return the ``data`` of a successful Prometheus API answer; raise ``PrometheusError`` otherwise."""
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        excerpt = body[:_BODY_EXCERPT].decode("utf-8", "replace").strip()
        raise PrometheusError(f"HTTP {status}: not a Prometheus API answer: {excerpt!r}")
    if doc.get("status") != "success":
        raise PrometheusError(f"HTTP {status}: {doc.get('errorType', 'error')}: {doc.get('error', '(no message)')}")
    if status != 200:
        raise PrometheusError(f"HTTP {status}")
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        kind = data.get("resultType") if isinstance(data, dict) else None
        raise PrometheusError(f"expected a matrix result, got {kind!r}")
    return data


def sum_matrix(data: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(ts, value)``: the series of a ``"matrix"`` result summed per timestamp.

    Non-finite points (``"NaN"``, ``"+Inf"``) are skipped; series without ``values`` (native
    histograms) are ignored.

    Raises
    ------
    PrometheusError
        When a point is not ``[unix_seconds, "number"]``.
    """
    ts_parts, value_parts = [], []
    for series in data.get("result") or ():
        points = series.get("values") if isinstance(series, dict) else None
        if not points:
            continue
        try:
            ts_parts.append(np.array([p[0] for p in points], dtype=np.float64))
            value_parts.append(np.array([p[1] for p in points], dtype=np.float64))
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            raise PrometheusError(f"malformed point in the result: {exc}") from None
    if not ts_parts:
        return np.empty(0), np.empty(0)
    ts, values = np.concatenate(ts_parts), np.concatenate(value_parts)
    keep = np.isfinite(ts) & np.isfinite(values)
    stamps, slot = np.unique(ts[keep], return_inverse=True)
    return stamps, np.bincount(slot, weights=values[keep], minlength=len(stamps))


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _describe(exc: Exception) -> str:
    if isinstance(exc, PrometheusError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"
