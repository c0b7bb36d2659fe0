"""``/metrics``: Prometheus text exposition of the console and its engine.

One registry per app (never the process-global one), so several apps in one test run do not
share counters. Request counts and latencies are observed in request hooks; engine state
(alerts by state, data age, job run ages) is read at scrape time by a custom collector.
"""

from __future__ import annotations

import hmac
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from engine.storage.models import AlertRow, JobRun


def _route_label() -> str:
    # The URL rule, not the path: /api/scalability/alerts/<int:alert_id>/ack, not one label per id.
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


class EngineCollector:
    """Reads engine state when Prometheus scrapes."""

    def __init__(self, engine):
        self.engine = engine

    def collect(self):
        engine = self.engine
        age = engine.data_age_s()
        data_age = GaugeMetricFamily("wedscale_metric_data_age_seconds",
                                     "Seconds since the newest stored metric sample")
        if age is not None:
            data_age.add_metric([], age)
        yield data_age
        alerts = GaugeMetricFamily("wedscale_alerts", "Alerts by state and severity",
                                   labels=["state", "severity"])
        jobs = GaugeMetricFamily("wedscale_job_last_run_age_seconds",
                                 "Seconds since each engine job last ran (any worker)", labels=["job"])
        try:
            with engine.db.session() as session:
                for state, severity, n in session.execute(
                        select(AlertRow.state, AlertRow.severity, func.count())
                        .group_by(AlertRow.state, AlertRow.severity)):
                    alerts.add_metric([state, severity], n)
                now = engine.clock.now()
                for job, last in session.execute(select(JobRun.job, func.max(JobRun.started_at))
                                                 .group_by(JobRun.job)):
                    jobs.add_metric([job], (now - last).total_seconds())
        except Exception:  # the database being down must not break the scrape
            pass
        yield alerts
        yield jobs
        runner = engine.state.get("runner")
        leader = GaugeMetricFamily("wedscale_engine_leader", "1 when this process runs the engine jobs")
        leader.add_metric([], 1.0 if runner is not None and runner.is_leader else 0.0)
        yield leader


def register_exposition(server: Flask, engine) -> None:
    """Add request instrumentation and the ``/metrics`` route to ``server``."""
    registry = CollectorRegistry()
    requests = Counter("wedscale_http_requests", "HTTP requests by route, method and status",
                       ["route", "method", "status"], registry=registry)
    latency = Histogram("wedscale_http_request_duration_seconds", "HTTP request latency by route",
                        ["route", "method"], registry=registry)
    registry.register(EngineCollector(engine))

    @server.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @server.after_request
    def _observe(response):
        route = _route_label()
        requests.labels(route, request.method, str(response.status_code)).inc()
        # Requests refused by the access guard never reached the timer: counted, not timed.
        started = g.pop("request_started", None)
        if started is not None:
            latency.labels(route, request.method).observe(time.perf_counter() - started)
        return response

    @server.get("/metrics")
    def metrics():
        token = current_app.extensions["wedscale"].settings.metrics_token
        if token:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return Response("metrics token required\n", status=401, mimetype="text/plain")
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
