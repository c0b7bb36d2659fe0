"""Operational endpoints: ``/healthz`` (liveness + component report) and ``/readyz``;
optionally the ``X-Wedscale-Worker`` header naming the process that answered."""

from __future__ import annotations

import os

from flask import Flask, current_app, jsonify

from engine.health import UNHEALTHY, check_health
from engine.storage.schema import is_current


def register_ops(server: Flask) -> None:
    """Register the public operational routes (and the worker header when configured)."""
    if current_settings(server).worker_header:
        @server.after_request
        def _worker(response):
            # Which gunicorn worker answered: the cluster test and the load benchmark count them.
            response.headers["X-Wedscale-Worker"] = str(os.getpid())
            return response

    @server.get("/healthz")
    def healthz():
        engine = current_app.extensions["wedscale"]
        report = check_health(engine, engine.state.get("runner"))
        return jsonify(report.as_dict()), (503 if report.status == UNHEALTHY else 200)

    @server.get("/readyz")
    def readyz():
        engine = current_app.extensions["wedscale"]
        try:
            engine.db.ping()
            ready = is_current(engine.db)
            reason = "ok" if ready else "schema is not current"
        except Exception as exc:
            ready, reason = False, f"database unreachable: {type(exc).__name__}"
        return jsonify({"ready": ready, "reason": reason}), (200 if ready else 503)


def current_settings(server: Flask):
    """Return the Settings of the engine wired into ``server``."""
    return server.extensions["wedscale"].settings
