"""Monitoring reads: live metric series and per-service status."""

from __future__ import annotations

from flask import current_app, jsonify

from app.access import require
from app.api import bp, schemas
from app.api.docs import documented
from app.api.params import csv_list, flag, number
from engine.clock import to_epoch_s
from engine.security.permissions import Permission
from engine.services import METRIC_IDS
from engine.weddings import active_weddings, next_weddings

DEFAULT_WINDOW_S = 15 * 60
MAX_POINTS = 2000


def _engine():
    return current_app.extensions["wedscale"]


def _wedding_json(w) -> dict:
    return {"id": w.id, "name": w.name, "ceremonyStart": w.ceremony_start.isoformat(),
            "receptionStart": w.reception_start.isoformat(), "receptionEnd": w.reception_end.isoformat(),
            "windowStart": w.window_start.isoformat(), "windowEnd": w.window_end.isoformat(),
            "guestCount": w.guest_count, "priority": w.priority, "large": w.is_large}


def _wedding_context(engine) -> dict:
    now = engine.clock.now()
    weddings = engine.calendar.all()
    return {"active": [_wedding_json(w) for w in active_weddings(weddings, now)],
            "next": [_wedding_json(w) for w in next_weddings(weddings, now, limit=3)]}


@bp.get("/scalability/metrics/realtime")
@documented(Permission.METRICS_READ, query=schemas.RealtimeQuerySchema,
            responses={200: schemas.RealtimeSchema})
def realtime_metrics():
    """Per service: the latest value of each metric and its points since ``since``."""
    require(Permission.METRICS_READ)
    engine = _engine()
    services = csv_list("services", engine.service_names(), engine.service_names())
    metrics = csv_list("metrics", list(METRIC_IDS), list(METRIC_IDS))
    now_s = to_epoch_s(engine.clock.now())
    since = number("since", now_s - DEFAULT_WINDOW_S)
    out = {}
    for service in services:
        latest = engine.store.latest(service)
        entry = {"latest": {m: latest[m][1] for m in metrics if m in latest}, "series": {}}
        for metric in metrics:
            ts, values = engine.store.series(service, metric, since)
            ts, values = ts[-MAX_POINTS:], values[-MAX_POINTS:]
            entry["series"][metric] = {"points": [[float(t), float(v)] for t, v in zip(ts, values)]}
        out[service] = entry
    body = {"now": now_s, "since": since, "services": out, "dataAgeSeconds": engine.data_age_s()}
    if flag("includeWeddingContext"):
        body["weddingContext"] = _wedding_context(engine)
    return jsonify(body)


@bp.get("/scalability/status")
@documented(Permission.METRICS_READ, query=schemas.StatusQuerySchema,
            responses={200: schemas.StatusSchema})
def scalability_status():
    """Per service: instances ready/pending/target, limits and the autoscaler mode."""
    require(Permission.METRICS_READ)
    engine = _engine()
    now = engine.clock.now()
    services = {}
    for spec in engine.services:
        ready, pending = engine.actuator.sizes(spec.name, now)
        services[spec.name] = {"ready": ready, "pending": pending, "target": ready + pending,
                               "min": spec.min_instances, "max": spec.max_instances,
                               "critical": spec.critical, "autoscalerMode": engine.autoscaler.policy.mode}
    body = {"now": now.isoformat(), "services": services}
    if flag("includeWeddingContext"):
        body["weddingContext"] = _wedding_context(engine)
    if flag("includeDatabase"):
        body["database"] = {"dialect": engine.db.dialect}
    return jsonify(body)
