"""Metric push: ``POST /api/scalability/metrics`` (JSON or Prometheus text), all or nothing."""

from __future__ import annotations

from flask import current_app, jsonify, request

from app.access import require
from app.api import bp, schemas
from app.api.docs import documented
from engine.clock import to_epoch_s
from engine.errors import InvalidInput
from engine.security.permissions import Permission
from engine.sources.push import parse_json_samples, parse_prometheus_text


@bp.post("/scalability/metrics")
@documented(Permission.METRICS_PUSH,
            body={"application/json": schemas.PushBodySchema,
                  "text/plain": {"type": "string", "description": "Prometheus text exposition "
                                 "(version 0.0.4): label service, the metric id as the name, ms"}},
            responses={202: schemas.PushResultSchema}, errors=(415,))
def push_metrics():
    """Validate a batch of samples and store them all, or reject the batch naming the bad samples."""
    require(Permission.METRICS_PUSH)
    engine = current_app.extensions["wedscale"]
    services = engine.service_names()
    now_s = to_epoch_s(engine.clock.now())
    if request.mimetype == "text/plain":
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the body is not UTF-8 text") from None
        batch = parse_prometheus_text(text, services=services, now_s=now_s)
    elif request.is_json:
        payload = request.get_json(silent=True)
        if payload is None:
            raise InvalidInput("the body is not valid JSON")
        batch = parse_json_samples(payload, services=services, now_s=now_s)
    else:
        return jsonify({"error": "unsupported_media_type",
                        "message": "send application/json or text/plain; version=0.0.4",
                        "details": {}}), 415
    stored = engine.store.ingest(batch)
    engine.count_ingested("push", stored)
    return jsonify({"accepted": len(batch), "stored": stored}), 202
