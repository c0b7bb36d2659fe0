"""Rate limits (Flask-Limiter) per token or user and per route class.

Defaults (DESIGN.md): monitoring reads 100/min, health 60/min, scaling and alert actions
10/min, metric push 6,000/min, counted per API token, else per signed-in user, else per
address. Counters live in memory, or in Redis when ``WEDSCALE_REDIS_URL`` is set, so all
workers share them. ``Settings.rate_limits`` overrides a class: the ``[rate_limits]`` table of
the ``WEDSCALE_CONFIG`` file, then ``WEDSCALE_RATE_LIMITS="monitoring=100000/minute"`` over it
(``engine.settings.load_settings``); it is the only place limits are read from.
Every ``/api`` endpoint must belong to a class: ``install_rate_limits`` refuses to start
otherwise, so a new route cannot slip through unlimited.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_login import current_user

from engine.config_model import ConfigError, rate_limit_problem

DEFAULT_LIMITS = {"monitoring": "100/minute", "health": "60/minute", "actions": "10/minute",
                  "push": "6000/minute"}
ROUTE_CLASSES = {
    "healthz": "health",
    "readyz": "health",
    "api.realtime_metrics": "monitoring",
    "api.scalability_status": "monitoring",
    "api.list_alerts": "monitoring",
    "api.list_decisions": "monitoring",
    "api.audit_list": "monitoring",
    "api.audit_export": "monitoring",
    "api.scale_action": "actions",
    "api.approve_decision": "actions",
    "api.reject_decision": "actions",
    "api.release_pin": "actions",
    "api.acknowledge_alert": "actions",
    "api.silence_alert": "actions",
    "api.take": "actions",
    "api.revoke": "actions",
    "api.push_metrics": "push",
    "api.list_weddings": "monitoring",
    "api.create_wedding": "actions",
    "api.update_wedding": "actions",
    "api.cancel_wedding": "actions",
    "api.openapi_json": "monitoring",
    "api.api_docs": "monitoring",
    "api.import_wedding_csv": "actions",
    "api.export_wedding_ics": "monitoring",
    "api.request_prescale": "actions",
    "api.create_prediction": "monitoring",
    "api.get_prediction": "monitoring",
    "api.prediction_accuracy": "monitoring",
}


def principal_key() -> str:
    """Count per token, else per signed-in user, else per client address."""
    if current_user.is_authenticated:
        if current_user.token_id is not None:
            return f"token:{current_user.token_id}"
        return f"user:{current_user.user_id}"
    return f"addr:{request.remote_addr or '?'}"


def checked_limits(settings) -> dict[str, str]:
    """Return ``settings.rate_limits`` after the checks the file and the variable get."""
    if "rate_limits" in settings.extra:
        # Read from there once; ignoring it now would silently fall back to the defaults.
        raise ConfigError('rate limits belong in Settings.rate_limits, not Settings.extra["rate_limits"]')
    for route_class, limit in settings.rate_limits.items():
        problem = rate_limit_problem(route_class, limit)
        if problem:
            raise ConfigError(f"rate_limits.{route_class}: {problem}")
    return dict(settings.rate_limits)


def install_rate_limits(server: Flask, settings) -> Limiter:
    """Attach Flask-Limiter to ``server`` and limit every classified endpoint.

    Raises
    ------
    ConfigError
        One line naming a bad class or limit in ``settings.rate_limits`` (settings built in
        code skip the checks of ``load_settings``), or limits left in ``settings.extra``.
    """
    limits = {**DEFAULT_LIMITS, **checked_limits(settings)}
    storage = settings.redis_url or "memory://"
    limiter = Limiter(principal_key, app=server, storage_uri=storage, headers_enabled=True,
                      key_prefix=settings.redis_prefix + "limits",
                      in_memory_fallback_enabled=bool(settings.redis_url))
    unclassified = [e for e in server.view_functions if e.startswith("api.") and e not in ROUTE_CLASSES]
    if unclassified:
        raise RuntimeError(f"API endpoints without a rate-limit class: {', '.join(sorted(unclassified))}")
    for endpoint, cls in ROUTE_CLASSES.items():
        view = server.view_functions[endpoint]
        server.view_functions[endpoint] = limiter.shared_limit(limits[cls], scope=cls)(view)
    return limiter
