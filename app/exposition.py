"""``/metrics``: Prometheus text exposition of the console and its engine.

One registry per app (never the process-global one), so several apps in one test run do not
share counters. Request counts and latencies (by URL rule) are observed in request hooks, per
worker. Engine state is read at scrape time by a custom collector from what every worker
shares (the database, and Redis when configured), so any worker gives the same figures:
samples ingested by path, decisions by category and status, alerts by state, job runs and
the last run's duration per job, the age of the newest verified backup, data age, leader.
"""

from __future__ import annotations

import hmac
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from engine.storage.models import AlertRow, DecisionRow, JobRun


def _route_label() -> str:
    # The URL rule, not the path: /api/scalability/alerts/<int:alert_id>/ack, not one label per id.
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


class EngineCollector:
    """Reads engine state when Prometheus scrapes; a part that cannot be read is left out."""

    def __init__(self, engine):
        self.engine = engine

    def collect(self):
        engine = self.engine
        yield from self._live()
        try:
            with engine.db.session() as session:
                families = list(self._from_database(session, engine.clock.now()))
        except Exception:  # the database being down must not break the scrape
            families = []
        yield from families
        backup = GaugeMetricFamily("wedscale_backup_age_seconds",
                                   "Seconds since the newest backup whose restore verified")
        try:
            age = engine.backups.status().rpo_s
        except Exception:  # the database is down
            age = None
        if age is not None:
            backup.add_metric([], age)
        yield backup
        runner = engine.state.get("runner")
        leader = GaugeMetricFamily("wedscale_engine_leader", "1 when this process runs the engine jobs")
        leader.add_metric([], 1.0 if runner is not None and runner.is_leader else 0.0)
        yield leader

    def _live(self):
        engine = self.engine
        data_age = GaugeMetricFamily("wedscale_metric_data_age_seconds",
                                     "Seconds since the newest stored metric sample")
        ingested = CounterMetricFamily("wedscale_samples_ingested",
                                       "Metric samples stored, by path (collect, push)", labels=["path"])
        try:
            age = engine.data_age_s()
            totals = engine.ingested.totals() if engine.ingested is not None else {}
        except Exception:  # Redis down: leave the live figures out of this scrape
            age, totals = None, {}
        if age is not None:
            data_age.add_metric([], age)
        for path in ("collect", "push"):
            ingested.add_metric([path], totals.get(path, 0))
        yield data_age
        yield ingested

    @staticmethod
    def _from_database(session, now):
        alerts = GaugeMetricFamily("wedscale_alerts", "Alerts by state and severity",
                                   labels=["state", "severity"])
        for state, severity, n in session.execute(select(AlertRow.state, AlertRow.severity, func.count())
                                                  .group_by(AlertRow.state, AlertRow.severity)):
            alerts.add_metric([state, severity], n)
        yield alerts
        decisions = CounterMetricFamily("wedscale_decisions", "Scaling decisions by category and status",
                                        labels=["category", "status"])
        for category, status, n in session.execute(select(DecisionRow.category, DecisionRow.status, func.count())
                                                   .group_by(DecisionRow.category, DecisionRow.status)):
            decisions.add_metric([category, status], n)
        yield decisions
        ages = GaugeMetricFamily("wedscale_job_last_run_age_seconds",
                                 "Seconds since each engine job last ran (any worker)", labels=["job"])
        runs = CounterMetricFamily("wedscale_job_runs", "Engine job runs by outcome (any worker)",
                                   labels=["job", "ok"])
        durations = GaugeMetricFamily("wedscale_job_last_duration_seconds",
                                      "Duration of each engine job's newest finished run", labels=["job"])
        for job, last in session.execute(select(JobRun.job, func.max(JobRun.started_at)).group_by(JobRun.job)):
            ages.add_metric([job], (now - last).total_seconds())
        for job, ok, n in session.execute(select(JobRun.job, JobRun.ok, func.count())
                                          .where(JobRun.finished_at.is_not(None)).group_by(JobRun.job, JobRun.ok)):
            runs.add_metric([job, "true" if ok else "false"], n)
        newest = select(func.max(JobRun.id)).where(JobRun.finished_at.is_not(None)).group_by(JobRun.job)
        for job, started, finished in session.execute(select(JobRun.job, JobRun.started_at, JobRun.finished_at)
                                                      .where(JobRun.id.in_(newest))):
            durations.add_metric([job], (finished - started).total_seconds())
        yield ages
        yield runs
        yield durations


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
